"""The page a customer opens from the quote's e-mail: the quote, and accepting it (with an
SMS code when the organization switched on "Quotes – SMS authentication"). The link's token
is the key; no login. Built on :mod:`plugins.quotes.services`."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response
from litestar.exceptions import ClientException
from litestar.params import PathParameter

from core.pages import PageController, page_get, page_post, read_form, redirect, render, t_for
from core.pages.forms import error_of
from core.pages.routes import second_factor_context
from core.validation import FieldError
from core.web import client_ip
from plugins.quotes import services

PUBLIC = {"public": True}
Token = Annotated[str, PathParameter(min_length=1, max_length=128)]


def _(message: str) -> str:
    return message


MESSAGES = [
    _("This quote link is not valid."),
    _("This quote is already accepted."),
    _("This quote can no longer be accepted (it is closed or past its validity date)."),
    _("write the name of the person accepting the quote"),
    _("This quote was accepted or changed a moment ago; reload it."),
]
STATUSES = {"sent": _("Waiting for your answer"), "accepted": _("Accepted"), "closed": _("Closed")}


class PublicQuotePages(PageController):
    path = "/quotes/public"

    async def _show(self, request: Request[Any, Any, Any], token: str, errors: dict[str, str] | None = None,
                    values: dict[str, str] | None = None, status: int = 200) -> Response[Any]:
        row, organization, lines = await services.view_public(token, client_ip(request))
        quote = services.quote_out(row, lines)
        return await render(
            request, "quotes/public.html",
            {"q": quote, "organization": organization, "lines": lines, "token": token,
             "can_accept": services.can_accept(row), "statuses": STATUSES,
             "errors": errors or {}, "values": values or {}},
            status_code=status, user=None,
        )

    @page_get("/{token:str}", opt=PUBLIC)
    async def show(self, request: Request[Any, Any, Any], token: Token) -> Response[Any]:
        return await self._show(request, token)

    @page_post("/{token:str}/accept", opt=PUBLIC)
    async def accept(self, request: Request[Any, Any, Any], token: Token) -> Response[Any]:
        form = await read_form(request)
        t = t_for(request, None)
        values = {"name": form.get("name", "")[:200], "email": form.get("email", "")[:254]}
        try:
            outcome, value = await services.accept_public(
                token, values["name"], values["email"], form.get("challenge_id") or None,
                request.headers.get("user-agent", ""),
            )
        except (FieldError, ClientException) as exc:
            return await self._show(request, token, error_of(exc, t), values,
                                    getattr(exc, "status_code", 400))
        if outcome == "second_factor_required":
            return await render(request, "second_factor.html", second_factor_context(
                value, f"/quotes/public/{token}/accept", values, "sign", t.gettext("Accept the quote"),
            ), user=None)
        return redirect(f"/quotes/public/{token}", t.gettext("Thank you: the quote is accepted."))


def pages() -> list[Any]:
    return [PublicQuotePages]
