"""The GDPR module's page: what every module stores about whom and for how long (from the
declarations and the retention settings), the signed versions of the inventory, and
signing it (with an SMS code when "GDPR inventory – SMS authentication" is on). Built on
:mod:`plugins.privacy.services`; the rest of the module (processing activities, incident
reports, GDPR contact persons) is in its API for now."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import ClientException

from core.pages import PageController, language_of, page_get, page_post, page_user, read_form, redirect, render, t_for
from core.pages.forms import error_of
from core.pages.routes import second_factor_context
from core.validation import FieldError
from plugins.privacy import services
from plugins.privacy.routes import gdpr_user


class PrivacyPages(PageController):
    path = "/privacy"

    async def _page(self, request: Request[Any, Any, Any], user: Any, errors: dict[str, str] | None = None,
                    values: dict[str, str] | None = None, status: int = 200) -> Response[Any]:
        facts = await services.system_processing(user.tenant_id)
        _total, versions = await services.list_versions(user.tenant_id, 0, 50)
        return await render(request, "privacy/index.html",
                            {"facts": list(facts.values()), "versions": versions, "errors": errors or {},
                             "values": values or {}, "lang": language_of(request, user)},
                            status_code=status, user=user)

    @page_get("/")
    async def index(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = gdpr_user(await page_user(request))
        return await self._page(request, user)

    @page_post("/sign")
    async def sign(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = gdpr_user(await page_user(request))
        form = await read_form(request)
        t = t_for(request, user)
        note = form.get("note", "")[:2000]
        try:
            version, decision = await services.sign(user, note, form.get("challenge_id") or None,
                                                    request.headers.get("user-agent", ""))
        except (FieldError, ClientException) as exc:
            errors = error_of(exc, t)
            return await self._page(request, user, {"note": next(iter(errors.values()))}, form,
                                    getattr(exc, "status_code", 400))
        if version is None and decision is not None:
            return await render(request, "second_factor.html", second_factor_context(
                decision, "/privacy/sign", {"note": note}, "sign", t.gettext("Sign the inventory")), user=user)
        return redirect("/privacy#versions", t.gettext("The inventory is signed."))


def pages() -> list[Any]:
    return [PrivacyPages]
