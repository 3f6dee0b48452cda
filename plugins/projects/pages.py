"""The project pages: the organization's (the record layer's list, new, show, edit, close,
reopen, delete and activity pages, with the project's parts), and the page a customer opens
from a payment plan's e-mail: the installments, and approving the plan (with an SMS code
when "Payment plans – SMS authentication" is on). The link's token is the key; no login.
Built on :mod:`plugins.projects.services`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Request, Response
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from core.auth import SessionUser
from core.errors import mark as _
from core.pages import page_post, page_user, read_form, redirect, render, t_for
from core.pages.forms import REFUSED, error_of, struct_from_form
from core.pages.records import OPEN_CLOSED, TITLE_INPUT, Input, RecordPages, Texts
from core.pages.signing import link_sign_pages
from plugins.projects import services
from plugins.projects.schemas import (
    ExtraCostIn,
    InstallmentIn,
    PaymentPlanIn,
    ProjectIn,
    ProjectPatch,
    SubProjectIn,
)

STATUSES = {"sent": _("Waiting for your answer"), "approved": _("Approved"), "declined": _("Declined")}


async def _show_public(request: Request[Any, Any, Any], token: str, errors: dict[str, str] | None = None,
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


PublicPlanPages = link_sign_pages("/projects/public/payment-plans", "approve", services.approve_public_plan,
                                  _show_public, _("Approve the payment plan"),
                                  _("Thank you: the payment plan is approved."))


# --- the organization's side -----------------------------------------------------------

PROJECT_STATUSES = OPEN_CLOSED
INSTALLMENT_ROWS = 4
DELETED = _("This project is deleted and cannot be changed.")
NOT_OPEN = _("Only an open project can be changed; reopen it first.")


def _decimal(value: str) -> Decimal | None:
    try:
        return Decimal(value.strip().replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        return None


def _locked(row: dict[str, Any]) -> str:
    """Why the project cannot be changed (deleted, or not open), or nothing."""
    if row["deleted_at"] is not None or row["anonymized_at"] is not None:
        return DELETED
    return NOT_OPEN if row["status"] != "open" else ""


class ProjectPages(RecordPages):
    """The record layer's project pages (list, new, show, edit, close, reopen, delete,
    activity) with the project's parts, and adding them: sub-projects, extra costs, payment
    plans and sending a plan to the customer."""

    service = services.PROJECTS
    record_var = "project"
    schema_in = ProjectIn
    schema_patch = ProjectPatch
    form_fields = ("title", "customer_id", "contact_person_id", "end_customer_name", "end_customer_address",
                   "end_customer_phone", "end_customer_email", "email")
    saved = _("The project is saved.")
    closed = _("The project is closed.")
    reopened = _("The project is open again.")
    deleted = _("The project is deleted.")
    refusal_status = True
    texts = Texts(
        title=_("Projects"), one=_("Project"), new=_("New project"), edit=_("Edit project"),
        delete=_("Delete project"), delete_button=_("Delete the project"), settings=_("Settings for projects"),
        search=_("Search by title"), anonymized=_("This project is anonymized."), deleted=DELETED,
        status_id="project-status",
    )
    statuses = PROJECT_STATUSES
    inputs = (
        TITLE_INPUT,
        Input("customer_id", type="customer"),
        Input("contact_person_id", type="contact"),
        Input("email", _("E-mail"), "email", maxlength=254),
        Input("end_customer_name", _("Name"), maxlength=200, group=_("End customer")),
        Input("end_customer_address", _("Address"), maxlength=400, group=_("End customer")),
        Input("end_customer_phone", _("Phone"), "tel", maxlength=40, group=_("End customer")),
        Input("end_customer_email", _("E-mail"), "email", maxlength=254, group=_("End customer")),
    )
    blank_zero = ("customer_id", "contact_person_id")

    def form_values(self, form: dict[str, str], create: bool) -> dict[str, Any]:
        return {k: form.get(k, "").strip() for k in self.form_fields}

    async def form_context(self, user: SessionUser, row: dict[str, Any] | None) -> dict[str, Any]:
        if row is None:
            return {}
        return {"form_notice": _locked(row)}

    async def detail_context(self, user: SessionUser, row: dict[str, Any]) -> dict[str, Any]:
        return {"p": await services.output(row), "editable": not _locked(row), "plan_statuses": STATUSES,
                "rows": range(INSTALLMENT_ROWS)}

    async def _again(self, request: Request[Any, Any, Any], user: SessionUser, record_id: int,
                     errors: dict[str, str], status: int = 400,
                     values: dict[str, str] | None = None) -> Response[Any]:
        return await self._show(request, user, await self._row(user, record_id), errors, status, values)

    @page_post("/{record_id:int}/sub-projects")
    async def add_sub(self, request: Request[Any, Any, Any], record_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        data, errors = struct_from_form(SubProjectIn, {"name": form.get("name", "").strip(),
                                                       "description": form.get("description", "")}, t)
        add = None if data is None else lambda: services.add_sub_project(user.tenant_id, record_id, data)
        return await self._add_part(request, user, record_id, add, errors, form, "#subs-h")

    @page_post("/{record_id:int}/extra-costs")
    async def add_cost(self, request: Request[Any, Any, Any], record_id: FromPath[int]) -> Response[Any]:
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
                await services.add_extra_cost(user.tenant_id, record_id, ExtraCostIn(
                    description=form["cost_description"].strip()[:500], amount=amount))
                return redirect(f"/projects/{record_id}#costs-h")
            except REFUSED as exc:
                errors = error_of(exc, t)
                errors = {("cost_description" if k == "description" else k): v for k, v in errors.items()}
        return await self._again(request, user, record_id, errors, 400, form)

    @page_post("/{record_id:int}/payment-plans")
    async def add_plan(self, request: Request[Any, Any, Any], record_id: FromPath[int]) -> Response[Any]:
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
                await services.add_plan(user.tenant_id, record_id, PaymentPlanIn(
                    title=form["plan_title"].strip()[:200], installments=items))
                return redirect(f"/projects/{record_id}#plans-h", t.gettext("The payment plan is saved."))
            except REFUSED as exc:
                errors = {"plan_title": next(iter(error_of(exc, t).values()))}
        return await self._again(request, user, record_id, errors, 400, form)

    @page_post("/{record_id:int}/payment-plans/{plan_id:int}/send")
    async def send_plan(
        self, request: Request[Any, Any, Any], record_id: FromPath[int], plan_id: FromPath[int]
    ) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        plan = await services.load_plan(user.tenant_id, plan_id)
        if plan.project_id != record_id:
            raise NotFoundException("No such payment plan.")
        try:
            await services.send_plan(user.tenant_id, plan_id, form.get("email", "")[:254], "")
        except REFUSED as exc:
            return await self._again(request, user, record_id,
                                    {f"email.{plan_id}": next(iter(error_of(exc, t).values()))},
                                    getattr(exc, "status_code", 400))
        return redirect(f"/projects/{record_id}#plans-h", t.gettext("The payment plan is sent."))



def pages() -> list[Any]:
    return [PublicPlanPages, ProjectPages]
