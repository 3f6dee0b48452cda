"""Business logic of orders, their article lines and comment rows, free of HTTP.

Every function takes the tenant id and filters on it; a record of another tenant is "not
found" (404), exactly like a record that does not exist. Once invoiced, an order's lines
and invoice text are what was invoiced: they can no longer be changed.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from litestar.exceptions import ClientException, NotFoundException
from piccolo.query.functions.aggregate import Max

from core.db import atomic, utcnow
from core.numbering import lock_numbers, next_number
from core.references import check_party
from core.tenancy import get_scoped
from core.validation import FieldError
from plugins.orders.schemas import CommentIn, OrderIn, OrderLineIn, OrderLinePatch, OrderPatch
from plugins.orders.tables import Order, OrderComment, OrderLine

WHAT = "Order"
STATUSES = ("open", "closed")
MAX_PRICE = Decimal("1000000000")
MAX_QUANTITY = Decimal("1000000")


def _conflict(message: str) -> ClientException:
    return ClientException(message, status_code=409)


def _where_own(tenant_id: int, order_id: int) -> Any:
    return (Order.tenant_id == tenant_id) & (Order.id == order_id)


# --- money ---------------------------------------------------------------------------


def _scaled(value: Decimal, field: str, decimals: int, limit: Decimal) -> int:
    if not value.is_finite():
        raise FieldError(field, "must be a number")
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -decimals:
        raise FieldError(field, f"at most {decimals} decimals")
    if abs(value) > limit:
        raise FieldError(field, f"must be between -{limit} and {limit}")
    return int(value * (10**decimals))


def price_minor(value: Decimal, field: str = "unit_price") -> int:
    """A price in kronor (negative for a discount) as whole öre."""
    return _scaled(value, field, 2, MAX_PRICE)


def quantity_milli(value: Decimal, field: str = "quantity") -> int:
    milli = _scaled(value, field, 3, MAX_QUANTITY)
    if milli == 0:
        raise FieldError(field, "must not be 0")
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
    return await get_scoped(Order, tenant_id, order_id, WHAT)


async def get_lines(tenant_id: int, order_id: int) -> list[dict]:
    return (
        await OrderLine.select()
        .where((OrderLine.tenant_id == tenant_id) & (OrderLine.order_id == order_id))
        .order_by(OrderLine.position)
        .order_by(OrderLine.id)
    )


NUMBER_LOCK = 0x4F52  # advisory-lock class of this plugin's numbering (PostgreSQL)


async def _check_number_free(tenant_id: int, number: int, exclude_id: int | None = None) -> None:
    query = Order.exists().where((Order.tenant_id == tenant_id) & (Order.number == number))
    if exclude_id is not None:
        query = query.where(Order.id != exclude_id)
    if await query:
        raise FieldError("number", f"order number {number} is already used in this organization")


def _title(value: str) -> str:
    title = value.strip()
    if not title:
        raise FieldError("title", "a title is required")
    return title


def _line_text(value: str, field: str = "description") -> str:
    text = value.strip()
    if not text:
        raise FieldError(field, "describe the article")
    return text


def _writable(row: dict) -> None:
    """Deleted and anonymized orders are history: they can be read, not changed."""
    if row["anonymized_at"] is not None:
        raise _conflict(f"Order {row['number']} is anonymized and can no longer be changed.")
    if row["deleted_at"] is not None:
        raise _conflict(f"Order {row['number']} is deleted and can no longer be changed.")


def _not_invoiced(row: dict) -> None:
    if row["invoiced_at"] is not None:
        raise _conflict(f"Order {row['number']} is invoiced; what was invoiced cannot be changed.")


async def list_orders(
    tenant_id: int,
    offset: int,
    limit: int,
    status: str | None = None,
    customer_id: int | None = None,
    invoiced: bool | None = None,
    include_deleted: bool = False,
) -> tuple[int, list[dict]]:
    where = Order.tenant_id == tenant_id
    if status is not None:
        if status not in STATUSES:
            raise FieldError("status", "must be open or closed")
        where = where & (Order.status == status)
    if customer_id is not None:
        where = where & (Order.customer_id == customer_id)
    if invoiced is True:
        where = where & Order.invoiced_at.is_not_null()
    elif invoiced is False:
        where = where & Order.invoiced_at.is_null()
    if not include_deleted:
        where = where & Order.deleted_at.is_null()
    total = await Order.count().where(where)
    rows = (
        await Order.select()
        .where(where)
        .order_by(Order.number, ascending=False)
        .offset(offset)
        .limit(limit)
    )
    return total, rows


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


async def create_order(tenant_id: int, employee_id: int, data: OrderIn) -> dict:
    values = dict(
        tenant_id=tenant_id,
        title=_title(data.title),
        description=data.description,
        customer_id=data.customer_id,
        contact_person_id=data.contact_person_id,
        customer_reference=data.customer_reference.strip(),
        invoice_comment=data.invoice_comment,
        status="open",
        created_by=employee_id,
    )
    # Check every line before writing anything.
    lines = [
        _line_values(tenant_id, 0, i + 1, line, f"lines.{i}.") for i, line in enumerate(data.lines)
    ]
    async with atomic():
        await check_party(tenant_id, data.customer_id, data.contact_person_id)
        await lock_numbers(NUMBER_LOCK, tenant_id)
        if data.number is not None:
            await _check_number_free(tenant_id, data.number)
            values["number"] = data.number
        else:
            values["number"] = await next_number(Order.number, tenant_id)
        rows = await Order.insert(Order(**values)).returning(*Order.all_columns())
        order = rows[0]
        if lines:
            await OrderLine.insert(*[OrderLine(**{**v, "order_id": order["id"]}) for v in lines])
    return order


async def edit_order(tenant_id: int, order_id: int, data: OrderPatch) -> dict:
    changes: dict[Any, Any] = {}
    if data.title is not None:
        changes[Order.title] = _title(data.title)
    if data.description is not None:
        changes[Order.description] = data.description
    if data.customer_id is not None:
        changes[Order.customer_id] = data.customer_id
    if data.contact_person_id is not None:
        changes[Order.contact_person_id] = data.contact_person_id
    if data.customer_reference is not None:
        changes[Order.customer_reference] = data.customer_reference.strip()
    if data.invoice_comment is not None:
        changes[Order.invoice_comment] = data.invoice_comment
    async with atomic():
        row = await get_order(tenant_id, order_id)
        _writable(row)
        _not_invoiced(row)
        await check_party(tenant_id, data.customer_id, data.contact_person_id, before=row)
        if data.number is not None and data.number != row["number"]:
            await _check_number_free(tenant_id, data.number, exclude_id=order_id)
            changes[Order.number] = data.number
        if changes:
            changes[Order.updated_at] = utcnow()
            await Order.update(changes).where(_where_own(tenant_id, order_id))
        return await get_order(tenant_id, order_id)


async def close_order(tenant_id: int, order_id: int) -> dict:
    async with atomic():
        row = await get_order(tenant_id, order_id)
        _writable(row)
        if row["status"] == "closed":
            raise _conflict(f"Order {row['number']} is already closed.")
        now = utcnow()
        await Order.update(
            {Order.status: "closed", Order.closed_at: now, Order.updated_at: now}
        ).where(_where_own(tenant_id, order_id))
        return await get_order(tenant_id, order_id)


async def reopen_order(tenant_id: int, order_id: int) -> dict:
    async with atomic():
        row = await get_order(tenant_id, order_id)
        _writable(row)
        if row["status"] != "closed":
            raise _conflict(f"Order {row['number']} is not closed.")
        await Order.update(
            {Order.status: "open", Order.closed_at: None, Order.updated_at: utcnow()}
        ).where(_where_own(tenant_id, order_id))
        return await get_order(tenant_id, order_id)


async def invoice_order(tenant_id: int, order_id: int) -> dict:
    """Mark the order invoiced: its lines are frozen and the clock of M22 starts."""
    async with atomic():
        row = await get_order(tenant_id, order_id)
        _writable(row)
        _not_invoiced(row)
        if not await get_lines(tenant_id, order_id):
            raise _conflict(f"Order {row['number']} has no article lines to invoice.")
        now = utcnow()
        await Order.update({Order.invoiced_at: now, Order.updated_at: now}).where(
            _where_own(tenant_id, order_id) & Order.invoiced_at.is_null()
        )
        return await get_order(tenant_id, order_id)


async def delete_order(tenant_id: int, order_id: int) -> dict:
    """Soft delete; deleting starts the retention clock. Deleting again changes nothing."""
    from plugins.orders import gdpr

    async with atomic():
        row = await get_order(tenant_id, order_id)
        if row["deleted_at"] is None:
            now = utcnow()
            await Order.update({Order.deleted_at: now, Order.updated_at: now}).where(
                _where_own(tenant_id, order_id)
            )
            await gdpr.anonymize_now_if_immediate(tenant_id, order_id)
        return await get_order(tenant_id, order_id)


# --- article lines -------------------------------------------------------------------


def _where_line(tenant_id: int, order_id: int, line_id: int) -> Any:
    return (
        (OrderLine.tenant_id == tenant_id)
        & (OrderLine.order_id == order_id)
        & (OrderLine.id == line_id)
    )


async def get_line(tenant_id: int, order_id: int, line_id: int) -> dict:
    row = await OrderLine.select().where(_where_line(tenant_id, order_id, line_id)).first()
    if row is None:
        raise NotFoundException(f"Line {line_id} of order {order_id} was not found")
    return row


async def add_line(tenant_id: int, order_id: int, data: OrderLineIn) -> dict:
    values = _line_values(tenant_id, order_id, 0, data, "")
    async with atomic():
        row = await get_order(tenant_id, order_id)
        _writable(row)
        _not_invoiced(row)
        top = (
            await OrderLine.select(Max(OrderLine.position, alias="top"))
            .where((OrderLine.tenant_id == tenant_id) & (OrderLine.order_id == order_id))
            .first()
        )
        values["position"] = int((top or {}).get("top") or 0) + 1
        rows = await OrderLine.insert(OrderLine(**values)).returning(*OrderLine.all_columns())
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
        row = await get_order(tenant_id, order_id)
        _writable(row)
        _not_invoiced(row)
        await get_line(tenant_id, order_id, line_id)
        if changes:
            await OrderLine.update(changes).where(_where_line(tenant_id, order_id, line_id))
        return await get_line(tenant_id, order_id, line_id)


async def delete_line(tenant_id: int, order_id: int, line_id: int) -> dict:
    async with atomic():
        row = await get_order(tenant_id, order_id)
        _writable(row)
        _not_invoiced(row)
        line = await get_line(tenant_id, order_id, line_id)
        await OrderLine.delete().where(_where_line(tenant_id, order_id, line_id))
    return line


# --- comment rows --------------------------------------------------------------------


async def list_comments(tenant_id: int, order_id: int) -> list[dict]:
    await get_order(tenant_id, order_id)
    return (
        await OrderComment.select()
        .where((OrderComment.tenant_id == tenant_id) & (OrderComment.order_id == order_id))
        .order_by(OrderComment.id)
    )


async def add_comment(tenant_id: int, employee_id: int, order_id: int, data: CommentIn) -> dict:
    text = data.text.strip()
    if not text:
        raise FieldError("text", "write something")
    async with atomic():
        _writable(await get_order(tenant_id, order_id))
        rows = await OrderComment.insert(
            OrderComment(tenant_id=tenant_id, order_id=order_id, text=text, created_by=employee_id)
        ).returning(*OrderComment.all_columns())
    return rows[0]
