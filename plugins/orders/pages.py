"""Order pages: list with status and invoicing filters, create, lines, close/reopen, mark as
invoiced, delete (saying what anonymization follows), activity and the module's settings.
Built on :mod:`plugins.orders.services`."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from litestar import Request, Response
from litestar.params import FromPath, QueryParameter

from core.errors import GallraError
from core.pages import PageController, language_of, page_get, page_post, page_user, read_form, redirect, render, t_for
from core.pages.forms import error_of, struct_from_form
from core.pages.pickers import customer_name
from core.pages.records import KIND_LABELS, activity_of, add_activity_from_form, module_settings_pages, retention_notice
from core.validation import FieldError
from core.listing import Offset
from plugins.orders import gdpr, services
from plugins.orders.schemas import OrderIn, OrderLineIn, OrderPatch

PAGE = 25
Choice = Annotated[str | None, QueryParameter(required=False, max_length=20)]


def _(message: str) -> str:
    return message


STATUSES = {"open": _("Open"), "closed": _("Closed")}
EDIT_FIELDS = ("title", "number", "description", "customer_id", "contact_person_id", "customer_reference",
               "invoice_comment")


def _locked(row: dict[str, Any], t: Any) -> dict[str, str]:
    """Why the order cannot be changed (deleted, anonymized or invoiced), as a form error."""
    if row["deleted_at"] is not None or row["anonymized_at"] is not None:
        return {"_form": t.gettext("This order is deleted and cannot be changed.")}
    if row["invoiced_at"] is not None:
        return {"_form": t.gettext("This order is invoiced; what was invoiced cannot be changed.")}
    return {}
INVOICED = {"no": _("Not invoiced"), "yes": _("Invoiced")}


class OrderPages(PageController):
    path = "/orders"

    @page_get("/")
    async def index(self, request: Request[Any, Any, Any], status: Choice = None, invoiced: Choice = None,
                    offset: Offset = 0) -> Response[Any]:
        user = await page_user(request)
        status = status if status in STATUSES else None
        inv = {"yes": True, "no": False}.get(invoiced or "")
        total, rows = await services.list_orders(user.tenant_id, offset, PAGE, status=status, invoiced=inv)
        return await render(request, "orders/list.html",
                            {"rows": rows, "total": total, "offset": offset, "limit": PAGE, "status": status or "",
                             "invoiced": invoiced if invoiced in INVOICED else "", "statuses": STATUSES,
                             "invoiced_labels": INVOICED}, user=user)

    @page_get("/new")
    async def new(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_user(request)
        return await render(request, "orders/form.html", {"values": {}}, user=user)

    @page_post("/new")
    async def create(self, request: Request[Any, Any, Any]) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        values = {k: form.get(k, "").strip() for k in ("title", "customer_id", "customer_reference")}
        values["description"] = form.get("description", "")
        values["invoice_comment"] = form.get("invoice_comment", "")
        data, errors = struct_from_form(OrderIn, values, t, ints=("customer_id",))
        if data is not None:
            try:
                row = await services.create_order(user.tenant_id, user.employee_id, data)
                return redirect(f"/orders/{row['id']}", t.gettext("The order is saved."))
            except GallraError as exc:
                errors = error_of(exc, t)
        return await render(request, "orders/form.html", {"values": form, "errors": errors}, 400, user=user)

    @page_get("/{order_id:int}/edit")
    async def edit(self, request: Request[Any, Any, Any], order_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        row = await services.get_order(user.tenant_id, order_id)
        values = {k: row[k] for k in EDIT_FIELDS}
        for k in ("customer_id", "contact_person_id"):
            values[k] = values[k] or ""
        return await render(request, "orders/form.html",
                            {"o": row, "values": values, "errors": _locked(row, t_for(request, user)),
                             "customer_name": await customer_name(user.tenant_id, row["customer_id"])}, user=user)

    @page_post("/{order_id:int}/edit")
    async def update(self, request: Request[Any, Any, Any], order_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        row = await services.get_order(user.tenant_id, order_id)
        values: dict[str, Any] = {k: form.get(k, "").strip() for k in EDIT_FIELDS}
        for k in ("description", "invoice_comment"):
            values[k] = form.get(k, "")
        for k in ("customer_id", "contact_person_id"):
            values[k] = values[k] or "0"
        if not values["number"]:
            values.pop("number")
        data, errors = struct_from_form(OrderPatch, values, t, ints=("number", "customer_id", "contact_person_id"))
        status = 400
        if _locked(row, t):
            data, errors, status = None, _locked(row, t), 409
        if data is not None:
            try:
                await services.edit_order(user.tenant_id, order_id, data)
                return redirect(f"/orders/{order_id}", t.gettext("The order is saved."))
            except GallraError as exc:
                errors = error_of(exc, t)
                if isinstance(exc, FieldError) and exc.field == "number":
                    errors = {"number": t.gettext("This order number is already used.")}
                status = getattr(exc, "status_code", 400)
        return await render(request, "orders/form.html", {"o": row, "values": form, "errors": errors}, status,
                            user=user)

    @page_get("/{order_id:int}")
    async def show(self, request: Request[Any, Any, Any], order_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        return await self._show(request, user, order_id)

    async def _show(self, request: Request[Any, Any, Any], user: Any, order_id: int,
                    errors: dict[str, str] | None = None, status: int = 200,
                    values: dict[str, str] | None = None) -> Response[Any]:
        row = await services.get_order(user.tenant_id, order_id)
        lines = [{**line, "unit_price": services.from_minor(line["unit_price_minor"]),
                  "quantity": services.from_milli(line["quantity_milli"]),
                  "amount": services.from_minor(services.line_amount_minor(line))}
                 for line in await services.get_lines(user.tenant_id, order_id) if line.get("kind", "item") != "comment"]
        return await render(request, "orders/detail.html",
                            {"o": row, "lines": lines, "statuses": STATUSES, "errors": errors or {},
                             "values": values or {}, "kind_labels": KIND_LABELS,
                             "total": sum((line["amount"] for line in lines), Decimal("0")),
                             "activity": await activity_of(user.tenant_id, "orders", gdpr.RECORD_TYPE, order_id)},
                            status_code=status, user=user)

    @page_post("/{order_id:int}/activity")
    async def add_entry(self, request: Request[Any, Any, Any], order_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        row = await services.get_order(user.tenant_id, order_id)
        errors = await add_activity_from_form(user, "orders", gdpr.RECORD_TYPE, row, form, t)
        if errors:
            return await self._show(request, user, order_id, errors, 400)
        return redirect(f"/orders/{order_id}#activity-h")

    @page_post("/{order_id:int}/lines")
    async def add_line(self, request: Request[Any, Any, Any], order_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        form = await read_form(request)
        t = t_for(request, user)
        errors: dict[str, str] = {}
        numbers: dict[str, Decimal] = {}
        for k in ("quantity", "unit_price"):
            try:
                numbers[k] = Decimal(form.get(k, "").strip().replace(",", ".").replace(" ", "") or "1")
            except InvalidOperation:
                errors[k] = t.gettext("Write a number, like 12.5.")
        if not form.get("description", "").strip():
            errors["description"] = t.gettext("This must not be empty.")
        if not errors:
            try:
                await services.add_line(user.tenant_id, order_id, OrderLineIn(
                    description=form["description"].strip()[:2000], unit_price=numbers["unit_price"],
                    quantity=numbers["quantity"]))
                return redirect(f"/orders/{order_id}#lines-h")
            except GallraError as exc:
                errors = error_of(exc, t)
        return await self._show(request, user, order_id, errors, 400, form)

    async def _step(self, request: Request[Any, Any, Any], order_id: int, step: str) -> Response[Any]:
        user = await page_user(request)
        await read_form(request)
        t = t_for(request, user)
        fn, message = {
            "close": (services.close_order, _("The order is closed.")),
            "reopen": (services.reopen_order, _("The order is open again.")),
            "invoice": (services.invoice_order, _("The order is marked as invoiced.")),
            "delete": (services.delete_order, _("The order is deleted.")),
        }[step]
        try:
            await fn(user.tenant_id, order_id)
        except GallraError as exc:
            return await self._show(request, user, order_id, error_of(exc, t), exc.status_code)
        return redirect("/orders" if step == "delete" else f"/orders/{order_id}", t.gettext(message))

    @page_post("/{order_id:int}/close")
    async def close(self, request: Request[Any, Any, Any], order_id: FromPath[int]) -> Response[Any]:
        return await self._step(request, order_id, "close")

    @page_post("/{order_id:int}/reopen")
    async def reopen(self, request: Request[Any, Any, Any], order_id: FromPath[int]) -> Response[Any]:
        return await self._step(request, order_id, "reopen")

    @page_post("/{order_id:int}/invoice")
    async def invoice(self, request: Request[Any, Any, Any], order_id: FromPath[int]) -> Response[Any]:
        return await self._step(request, order_id, "invoice")

    @page_get("/{order_id:int}/delete")
    async def confirm_delete(self, request: Request[Any, Any, Any], order_id: FromPath[int]) -> Response[Any]:
        user = await page_user(request)
        t = t_for(request, user)
        row = await services.get_order(user.tenant_id, order_id)
        notice = await retention_notice(user.tenant_id, gdpr.RULE, t, language_of(request, user))
        return await render(request, "orders/delete.html", {"o": row, "notice": notice}, user=user)

    @page_post("/{order_id:int}/delete")
    async def delete(self, request: Request[Any, Any, Any], order_id: FromPath[int]) -> Response[Any]:
        return await self._step(request, order_id, "delete")


def pages() -> list[Any]:
    return [OrderPages, module_settings_pages("orders")]
