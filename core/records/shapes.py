"""The field shapes the record schemas of plugins share (msgspec constraints of the
public contract): a record's title, number, references, free text and the customer's
contact fields. A plugin's ``schemas.py`` imports these instead of repeating them, so a
limit (a title's 200 characters, an id's 32 bits) is the same in every module."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, TypeVar

import msgspec

S = TypeVar("S", bound=msgspec.Struct)

MAX_ID = 2_147_483_647  # the ids are 32-bit integers on PostgreSQL and SQLite

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Str200 = Annotated[str, msgspec.Meta(max_length=200)]
Address = Annotated[str, msgspec.Meta(max_length=400)]
Email = Annotated[str, msgspec.Meta(max_length=254)]
Phone = Annotated[str, msgspec.Meta(max_length=40)]
Description = Annotated[str, msgspec.Meta(max_length=20_000)]
LineText = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]  # what a line (of an order, a quote) is for
Number = Annotated[int, msgspec.Meta(ge=1, le=2_000_000_000)]  # the number people know
RefId = Annotated[int, msgspec.Meta(ge=0, le=MAX_ID)]  # a reference; 0 for none

__all__ = [
    "MAX_ID",
    "Address",
    "Description",
    "Email",
    "EndCustomerIn",
    "EndCustomerOut",
    "EndCustomerPatch",
    "LineText",
    "Number",
    "Phone",
    "RecordOut",
    "RefId",
    "RefsIn",
    "RefsPatch",
    "Str200",
    "Title",
    "out_of",
    "patch_of",
]


def out_of(struct: type[S], source: Any, **given: Any) -> S:
    """``struct`` filled field by field from ``source`` (a row, or any object with the
    fields as attributes), ``given`` first: ``out_of(PlanOut, row, total=total)``. A field
    neither has keeps its default (msgspec refuses a missing required one)."""
    values: dict[str, Any] = {}
    for field in struct.__struct_fields__:
        if field in given:
            values[field] = given[field]
        elif isinstance(source, Mapping):
            if field in source:
                values[field] = source[field]
        elif hasattr(source, field):
            values[field] = getattr(source, field)
    return struct(**values)


def patch_of(struct: type[msgspec.Struct], *, drop: tuple[str, ...] = ()) -> Any:
    """The PATCH shape of the request shape ``struct``, made from it so the two cannot
    drift apart: each of its fields but ``drop``, with the same type and limits, optional
    (absent or null leaves the value alone; "" clears a text), unknown fields refused.
    A subclass adds what only a change has:
    ``class QuotePatch(patch_of(QuoteIn, drop=("lines",))): clear_valid_until: bool = False``.
    (Typed ``Any``: a class made at run time is a base the type checker cannot follow.)"""
    fields = [(f.name, f.type | None, None) for f in msgspec.structs.fields(struct) if f.name not in drop]
    name = struct.__name__.removesuffix("In") + "Patch"
    return msgspec.defstruct(name, fields, forbid_unknown_fields=True, module=struct.__module__)


# Bases of a record's request and answer shapes. A plugin's struct inherits one and adds its
# own fields (``kw_only=True`` when it adds a required field after these optional ones); the
# request's field order does not matter, the answer's base fields come first.


class RefsIn(msgspec.Struct, forbid_unknown_fields=True):
    """The customer and contact person a new record is for (0 for none)."""

    customer_id: RefId = 0
    contact_person_id: RefId = 0


class RefsPatch(patch_of(RefsIn)):  # type: ignore[misc]
    """The customer and contact person in a PATCH (absent or null leaves them alone)."""


class EndCustomerIn(RefsIn, forbid_unknown_fields=True):
    """:class:`RefsIn` and the end customer (the one the work is done for)."""

    end_customer_name: Str200 = ""
    end_customer_address: Address = ""
    end_customer_phone: Phone | None = None
    end_customer_email: Email | None = None


class EndCustomerPatch(patch_of(EndCustomerIn)):  # type: ignore[misc]
    """:class:`RefsPatch` and the end customer in a PATCH ("" clears a text)."""


class RecordOut(msgspec.Struct):
    """The first fields of a numbered record's answer."""

    id: int
    number: int
    title: str
    description: str
    customer_id: int
    contact_person_id: int


class EndCustomerOut(RecordOut):
    """:class:`RecordOut`, the end customer and the record's life (status, who created it,
    when it changed, closed, was deleted or anonymized); the plugin's own fields follow."""

    end_customer_name: str
    end_customer_address: str
    end_customer_phone: str | None
    end_customer_email: str | None
    status: str
    created_by: int
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    deleted_at: datetime | None
    anonymized_at: datetime | None
