"""The portal's security page, part two (#21): a portal person sets up their own
authenticator app and passkeys, as employees do on "My devices".

The portal never imports the two-factor plugin: every step goes through the core hooks
(``core.secondfactor.own_second_factors``, ``start_authenticator_app`` ...), for the person
of the portal cookie only (``_portal_user``), never an id from the form. Refusals are the
plugin's coded errors, shown in the page's language; no plugin answering is a 409 saying
the factor is not available. Forms carry the CSRF token as every portal form does; the
passkey's options are fetched by the two-factor plugin's script (``passkeys.js``) with the
page's token and posted back with the page's own form.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK

from core import secondfactor
from core.errors import GallraError
from core.errors import mark as _
from core.eventlog import log_event
from core.pages import PageController, page_post, read_form, redirect, t_for
from core.web import client_ip
from plugins.portal import services as portal
from plugins.portal.pages import LOGIN_FIRST, _page, _portal_user, _signed_in

PUBLIC = {"public": True}
NO_STORE = {"Cache-Control": "no-store"}
SECURITY = "/portal/security"
NOT_AVAILABLE = _("The authenticator app and passkeys are not available.")


async def security_page(
    request: Request[Any, Any, Any],
    who: portal.PortalUser,
    codes: list[str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    state: Any = "fetch",
) -> Response[Any]:
    """/portal/security: recovery codes, the authenticator app and passkeys."""
    if state == "fetch":
        state = await secondfactor.recovery_codes(who.tenant_id, who.person_kind, who.person_id)
    factors = await secondfactor.own_second_factors(who.tenant_id, who.person_kind, who.person_id)
    response = await _page(
        request,
        "portal/security.html",
        {"state": state, "codes": codes, "factors": factors, "errors": errors or {}},
        status,
        who,
    )
    if codes or (factors is not None and factors.app_setup is not None):
        response.headers["Cache-Control"] = "no-store"  # a key or codes shown once
    return response


def _event(request: Request[Any, Any, Any], who: portal.PortalUser, action: str) -> Any:
    return log_event(who.tenant_id, None, action, "portal", who.person_kind, who.person_id, ip=client_ip(request))


class PortalFactorPages(PageController):
    path = SECURITY

    async def _refused(
        self, request: Request[Any, Any, Any], who: portal.PortalUser, field: str, exc: Exception | None
    ) -> Response[Any]:
        t = t_for(request, None)
        if exc is None:
            return await security_page(request, who, errors={field: t.gettext(NOT_AVAILABLE)}, status=409)
        assert isinstance(exc, GallraError)
        return await security_page(request, who, errors={field: exc.text(t)}, status=exc.status)

    # --- the authenticator app ---------------------------------------------------------------

    @page_post("/app/start", opt=PUBLIC)
    async def app_start(self, request: Request[Any, Any, Any]) -> Response[Any]:
        await read_form(request)
        who = await _signed_in(request)
        try:
            setup = await secondfactor.start_authenticator_app(who.tenant_id, who.person_kind, who.person_id)
        except GallraError as exc:
            return await self._refused(request, who, "app", exc)
        if setup is None:
            return await self._refused(request, who, "app", None)
        return redirect(f"{SECURITY}#app")

    @page_post("/app/confirm", opt=PUBLIC)
    async def app_confirm(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await read_form(request)
        who = await _signed_in(request)
        try:
            done = await secondfactor.confirm_authenticator_app(
                who.tenant_id, who.person_kind, who.person_id, form.get("code", "")[:20]
            )
        except GallraError as exc:
            return await self._refused(request, who, "app", exc)
        if done is None:
            return await self._refused(request, who, "app", None)
        await _event(request, who, "portal.app_added")
        t = t_for(request, None)
        return redirect(f"{SECURITY}#app", t.gettext("The authenticator app is set up: its code is asked for first."))

    @page_post("/app/remove", opt=PUBLIC)
    async def app_remove(self, request: Request[Any, Any, Any]) -> Response[Any]:
        await read_form(request)
        who = await _signed_in(request)
        try:
            done = await secondfactor.remove_authenticator_app(who.tenant_id, who.person_kind, who.person_id)
        except GallraError as exc:
            return await self._refused(request, who, "app", exc)
        if done is None:
            return await self._refused(request, who, "app", None)
        await _event(request, who, "portal.app_removed")
        t = t_for(request, None)
        return redirect(f"{SECURITY}#app", t.gettext("The authenticator app is removed."))

    # --- passkeys ----------------------------------------------------------------------------

    @page_post("/passkeys/options", opt=PUBLIC)
    async def passkey_options(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """JSON for the script: the registration's options and single-use challenge id."""
        await read_form(request)
        t = t_for(request, None)
        who = await _portal_user(request)
        if who is None:
            return Response({"message": t.gettext(LOGIN_FIRST), "code": "portal.login_required"},
                            status_code=401, headers=NO_STORE)
        try:
            started = await secondfactor.start_passkey_registration(who.tenant_id, who.person_kind, who.person_id)
        except GallraError as exc:
            return Response({"message": exc.text(t), "code": exc.code}, status_code=exc.status, headers=NO_STORE)
        if started is None:
            return Response({"message": t.gettext(NOT_AVAILABLE), "code": "portal.factors_not_available"},
                            status_code=409, headers=NO_STORE)
        return Response({"publicKey": started.options, "challenge_id": started.challenge_id},
                        status_code=HTTP_200_OK, headers=NO_STORE)

    @page_post("/passkeys/add", opt=PUBLIC)
    async def passkey_add(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await read_form(request)
        who = await _signed_in(request)
        try:
            added = await secondfactor.finish_passkey_registration(
                who.tenant_id, who.person_kind, who.person_id, form.get("passkey_challenge", "")[:128],
                form.get("passkey", ""), form.get("name", "")[:200],
            )
        except GallraError as exc:
            field = "name" if exc.field == "name" else "passkey"
            return await self._refused(request, who, field, exc)
        if added is None:
            return await self._refused(request, who, "passkey", None)
        await _event(request, who, "portal.passkey_added")
        t = t_for(request, None)
        return redirect(f"{SECURITY}#passkeys", t.gettext("The passkey is added: from now on it is asked for first."))

    @page_post("/passkeys/{passkey_id:int}/remove", opt=PUBLIC)
    async def passkey_remove(self, request: Request[Any, Any, Any], passkey_id: FromPath[int]) -> Response[Any]:
        await read_form(request)
        who = await _signed_in(request)
        try:
            done = await secondfactor.remove_passkey(who.tenant_id, who.person_kind, who.person_id, passkey_id)
        except GallraError as exc:
            if exc.status == 404:
                raise NotFoundException("This passkey was not found.") from exc
            return await self._refused(request, who, "passkey", exc)
        if done is None:
            return await self._refused(request, who, "passkey", None)
        await _event(request, who, "portal.passkey_removed")
        t = t_for(request, None)
        return redirect(f"{SECURITY}#passkeys", t.gettext("The passkey is removed."))
