"""Request and response shapes of the quotes API (the public contract).

Money and quantities travel as decimal numbers; responses write them as strings ("12.50")
so no client loses a cent to floating point.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import msgspec

from core.records.shapes import LineText, RecordOut, RefsIn, Title, patch_of
from core.routes.signing import link_signed_out

Text = Annotated[str, msgspec.Meta(max_length=10_000)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class LineIn(msgspec.Struct, forbid_unknown_fields=True):
    description: LineText
    quantity: Decimal
    unit_price: Decimal


class LinePatch(patch_of(LineIn)):  # type: ignore[misc]
    position: Annotated[int, msgspec.Meta(ge=0, le=10_000)] | None = None


class QuoteIn(RefsIn, forbid_unknown_fields=True, kw_only=True):
    title: Title
    description: Text = ""
    valid_until: date | None = None
    lines: Annotated[list[LineIn], msgspec.Meta(max_length=500)] = msgspec.field(default_factory=list)


class QuotePatch(patch_of(QuoteIn, drop=("lines",))):  # type: ignore[misc]
    """A change of a quote: any field of :class:`QuoteIn` but its lines (they have their own
    routes); ``clear_valid_until`` removes the date."""

    clear_valid_until: bool = False


class LineOut(msgspec.Struct):
    id: int
    position: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


class QuoteOut(RecordOut):
    status: str
    valid_until: date | None
    sent_to_email: str
    approver_name: str
    approver_email: str
    approver_phone: str
    accepted_at: datetime | None
    created_at: datetime
    sent_at: datetime | None
    closed_at: datetime | None
    voided_at: datetime | None
    deleted_at: datetime | None
    anonymized_at: datetime | None
    total: Decimal
    lines: list[LineOut] = msgspec.field(default_factory=list)


class ViewOut(msgspec.Struct):
    id: int
    quote_id: int
    viewed_at: datetime
    email: str
    ip: str


class ViewPage(msgspec.Struct):
    total: int
    offset: int
    limit: int
    items: list[ViewOut]


class PublicQuoteOut(msgspec.Struct):
    """What the recipient of the link sees: the offer, not the seller's internal data."""

    organization: str
    number: int
    title: str
    description: str
    status: str
    valid_until: date | None
    total: Decimal
    lines: list[LineOut]
    accepted_at: datetime | None
    can_accept: bool


# Accepting through the link: "accepted" with its time, or the SMS challenge first.
AcceptOut = link_signed_out("AcceptOut", "accepted", "accepted_at", __name__)
