"""Work order pages: list with search and status filter, create, edit, close/reopen, delete
(saying what anonymization follows), the activity thread, extra costs and the customer's
approval of one (with the SMS code sent to the customer when "Extra costs – SMS
authentication" is on), and the module's settings. Built on :mod:`plugins.workorders.services`."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from litestar import Request, Response
from litestar.params import FromPath, QueryParameter

from core.errors import GallraError
from core.pages import PageController, language_of, page_get, page_post, page_user, read_form, redirect, render, t_for
from core.pages.forms import error_of, struct_from_form
from core.pages.records import KIND_LABELS, activity_of, add_activity_from_form, module_settings_pages, retention_notice
from core.pages.routes import second_factor_context
from core.pages.pickers import customer_name
from core.secondfactor import describe_person
from core.listing import Offset
from plugins.workorders import gdpr, services
from plugins.workorders.schemas import ApproveIn, ExtraCostIn, WorkOrderIn, WorkOrderPatch

PAGE = 25
Q = Annotated[str | None, QueryParameter(required=False, max_length=200)]
Choice = Annotated[str | None, QueryParameter(required=False, max_length=20)]
FIELDS = ("title", "number", "description", "customer_id", "contact_person_id", "email", "customer_reference",
          "end_customer_name", "end_customer_address", "end_customer_phone", "end_customer_email")
INTS = ("number", "customer_id", "contact_person_id")
OPTIONAL = ("email", "end_customer_phone", "end_customer_email")


def _(message: str) -> str:
    return message


STATUSES = {"open": _("Open"), "closed": _("Closed")}
MESSAGES = [
    _("describe the extra cost"),
    _("This extra cost is already approved."),
    _("This extra cost was approved or changed a moment ago; reload and approve again."),
    _("This extra cost is approved by the customer and can no longer be changed."),
    _("the name of the person approving is required"),
]


def _values(form: dict[str, str], create: bool) -> dict[str, Any]:
    values: dict[str, Any] = {k: (form.get(k, "") if k == "description" else form.get(k, "").strip()) for k in FIELDS}
    for k in ("customer_id", "contact_person_id"):
        if not values[k]:
            values[k] = "" if create else "0"
    if create:
        for k in OPTIONAL:
            values[k] = values[k] or None
    return values


class WorkOrderPages(PageController):
    path = "/workorders"

    @page_get("/")
    async def index(self, request: Request[Any, Any, Any], q: Q = None, status: Choice = None,
                    offset: Offset = 0) -> Response[Any]:
        user = await page_user(request)
        status = status if status in STATUSES else None
        total, rows = await services.list_work_orders(user.tenant_id, offset, PAGE, status=status, q=q)
        return await render(request, "workorders/list.html",
                            {"rows": rows, "total": total, "offset": offset, "limit": PAGE, "q": q or "",
                             "status": status or "", "statuses": STATUSES}, user=user)

    @page_get("/new")
    async def new(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_user(request)
        return await render(request, "workorders/form.html", {"values": {}}, user=user)

    @page_post("/new")
    async def create(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        data, errors = struct_from_form(WorkOrderIn, _values(form, True), t, ints=INTS)
        if data is not None:
            try:
                row = await services.create_work_order(user.tenant_id, user.employee_id, data)
                return redirect(f"/workorders/{row['id']}", t.gettext("The work order is saved."))
            except GallraError as exc:
                errors = error_of(exc, t)
        return await render(request, "workorders/form.html", {"values": form, "errors": errors}, 400, user=user)

    @page_get("/{work_order_id:int}")
    async def show(self, request: Request[Any, Any, Any], work_order_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        return await self._show(request, user, work_order_id)

    async def _show(self, request: Request[Any, Any, Any], user: Any, work_order_id: int,
                    errors: dict[str, str] | None = None, status: int = 200,
                    values: dict[str, str] | None = None) -> Response[Any]:
        row = await services.get_work_order(user.tenant_id, work_order_id)
        person = await describe_person(user.tenant_id, "customer", int(row["customer_id"])) if row["customer_id"] else None
        lines = await services.list_extra_costs(user.tenant_id, work_order_id)
        return await render(
            request, "workorders/detail.html",
            {"w": row, "statuses": STATUSES, "customer_name": person.name if person else "",
             "lines": [{**line, "amount": services.from_minor(line["amount_minor"])} for line in lines],
             "activity": await activity_of(user.tenant_id, "workorders", gdpr.RECORD_TYPE, work_order_id),
             "kind_labels": KIND_LABELS, "errors": errors or {}, "values": values or {}},
            status_code=status, user=user,
        )

    @page_post("/{work_order_id:int}/activity")
    async def add_entry(self, request: Request[Any, Any, Any], work_order_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        row = await services.get_work_order(user.tenant_id, work_order_id)
        errors = await add_activity_from_form(user, "workorders", gdpr.RECORD_TYPE, row, form, t)
        if errors:
            return await self._show(request, user, work_order_id, errors, 400)
        return redirect(f"/workorders/{work_order_id}#activity-h")

    @page_get("/{work_order_id:int}/edit")
    async def edit(self, request: Request[Any, Any, Any], work_order_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        row = await services.get_work_order(user.tenant_id, work_order_id)
        values = {k: ("" if row[k] is None else row[k]) for k in FIELDS}
        if not values.get("customer_id"):
            values["customer_id"] = ""
        return await render(request, "workorders/form.html",
                            {"values": values, "w": row,
                             "customer_name": await customer_name(user.tenant_id, row["customer_id"])}, user=user)

    @page_post("/{work_order_id:int}/edit")
    async def update(self, request: Request[Any, Any, Any], work_order_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        row = await services.get_work_order(user.tenant_id, work_order_id)
        data, errors = struct_from_form(WorkOrderPatch, _values(form, False), t, ints=INTS)
        if data is not None:
            try:
                await services.edit_work_order(user.tenant_id, work_order_id, data)
                return redirect(f"/workorders/{work_order_id}", t.gettext("The work order is saved."))
            except GallraError as exc:
                errors = error_of(exc, t)
        return await render(request, "workorders/form.html", {"values": form, "errors": errors, "w": row}, 400, user=user)

    @page_post("/{work_order_id:int}/close")
    async def close(self, request: Request[Any, Any, Any], work_order_id: FromPath[int]) -> Response[Any]:
        return await self._change(request, work_order_id, "close")

    @page_post("/{work_order_id:int}/reopen")
    async def reopen(self, request: Request[Any, Any, Any], work_order_id: FromPath[int]) -> Response[Any]:
        return await self._change(request, work_order_id, "reopen")

    @page_post("/{work_order_id:int}/delete")
    async def delete(self, request: Request[Any, Any, Any], work_order_id: FromPath[int]) -> Response[Any]:
        return await self._change(request, work_order_id, "delete")

    async def _change(self, request: Request[Any, Any, Any], work_order_id: int, action: str) -> Response[Any]:
        user = await page_user(request)
        await read_form(request)
        t = t_for(request, user)
        steps = {"close": (services.close_work_order, _("The work order is closed.")),
                 "reopen": (services.reopen_work_order, _("The work order is open again.")),
                 "delete": (services.delete_work_order, _("The work order is deleted."))}
        fn, message = steps[action]
        try:
            await fn(user.tenant_id, work_order_id)
        except GallraError as exc:
            return await self._show(request, user, work_order_id, error_of(exc, t), exc.status_code)
        return redirect("/workorders" if action == "delete" else f"/workorders/{work_order_id}", t.gettext(message))

    @page_get("/{work_order_id:int}/delete")
    async def confirm_delete(self, request: Request[Any, Any, Any], work_order_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        t = t_for(request, user)
        row = await services.get_work_order(user.tenant_id, work_order_id)
        notice = await retention_notice(user.tenant_id, gdpr.RULE, t, language_of(request, user))
        return await render(request, "workorders/delete.html", {"w": row, "notice": notice}, user=user)

    # --- extra costs ---------------------------------------------------------------------

    @page_post("/{work_order_id:int}/extra-costs")
    async def add_cost(self, request: Request[Any, Any, Any], work_order_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        errors: dict[str, str] = {}
        try:
            amount = Decimal(form.get("amount", "").strip().replace(",", ".").replace(" ", ""))
        except InvalidOperation:
            errors["amount"] = t.gettext("Write an amount, like 1250.50.")
        if not errors:
            try:
                await services.add_extra_cost(user.tenant_id, user.employee_id, work_order_id,
                                              ExtraCostIn(description=form.get("description", "")[:2000] or " ", amount=amount))
                return redirect(f"/workorders/{work_order_id}#costs-h", t.gettext("The extra cost is added."))
            except GallraError as exc:
                errors = error_of(exc, t)
        return await self._show(request, user, work_order_id, errors, 400, form)

    @page_post("/{work_order_id:int}/extra-costs/{line_id:int}/approve")
    async def approve(self, request: Request[Any, Any, Any], work_order_id: FromPath[int], line_id: FromPath[int]) -> Response[Any]:
        """The customer, beside the employee, approves the cost; with SMS signing on, the
        code goes to the customer's phone and they type it here."""
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        name = form.get("approver_name", "").strip()[:200]
        if not name:
            return await self._show(request, user, work_order_id,
                                    {f"approver_name.{line_id}": t.gettext("Write the name of the person approving.")}, 400)
        try:
            line, decision = await services.approve_extra_cost(
                user.tenant_id, work_order_id, line_id,
                ApproveIn(approver_name=name, challenge_id=form.get("challenge_id") or None),
                request.headers.get("user-agent", ""), employee_id=user.employee_id,
            )
        except GallraError as exc:
            errors = error_of(exc, t)
            return await self._show(request, user, work_order_id, {f"approver_name.{line_id}": next(iter(errors.values()))},
                                    getattr(exc, "status_code", 400))
        if line is None and decision is not None:
            return await render(request, "second_factor.html", second_factor_context(
                decision, f"/workorders/{work_order_id}/extra-costs/{line_id}/approve",
                {"approver_name": name}, "sign", t.gettext("Approve the extra cost")), user=user)
        return redirect(f"/workorders/{work_order_id}#costs-h", t.gettext("The extra cost is approved."))


def pages() -> list[Any]:
    return [WorkOrderPages, module_settings_pages("workorders")]
