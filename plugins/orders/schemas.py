"""Request and response shapes of /api/orders (the public contract).

Optional text fields in a PATCH: absent or null leaves the value alone, "" clears it.
Quantities have at most three decimals and prices at most two (JSON number or string, e.g.
``"1.5"``, ``"249.90"``); answers give them as strings so no precision is lost.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import msgspec

from core.records.shapes import Description, LineText, Number, RecordOut, RefsIn, Str200, Title, patch_of

InvoiceComment = Annotated[str, msgspec.Meta(max_length=2_000)]
CommentText = Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]


class OrderLineIn(msgspec.Struct, forbid_unknown_fields=True):
    description: LineText
    unit_price: Decimal
    quantity: Decimal = Decimal("1")


class OrderLinePatch(patch_of(OrderLineIn)):  # type: ignore[misc]
    pass


class OrderLineOut(msgspec.Struct):
    id: int
    order_id: int
    position: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


class OrderIn(RefsIn, forbid_unknown_fields=True, kw_only=True):
    title: Title
    number: Number | None = None
    description: Description = ""
    customer_reference: Str200 = ""
    invoice_comment: InvoiceComment = ""
    lines: Annotated[list[OrderLineIn], msgspec.Meta(max_length=500)] = msgspec.field(default_factory=list)


class OrderPatch(patch_of(OrderIn, drop=("lines",))):  # type: ignore[misc]
    """A change of an order: any field of :class:`OrderIn` but its lines (they have their own routes)."""


class OrderOut(RecordOut):
    customer_reference: str
    invoice_comment: str
    status: str
    created_by: int
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    invoiced_at: datetime | None
    deleted_at: datetime | None
    anonymized_at: datetime | None
    lines: list[OrderLineOut]
    total: Decimal


class OrderSummary(msgspec.Struct):
    """An order in a list (without its lines)."""

    id: int
    number: int
    title: str
    customer_id: int
    contact_person_id: int
    status: str
    created_at: datetime
    closed_at: datetime | None
    invoiced_at: datetime | None
    deleted_at: datetime | None
    anonymized_at: datetime | None


class CommentIn(msgspec.Struct, forbid_unknown_fields=True):
    text: CommentText


class CommentOut(msgspec.Struct):
    id: int
    order_id: int
    text: str
    created_by: int
    created_at: datetime
