"""The page a customer opens from a payment plan's e-mail: the installments, and approving
the plan (with an SMS code when "Payment plans – SMS authentication" is on). The link's
token is the key; no login. Built on :mod:`plugins.projects.services`."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response
from litestar.exceptions import ClientException
from litestar.params import PathParameter

from core.pages import PageController, page_get, page_post, read_form, redirect, render, t_for
from core.pages.forms import error_of
from core.pages.routes import second_factor_context
from core.validation import FieldError
from plugins.projects import services

PUBLIC = {"public": True}
Token = Annotated[str, PathParameter(min_length=1, max_length=128)]


def _(message: str) -> str:
    return message


STATUSES = {"sent": _("Waiting for your answer"), "approved": _("Approved")}


class PublicPlanPages(PageController):
    path = "/projects/public/payment-plans"

    async def _show(self, request: Request[Any, Any, Any], token: str, errors: dict[str, str] | None = None,
                    values: dict[str, str] | None = None, status: int = 200) -> Response[Any]:
        plan, project, organization, installments = await services.view_public_plan(token)
        out = services.plan_out(plan, installments)
        return await render(
            request, "projects/public_plan.html",
            {"p": out, "project": project, "organization": organization, "installments": installments,
             "token": token, "can_approve": out.status == "sent", "statuses": STATUSES,
             "errors": errors or {}, "values": values or {}},
            status_code=status, user=None,
        )

    @page_get("/{token:str}", opt=PUBLIC)
    async def show(self, request: Request[Any, Any, Any], token: Token) -> Response[Any]:
        return await self._show(request, token)

    @page_post("/{token:str}/approve", opt=PUBLIC)
    async def approve(self, request: Request[Any, Any, Any], token: Token) -> Response[Any]:
        form = await read_form(request)
        t = t_for(request, None)
        values = {"name": form.get("name", "")[:200], "email": form.get("email", "")[:254]}
        try:
            outcome, value = await services.approve_public_plan(
                token, values["name"], values["email"], form.get("challenge_id") or None,
                request.headers.get("user-agent", ""),
            )
        except (FieldError, ClientException) as exc:
            return await self._show(request, token, error_of(exc, t), values, getattr(exc, "status_code", 400))
        if outcome == "second_factor_required":
            return await render(request, "second_factor.html", second_factor_context(
                value, f"/projects/public/payment-plans/{token}/approve", values, "sign",
                t.gettext("Approve the payment plan")), user=None)
        return redirect(f"/projects/public/payment-plans/{token}", t.gettext("Thank you: the payment plan is approved."))


def pages() -> list[Any]:
    return [PublicPlanPages]
