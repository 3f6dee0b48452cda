"""What is the orders module's own: its fields, article lines, comment rows and invoicing.

Everything else an order does (tenant scope, numbering, read-only history, reference checks,
close/reopen, soft delete, the event log) is the record layer's
(:class:`core.records.RecordService`). Once invoiced, an order's lines and invoice text are
what was invoiced: they can no longer be changed.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from piccolo.query.functions.aggregate import Max

from core.db import atomic, utcnow
from core.errors import Conflict, NotFound
from core.errors import mark as _
from core.eventlog import log_event
from core.records import RecordService, child_of, children_of, where_child
from core.validation import FieldError, decimal_value
from plugins.orders.records import INVOICED_VALUES, ORDER
from plugins.orders.schemas import CommentIn, OrderIn, OrderLineIn, OrderLinePatch, OrderPatch
from plugins.orders.tables import Order, OrderComment, OrderLine


class OrderRecords(RecordService):
    """The record layer's orders; ``invoiced`` filters on whether ``invoiced_at`` is set."""

    def list_where(self, tenant_id: int, *, filters: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        given = dict(filters or {})
        invoiced = given.pop("invoiced", None)
        where = super().list_where(tenant_id, filters=given, **kwargs)
        if invoiced is None:
            return where
        self.check_choice("invoiced", invoiced)
        return where & (Order.invoiced_at.is_not_null() if INVOICED_VALUES[invoiced] else Order.invoiced_at.is_null())


ORDERS = OrderRecords(ORDER, "orders")
MAX_PRICE = Decimal("1000000000")
MAX_QUANTITY = Decimal("1000000")




NOT_ZERO = _("must not be 0")
TITLE_REQUIRED = _("a title is required")
DESCRIBE_ARTICLE = _("describe the article")
WRITE_SOMETHING = _("write something")
INVOICED = _("Order %(number)s is invoiced; what was invoiced cannot be changed.")
NO_LINES = _("Order %(number)s has no article lines to invoice.")
LINE_NOT_FOUND = _("Line %(line)s of order %(order)s was not found.")


# --- money ---------------------------------------------------------------------------


def _scaled(value: Decimal, field: str, decimals: int, limit: Decimal) -> int:
    """A number from -limit to limit with at most ``decimals`` decimals, as whole units of
    its last decimal."""
    return int(decimal_value(value, field, high=limit, low=-limit, low_allowed=True, decimals=decimals)
               * (10**decimals))


def price_minor(value: Decimal, field: str = "unit_price") -> int:
    """A price in kronor (negative for a discount) as whole öre."""
    return _scaled(value, field, 2, MAX_PRICE)


def quantity_milli(value: Decimal, field: str = "quantity") -> int:
    milli = _scaled(value, field, 3, MAX_QUANTITY)
    if milli == 0:
        raise FieldError(field, NOT_ZERO, code="quantity_zero")
    return milli


def from_minor(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(Decimal("0.01"))


def from_milli(value: int) -> Decimal:
    return (Decimal(value) / 1000).normalize() if value % 1000 else Decimal(value // 1000)


def line_amount_minor(row: dict) -> int:
    """Quantity times unit price, rounded half up to whole öre."""
    exact = Decimal(int(row["quantity_milli"])) * Decimal(int(row["unit_price_minor"])) / 1000
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --- orders --------------------------------------------------------------------------


async def get_order(tenant_id: int, order_id: int) -> dict:
    return await ORDERS.get(tenant_id, order_id)


async def get_lines(tenant_id: int, order_id: int) -> list[dict]:
    return (await children_of(OrderLine, "order_id", tenant_id, [order_id], dict, OrderLine.position))[order_id]


def _title(value: str) -> str:
    title = value.strip()
    if not title:
        raise FieldError("title", TITLE_REQUIRED, code="order.title_required")
    return title


def _line_text(value: str, field: str = "description") -> str:
    text = value.strip()
    if not text:
        raise FieldError(field, DESCRIBE_ARTICLE, code="order.line_description_required")
    return text


def _not_invoiced(row: dict) -> None:
    if row["invoiced_at"] is not None:
        raise Conflict(INVOICED, code="order.invoiced", number=row["number"])


async def _changeable(tenant_id: int, order_id: int) -> dict:
    """The order, neither deleted, anonymized nor invoiced (inside a transaction)."""
    row = await ORDERS.get_writable(tenant_id, order_id)
    _not_invoiced(row)
    return row


async def _log(tenant_id: int, action: str, order_id: int) -> None:
    await log_event(tenant_id, action=action, plugin="orders", record_type="order",
                    record_id=order_id)


def _line_values(
    tenant_id: int, order_id: int, position: int, line: OrderLineIn, prefix: str
) -> dict:
    return dict(
        tenant_id=tenant_id,
        order_id=order_id,
        position=position,
        description=_line_text(line.description, f"{prefix}description"),
        quantity_milli=quantity_milli(line.quantity, f"{prefix}quantity"),
        unit_price_minor=price_minor(line.unit_price, f"{prefix}unit_price"),
    )


@ORDERS.creates
async def create_order(tenant_id: int, employee_id: int, data: OrderIn) -> dict:
    values = dict(
        title=_title(data.title), description=data.description, customer_id=data.customer_id,
        contact_person_id=data.contact_person_id,
        customer_reference=data.customer_reference.strip(),
        invoice_comment=data.invoice_comment, created_by=employee_id,
    )
    # Check every line before writing anything.
    lines = [
        _line_values(tenant_id, 0, i + 1, line, f"lines.{i}.") for i, line in enumerate(data.lines)
    ]
    async with atomic():
        order = await ORDERS.create(tenant_id, values, number=data.number)
        if lines:
            await OrderLine.insert(*[OrderLine(**{**v, "order_id": order["id"]}) for v in lines])
    return order


@ORDERS.edits
async def edit_order(tenant_id: int, order_id: int, data: OrderPatch) -> dict:
    changes: dict[str, Any] = {}
    if data.title is not None:
        changes["title"] = _title(data.title)
    if data.customer_reference is not None:
        changes["customer_reference"] = data.customer_reference.strip()
    for name in ("description", "customer_id", "contact_person_id", "invoice_comment"):
        if getattr(data, name) is not None:
            changes[name] = getattr(data, name)
    async with atomic():
        row = await _changeable(tenant_id, order_id)
        return await ORDERS.edit(tenant_id, order_id, changes, number=data.number, row=row)








async def invoice_order(tenant_id: int, order_id: int) -> dict:
    """Mark the order invoiced: its lines are frozen and the clock of M22 starts."""
    async with atomic():
        row = await _changeable(tenant_id, order_id)
        if not await get_lines(tenant_id, order_id):
            raise Conflict(NO_LINES, code="order.no_lines", number=row["number"])
        now = utcnow()
        await Order.update({Order.invoiced_at: now, Order.updated_at: now}).where(
            ORDERS.where_own(tenant_id, order_id) & Order.invoiced_at.is_null()
        )
        await _log(tenant_id, "order.invoiced", order_id)
        return await get_order(tenant_id, order_id)


# --- article lines -------------------------------------------------------------------


def _where_line(tenant_id: int, order_id: int, line_id: int) -> Any:
    return where_child(OrderLine, "order_id", tenant_id, order_id, line_id)


async def get_line(tenant_id: int, order_id: int, line_id: int) -> dict:
    missing = NotFound(LINE_NOT_FOUND, code="order_line.not_found", line=line_id, order=order_id)
    return await child_of(OrderLine, "order_id", tenant_id, order_id, line_id, missing)


async def add_line(tenant_id: int, order_id: int, data: OrderLineIn) -> dict:
    values = _line_values(tenant_id, order_id, 0, data, "")
    async with atomic():
        await _changeable(tenant_id, order_id)
        top = (
            await OrderLine.select(Max(OrderLine.position, alias="top"))
            .where((OrderLine.tenant_id == tenant_id) & (OrderLine.order_id == order_id))
            .first()
        )
        values["position"] = int((top or {}).get("top") or 0) + 1
        rows = await OrderLine.insert(OrderLine(**values)).returning(*OrderLine.all_columns())
        await _log(tenant_id, "order.line_added", order_id)
    return rows[0]


async def edit_line(tenant_id: int, order_id: int, line_id: int, data: OrderLinePatch) -> dict:
    changes: dict[Any, Any] = {}
    if data.description is not None:
        changes[OrderLine.description] = _line_text(data.description)
    if data.quantity is not None:
        changes[OrderLine.quantity_milli] = quantity_milli(data.quantity)
    if data.unit_price is not None:
        changes[OrderLine.unit_price_minor] = price_minor(data.unit_price)
    async with atomic():
        await _changeable(tenant_id, order_id)
        await get_line(tenant_id, order_id, line_id)
        if changes:
            await OrderLine.update(changes).where(_where_line(tenant_id, order_id, line_id))
        await _log(tenant_id, "order.line_edited", order_id)
        return await get_line(tenant_id, order_id, line_id)


async def delete_line(tenant_id: int, order_id: int, line_id: int) -> dict:
    async with atomic():
        await _changeable(tenant_id, order_id)
        line = await get_line(tenant_id, order_id, line_id)
        await OrderLine.delete().where(_where_line(tenant_id, order_id, line_id))
        await _log(tenant_id, "order.line_deleted", order_id)
    return line


# --- comment rows --------------------------------------------------------------------


async def list_comments(tenant_id: int, order_id: int) -> list[dict]:
    await get_order(tenant_id, order_id)
    return (await children_of(OrderComment, "order_id", tenant_id, [order_id], dict))[order_id]


async def add_comment(tenant_id: int, employee_id: int, order_id: int, data: CommentIn) -> dict:
    text = data.text.strip()
    if not text:
        raise FieldError("text", WRITE_SOMETHING, code="order.comment_required")
    async with atomic():
        await ORDERS.get_writable(tenant_id, order_id)
        rows = await OrderComment.insert(
            OrderComment(tenant_id=tenant_id, order_id=order_id, text=text, created_by=employee_id)
        ).returning(*OrderComment.all_columns())
        await _log(tenant_id, "order.comment_added", order_id)
    return rows[0]
