"""Order pages: the record layer's list (status and invoicing filters), create, edit,
close/reopen, delete (saying what anonymization follows) and activity pages, plus what is
the order's own beside them: its article lines and marking it invoiced, and the module's
settings. Once invoiced, the order's form says so and is refused."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.params import FromPath

from core.auth import SessionUser
from core.errors import mark as _
from core.pages import page_post
from core.pages.forms import struct_from_form
from core.pages.records import OPEN_CLOSED, TITLE_INPUT, Column, Input, ListFilter, RecordPages, Texts
from plugins.orders import services
from plugins.orders.schemas import OrderIn, OrderLineIn, OrderPatch

INVOICED = {"no": _("Not invoiced"), "yes": _("Invoiced")}
EDIT_FIELDS = ("title", "number", "description", "customer_id", "contact_person_id", "customer_reference",
               "invoice_comment")
RAW = ("description", "invoice_comment")  # kept as written (no trimming)


def _locked(row: dict[str, Any]) -> str:
    """Why the order cannot be changed (deleted, anonymized or invoiced), if it cannot."""
    if row["deleted_at"] is not None or row["anonymized_at"] is not None:
        return _("This order is deleted and cannot be changed.")
    if row["invoiced_at"] is not None:
        return _("This order is invoiced; what was invoiced cannot be changed.")
    return ""


class OrderPages(RecordPages):
    service = services.ORDERS
    record_var = "o"
    schema_in = OrderIn
    schema_patch = OrderPatch
    form_fields = EDIT_FIELDS
    refusal_status = True
    blank_zero = ("customer_id", "contact_person_id")
    saved = _("The order is saved.")
    closed = _("The order is closed.")
    reopened = _("The order is open again.")
    deleted = _("The order is deleted.")
    texts = Texts(
        title=_("Orders"), one=_("Order"), new=_("New order"), edit=_("Edit order"), delete=_("Delete order"),
        delete_button=_("Delete the order"), settings=_("Settings for orders"), status_id="order-status",
    )
    statuses = OPEN_CLOSED
    dated = Column("invoiced_at", _("Invoiced"), "date")
    more_filters = (ListFilter("invoiced", _("Invoicing"), INVOICED),)
    inputs = (
        TITLE_INPUT,
        Input("number", _("Order number"), "number", attrs='min="1"', when="edit"),
        Input("description", _("Description"), "textarea"),
        Input("customer_id", type="customer"),
        Input("contact_person_id", type="contact"),
        Input("customer_reference", _("Customer's reference"), maxlength=200),
        Input("invoice_comment", _("Comment on the invoice"), "textarea"),
    )

    def form_values(self, form: dict[str, str], create: bool) -> dict[str, Any]:
        names = ("title", "customer_id", "contact_person_id", "customer_reference", *RAW) if create else EDIT_FIELDS
        return {k: form.get(k, "") if k in RAW else form.get(k, "").strip() for k in names}

    async def form_context(self, user: SessionUser, row: dict[str, Any] | None) -> dict[str, Any]:
        if row is None:
            return {}
        context: dict[str, Any] = {}
        if reason := _locked(row):
            context["form_notice"] = reason
        return context

    async def detail_context(self, user: SessionUser, row: dict[str, Any]) -> dict[str, Any]:
        lines = [{**line, "unit_price": services.from_minor(line["unit_price_minor"]),
                  "quantity": services.from_milli(line["quantity_milli"]),
                  "amount": services.from_minor(services.line_amount_minor(line))}
                 for line in await services.get_lines(user.tenant_id, int(row["id"]))]
        return {"lines": lines, "total": services.from_minor(sum(services.line_amount_minor(x) for x in lines)),
                "editable": row["invoiced_at"] is None}

    # --- the order's own: article lines and invoicing -------------------------------------

    @page_post("/{order_id:int}/lines")
    async def add_line(self, request: Request[Any, Any, Any], order_id: FromPath[int]) -> Response[Any]:
        user, form, t, _row = await self._posted(request, order_id)
        values = {"description": form.get("description", "").strip()[:500],
                  **{k: form.get(k, "").strip().replace(",", ".").replace(" ", "") or "1"
                     for k in ("quantity", "unit_price")}}
        data, errors = struct_from_form(OrderLineIn, values, t)
        if not values["description"]:
            errors = {**errors, "description": t.gettext("This must not be empty.")}
        add = None if data is None else lambda: services.add_line(user.tenant_id, order_id, data)
        return await self._add_part(request, user, order_id, add, errors, form, "#lines-h")

    @page_post("/{order_id:int}/invoice")
    async def invoice(self, request: Request[Any, Any, Any], order_id: FromPath[int]) -> Response[Any]:
        return await self._act(request, order_id, lambda user: services.invoice_order(user.tenant_id, order_id),
                               _("The order is marked as invoiced."))


def pages() -> list[Any]:
    return [OrderPages]
