"""The page a customer signs from an e-mailed link (a quote, a payment plan): no login, the
link's token is the key. The form gives a name and an e-mail address; with SMS signing on,
the first post shows the code form (``second_factor.html``) and the post after the code was
verified signs. :mod:`core.routes.signing` is the API's side of the same step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response

from core.pages import PageController, page_get, page_post, read_form, redirect, render, t_for
from core.pages.forms import REFUSED, error_of
from core.pages.routes import second_factor_context
from core.routes.signing import LinkStep, LinkToken
from core.web import PUBLIC

ShowPage = Callable[[dict[str, str], dict[str, str], int], Awaitable[Response[Any]]]
"""Shows the link's page again: ``(errors, values, status_code)``."""


async def sign_by_link_page(
    request: Request[Any, Any, Any],
    step: LinkStep,
    token: str,
    show: ShowPage,
    action: str,
    title: str,
    done: str,
) -> Response[Any]:
    """Post the signing form of link ``token`` to ``step``: a refusal shows the link's page
    again with the error (``show``), a challenge the SMS-code form that posts back to
    ``action`` (titled ``title``), success the link's page with the message ``done``.
    ``title`` and ``done`` are English message ids of the plugin's catalog."""
    form = await read_form(request)
    t = t_for(request, None)
    values = {"name": form.get("name", "")[:200], "email": form.get("email", "")[:254]}
    try:
        outcome, value = await step(
            token, values["name"], values["email"], form.get("challenge_id") or None,
            request.headers.get("user-agent", ""),
        )
    except REFUSED as exc:
        return await show(error_of(exc, t), values, getattr(exc, "status_code", 400))
    if outcome == "second_factor_required":
        context = second_factor_context(value, action, values, "sign", t.gettext(title))
        return await render(request, "second_factor.html", context, user=None)
    return redirect(action.rsplit("/", 1)[0], t.gettext(done))


ShowLink = Callable[[Request[Any, Any, Any], str, dict[str, str] | None, dict[str, str] | None, int],
                    Awaitable[Response[Any]]]
"""Shows the link's page: ``(request, token, errors, values, status_code)``."""


def link_sign_pages(
    base: str, verb: str, step: LinkStep, show: ShowLink, title: str, done: str
) -> type[PageController]:
    """The customer's pages of a link (a quote, a payment plan) under ``base``, without
    login: ``GET /{token}`` is ``show``'s page, ``POST /{token}/<verb>`` signs it through
    ``step`` (:func:`sign_by_link_page`, with ``title`` and ``done``)."""

    class LinkPages(PageController):
        path = base

        @page_get("/{token:str}", opt=PUBLIC)
        async def show(self, request: Request[Any, Any, Any], token: LinkToken) -> Response[Any]:
            return await show(request, token, None, None, 200)

        @page_post(f"/{{token:str}}/{verb}", opt=PUBLIC)
        async def sign(self, request: Request[Any, Any, Any], token: LinkToken) -> Response[Any]:
            return await sign_by_link_page(
                request, step, token, lambda errors, values, status: show(request, token, errors, values, status),
                f"{base}/{token}/{verb}", title, done,
            )

    LinkPages.__name__ = LinkPages.__qualname__ = "LinkPages" + base.replace("/", "_").replace("-", "_")
    return LinkPages
