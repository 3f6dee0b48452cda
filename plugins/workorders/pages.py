"""Work order pages: the record layer's list (search and status filter), create, edit,
close/reopen, delete (saying what anonymization follows) and activity pages, plus what is
the module's own: extra costs and the customer's approval of one (with the SMS code sent to
the customer when "Extra costs – SMS authentication" is on), and the module's settings."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from core.auth import SessionUser
from core.errors import GallraError
from core.errors import mark as _
from core.pages import page_post, redirect, render
from core.pages.forms import error_of, struct_from_form
from core.pages.records import OPEN_CLOSED, TITLE_INPUT, Input, RecordPages, Texts
from core.pages.routes import second_factor_context
from plugins.workorders import services
from plugins.workorders.schemas import ApproveIn, ExtraCostIn, WorkOrderIn, WorkOrderPatch

FIELDS = ("title", "number", "description", "customer_id", "contact_person_id", "email", "customer_reference",
          "end_customer_name", "end_customer_address", "end_customer_phone", "end_customer_email")
OPTIONAL = ("email", "end_customer_phone", "end_customer_email")


STATUSES = OPEN_CLOSED
MESSAGES = [
    _("describe the extra cost"),
    _("This extra cost is already approved."),
    _("This extra cost was approved or changed a moment ago; reload and approve again."),
    _("This extra cost is approved by the customer and can no longer be changed."),
    _("the name of the person approving is required"),
]
CUSTOMER, END_CUSTOMER = _("Customer"), _("End customer")


class WorkOrderPages(RecordPages):
    service = services.WORK_ORDERS
    record_var = "w"
    schema_in = WorkOrderIn
    schema_patch = WorkOrderPatch
    form_fields = FIELDS
    blank_zero = ("customer_id",)
    saved = _("The work order is saved.")
    closed = _("The work order is closed.")
    reopened = _("The work order is open again.")
    deleted = _("The work order is deleted.")
    texts = Texts(
        title=_("Work orders"), one=_("Work order"), new=_("New work order"), edit=_("Edit work order"),
        delete=_("Delete work order"), delete_button=_("Delete the work order"),
        settings=_("Settings for work orders"), search=_("Search by title or number"),
        anonymized=_("This work order is anonymized."), deleted=_("This work order is deleted."),
        status_id="wo-status",
    )
    statuses = STATUSES
    inputs = (
        TITLE_INPUT,
        Input("number", _("Work order number"), "number", hint=_("Leave empty to get the next free number."),
              attrs='min="1"'),
        Input("description", _("Description"), "textarea", maxlength=20000),
        Input("customer_id", type="customer", group=CUSTOMER),
        Input("contact_person_id", type="contact", group=CUSTOMER),
        Input("email", _("E-mail"), "email", maxlength=254, group=CUSTOMER),
        Input("customer_reference", _("Customer's reference"), maxlength=200, group=CUSTOMER),
        Input("end_customer_name", _("Name"), maxlength=200, group=END_CUSTOMER),
        Input("end_customer_address", _("Address"), maxlength=400, group=END_CUSTOMER),
        Input("end_customer_phone", _("Phone"), "tel", maxlength=40, group=END_CUSTOMER),
        Input("end_customer_email", _("E-mail"), "email", maxlength=254, group=END_CUSTOMER),
    )

    def form_values(self, form: dict[str, str], create: bool) -> dict[str, Any]:
        values: dict[str, Any] = {k: (form.get(k, "") if k == "description" else form.get(k, "").strip())
                                  for k in FIELDS}
        if create:
            for k in OPTIONAL:
                values[k] = values[k] or None
        return values

    async def detail_context(self, user: SessionUser, row: dict[str, Any]) -> dict[str, Any]:
        lines = await services.list_extra_costs(user.tenant_id, int(row["id"]))
        return {"lines": [{**line, "amount": services.from_minor(line["amount_minor"])} for line in lines]}

    # --- extra costs ---------------------------------------------------------------------

    @page_post("/{work_order_id:int}/extra-costs")
    async def add_cost(self, request: Request[Any, Any, Any], work_order_id: FromPath[int]) -> Response[Any]:
        user, form, t, _row = await self._posted(request, work_order_id, write=False)
        values = {"description": form.get("description", "")[:2000] or " ",
                  "amount": form.get("amount", "").strip().replace(",", ".").replace(" ", "")}
        data, errors = struct_from_form(ExtraCostIn, values, t)
        add = None if data is None else lambda: services.add_extra_cost(user.tenant_id, user.employee_id,
                                                                        work_order_id, data)
        return await self._add_part(request, user, work_order_id, add, errors, form, "#costs-h",
                                    _("The extra cost is added."))

    @page_post("/{work_order_id:int}/extra-costs/{line_id:int}/approve")
    async def approve(self, request: Request[Any, Any, Any], work_order_id: FromPath[int],
                      line_id: FromPath[int]) -> Response[Any]:
        """The customer, beside the employee, approves the cost; with SMS signing on, the
        code goes to the customer's phone and they type it here."""
        user, form, t, row = await self._posted(request, work_order_id, write=False)
        key = f"approver_name.{line_id}"
        name = form.get("approver_name", "").strip()[:200]
        if not name:
            return await self._show(request, user, row, {key: t.gettext("Write the name of the person approving.")},
                                    400)
        try:
            line, decision = await services.approve_extra_cost(
                user.tenant_id, work_order_id, line_id,
                ApproveIn(approver_name=name, challenge_id=form.get("challenge_id") or None),
                request.headers.get("user-agent", ""), employee_id=user.employee_id,
            )
        except GallraError as exc:
            return await self._show(request, user, row, {key: next(iter(error_of(exc, t).values()))}, exc.status)
        if line is None and decision is not None:
            return await render(request, "second_factor.html", second_factor_context(
                decision, f"/workorders/{work_order_id}/extra-costs/{line_id}/approve",
                {"approver_name": name}, "sign", t.gettext("Approve the extra cost")), user=user)
        return redirect(f"/workorders/{work_order_id}#costs-h", t.gettext("The extra cost is approved."))


def pages() -> list[Any]:
    return [WorkOrderPages]
