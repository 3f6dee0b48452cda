"""The page a customer opens from a payment plan's e-mail: the installments, and approving
the plan (with an SMS code when "Payment plans – SMS authentication" is on). The link's
token is the key; no login. Built on :mod:`plugins.projects.services`."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from litestar import Request, Response
from litestar.exceptions import ClientException
from litestar.params import FromPath, PathParameter, QueryParameter

from core.errors import GallraError
from core.pages import PageController, page_get, page_post, page_user, read_form, redirect, render, t_for
from core.pages.forms import error_of, struct_from_form
from core.pages.pickers import customer_name
from core.pages.routes import second_factor_context
from core.routes.records import Offset
from plugins.projects import services

REFUSED = (GallraError, ClientException)  # a service's refusal, shown on the page

PUBLIC = {"public": True}
Token = Annotated[str, PathParameter(min_length=1, max_length=128)]


def _(message: str) -> str:
    return message


STATUSES = {"sent": _("Waiting for your answer"), "approved": _("Approved"), "declined": _("Declined")}


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
        except REFUSED as exc:
            return await self._show(request, token, error_of(exc, t), values, getattr(exc, "status_code", 400))
        if outcome == "second_factor_required":
            return await render(request, "second_factor.html", second_factor_context(
                value, f"/projects/public/payment-plans/{token}/approve", values, "sign",
                t.gettext("Approve the payment plan")), user=None)
        return redirect(f"/projects/public/payment-plans/{token}", t.gettext("Thank you: the payment plan is approved."))


# --- the organization's side -----------------------------------------------------------

PROJECT_STATUSES = {"open": _("Open"), "closed": _("Closed")}
PAGE = 25
Q = Annotated[str | None, QueryParameter(required=False, max_length=200)]
Choice = Annotated[str | None, QueryParameter(required=False, max_length=20)]
INSTALLMENT_ROWS = 4


def _decimal(value: str) -> Decimal | None:
    try:
        return Decimal(value.strip().replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        return None


EDIT_FIELDS = ("title", "customer_id", "contact_person_id", "end_customer_name", "end_customer_address",
               "end_customer_phone", "end_customer_email", "email")


def _locked(p: Any, t: Any) -> dict[str, str]:
    """Why the project cannot be changed (deleted, or not open), as a form error."""
    if p.deleted_at is not None or p.anonymized_at is not None:
        return {"_form": t.gettext("This project is deleted and cannot be changed.")}
    if p.status != "open":
        return {"_form": t.gettext("Only an open project can be changed; reopen it first.")}
    return {}


class ProjectPages(PageController):
    path = "/projects"

    @page_get("/")
    async def index(self, request: Request[Any, Any, Any], q: Q = None, status: Choice = None,
                    offset: Offset = 0) -> Response[Any]:
        user = await page_user(request)
        total, rows = await services.PROJECTS.list(
            user.tenant_id, offset, PAGE, q=q,
            filters={"status": status if status in PROJECT_STATUSES else None},
        )
        return await render(request, "projects/list.html",
                            {"rows": rows, "total": total, "offset": offset, "limit": PAGE, "q": q or "",
                             "status": status if status in PROJECT_STATUSES else "", "statuses": PROJECT_STATUSES},
                            user=user)

    @page_get("/new")
    async def new(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_user(request)
        return await render(request, "projects/form.html", {"values": {}}, user=user)

    @page_post("/new")
    async def create(self, request: Request[Any, Any, Any]) -> Response[Any]:
        from plugins.projects.schemas import ProjectIn

        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        values = {k: form.get(k, "").strip() for k in ("title", "customer_id", "end_customer_name",
                                                        "end_customer_address", "end_customer_phone",
                                                        "end_customer_email", "email")}
        data, errors = struct_from_form(ProjectIn, values, t, ints=("customer_id",))
        if data is not None:
            try:
                out = await services.create_project(user.tenant_id, data)
                return redirect(f"/projects/{out.id}", t.gettext("The project is saved."))
            except REFUSED as exc:
                errors = error_of(exc, t)
        return await render(request, "projects/form.html", {"values": form, "errors": errors}, 400, user=user)

    @page_get("/{project_id:int}/edit")
    async def edit(self, request: Request[Any, Any, Any], project_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        p = await services.load_detail(user.tenant_id, project_id)
        values = {k: getattr(p, k) for k in EDIT_FIELDS}
        for k in ("customer_id", "contact_person_id"):
            values[k] = values[k] or ""
        return await render(request, "projects/form.html",
                            {"project": p, "values": values, "errors": _locked(p, t_for(request, user)),
                             "customer_name": await customer_name(user.tenant_id, p.customer_id)}, user=user)

    @page_post("/{project_id:int}/edit")
    async def update(self, request: Request[Any, Any, Any], project_id: FromPath[int]) -> Response[Any]:
        from plugins.projects.schemas import ProjectPatch

        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        p = await services.load_detail(user.tenant_id, project_id)
        values: dict[str, Any] = {k: form.get(k, "").strip() for k in EDIT_FIELDS}
        for k in ("customer_id", "contact_person_id"):
            values[k] = values[k] or "0"
        data, errors = struct_from_form(ProjectPatch, values, t, ints=("customer_id", "contact_person_id"))
        status = 400
        if _locked(p, t):
            data, errors, status = None, _locked(p, t), 409
        if data is not None:
            try:
                await services.update_project(user.tenant_id, project_id, data)
                return redirect(f"/projects/{project_id}", t.gettext("The project is saved."))
            except REFUSED as exc:
                errors = error_of(exc, t)
                status = getattr(exc, "status_code", 400)
        return await render(request, "projects/form.html", {"project": p, "values": form, "errors": errors}, status,
                            user=user)

    @page_get("/{project_id:int}")
    async def show(self, request: Request[Any, Any, Any], project_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        return await self._show(request, user, project_id)

    async def _show(self, request: Request[Any, Any, Any], user: Any, project_id: int,
                    errors: dict[str, str] | None = None, status: int = 200,
                    values: dict[str, str] | None = None) -> Response[Any]:
        from core.pages.records import KIND_LABELS, activity_of
        from plugins.projects import gdpr
        p = await services.load_detail(user.tenant_id, project_id)
        return await render(request, "projects/detail.html",
                            {"p": p, "statuses": PROJECT_STATUSES, "plan_statuses": STATUSES, "errors": errors or {},
                             "values": values or {}, "rows": range(INSTALLMENT_ROWS), "kind_labels": KIND_LABELS,
                             "activity": await activity_of(user.tenant_id, "projects", gdpr.RECORD_TYPE, project_id)},
                            status_code=status, user=user)

    @page_post("/{project_id:int}/activity")
    async def add_entry(self, request: Request[Any, Any, Any], project_id: FromPath[int]) -> Response[Any]:
        from core.pages.records import add_activity_from_form
        from plugins.projects import gdpr

        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        row = await services.PROJECTS.get(user.tenant_id, project_id)
        errors = await add_activity_from_form(user, "projects", gdpr.RECORD_TYPE, row, form, t)
        if errors:
            return await self._show(request, user, project_id, errors, 400)
        return redirect(f"/projects/{project_id}#activity-h")

    @page_post("/{project_id:int}/sub-projects")
    async def add_sub(self, request: Request[Any, Any, Any], project_id: FromPath[int]) -> Response[Any]:
        from plugins.projects.schemas import SubProjectIn

        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        data, errors = struct_from_form(SubProjectIn, {"name": form.get("name", "").strip(),
                                                       "description": form.get("description", "")}, t)
        if data is not None:
            try:
                await services.add_sub_project(user.tenant_id, project_id, data)
                return redirect(f"/projects/{project_id}#subs-h")
            except REFUSED as exc:
                errors = error_of(exc, t)
        return await self._show(request, user, project_id, errors, 400, form)

    @page_post("/{project_id:int}/extra-costs")
    async def add_cost(self, request: Request[Any, Any, Any], project_id: FromPath[int]) -> Response[Any]:
        from plugins.projects.schemas import ExtraCostIn

        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        amount = _decimal(form.get("amount", ""))
        errors: dict[str, str] = {}
        if amount is None:
            errors["amount"] = t.gettext("Write an amount, like 1250.50.")
        if not form.get("cost_description", "").strip():
            errors["cost_description"] = t.gettext("This must not be empty.")
        if not errors:
            try:
                await services.add_extra_cost(user.tenant_id, project_id, ExtraCostIn(
                    description=form["cost_description"].strip()[:500], amount=amount))
                return redirect(f"/projects/{project_id}#costs-h")
            except REFUSED as exc:
                errors = error_of(exc, t)
                errors = {("cost_description" if k == "description" else k): v for k, v in errors.items()}
        return await self._show(request, user, project_id, errors, 400, form)

    @page_post("/{project_id:int}/payment-plans")
    async def add_plan(self, request: Request[Any, Any, Any], project_id: FromPath[int]) -> Response[Any]:
        from datetime import date

        from plugins.projects.schemas import InstallmentIn, PaymentPlanIn

        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        errors: dict[str, str] = {}
        items = []
        for i in range(INSTALLMENT_ROWS):
            due, amount = form.get(f"due_date.{i}", "").strip(), form.get(f"amount.{i}", "").strip()
            if not due and not amount:
                continue
            try:
                day = date.fromisoformat(due)
            except ValueError:
                errors[f"due_date.{i}"] = t.gettext("Write the date as YYYY-MM-DD.")
                continue
            value = _decimal(amount)
            if value is None:
                errors[f"amount.{i}"] = t.gettext("Write an amount, like 1250.50.")
                continue
            items.append(InstallmentIn(due_date=day, amount=value, description=form.get(f"text.{i}", "")[:500]))
        if not form.get("plan_title", "").strip():
            errors["plan_title"] = t.gettext("This must not be empty.")
        if not items and not errors:
            errors["due_date.0"] = t.gettext("Give at least one installment.")
        if not errors:
            try:
                await services.add_plan(user.tenant_id, project_id, PaymentPlanIn(
                    title=form["plan_title"].strip()[:200], installments=items))
                return redirect(f"/projects/{project_id}#plans-h", t.gettext("The payment plan is saved."))
            except REFUSED as exc:
                errors = {"plan_title": next(iter(error_of(exc, t).values()))}
        return await self._show(request, user, project_id, errors, 400, form)

    @page_post("/{project_id:int}/payment-plans/{plan_id:int}/send")
    async def send_plan(self, request: Request[Any, Any, Any], project_id: FromPath[int], plan_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        plan = await services.load_plan(user.tenant_id, plan_id)
        if plan.project_id != project_id:
            from litestar.exceptions import NotFoundException

            raise NotFoundException("No such payment plan.")
        try:
            await services.send_plan(user.tenant_id, plan_id, form.get("email", "")[:254], "")
        except REFUSED as exc:
            return await self._show(request, user, project_id,
                                    {f"email.{plan_id}": next(iter(error_of(exc, t).values()))},
                                    getattr(exc, "status_code", 400))
        return redirect(f"/projects/{project_id}#plans-h", t.gettext("The payment plan is sent."))

    async def _step(self, request: Request[Any, Any, Any], project_id: int, step: str) -> Response[Any]:
        user = await page_user(request)
        await read_form(request)
        t = t_for(request, user)
        fn, message = {"close": (services.close_project, _("The project is closed.")),
                       "reopen": (services.reopen_project, _("The project is open again.")),
                       "delete": (services.delete_project, _("The project is deleted."))}[step]
        try:
            await fn(user.tenant_id, project_id)
        except REFUSED as exc:
            return await self._show(request, user, project_id, error_of(exc, t), exc.status_code)
        return redirect("/projects" if step == "delete" else f"/projects/{project_id}", t.gettext(message))

    @page_post("/{project_id:int}/close")
    async def close(self, request: Request[Any, Any, Any], project_id: FromPath[int]) -> Response[Any]:
        return await self._step(request, project_id, "close")

    @page_post("/{project_id:int}/reopen")
    async def reopen(self, request: Request[Any, Any, Any], project_id: FromPath[int]) -> Response[Any]:
        return await self._step(request, project_id, "reopen")

    @page_get("/{project_id:int}/delete")
    async def confirm_delete(self, request: Request[Any, Any, Any], project_id: FromPath[int]) -> Response[Any]:
        from core.pages import language_of
        from core.pages.records import retention_notice
        from plugins.projects import gdpr

        user = await page_user(request)
        t = t_for(request, user)
        p = await services.load_detail(user.tenant_id, project_id)
        notice = await retention_notice(user.tenant_id, gdpr.RULE, t, language_of(request, user))
        return await render(request, "projects/delete.html", {"p": p, "notice": notice}, user=user)

    @page_post("/{project_id:int}/delete")
    async def delete(self, request: Request[Any, Any, Any], project_id: FromPath[int]) -> Response[Any]:
        return await self._step(request, project_id, "delete")


def pages() -> list[Any]:
    from core.pages.records import module_settings_pages

    return [PublicPlanPages, ProjectPages, module_settings_pages("projects")]
