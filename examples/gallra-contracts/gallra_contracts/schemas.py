"""Request and response shapes of /api/contracts (the public contract of the module).

In a PATCH, an absent or null field leaves the value alone; "" clears a text.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Name = Annotated[str, msgspec.Meta(max_length=200)]
Email = Annotated[str, msgspec.Meta(max_length=254)]
Terms = Annotated[str, msgspec.Meta(max_length=50_000)]
Number = Annotated[int, msgspec.Meta(ge=1, le=2_000_000_000)]
RefId = Annotated[int, msgspec.Meta(ge=0, le=2_147_483_647)]


class ContractIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    number: Number | None = None
    customer_id: RefId = 0
    contact_person_id: RefId = 0
    signer_name: Name = ""
    signer_email: Email | None = None
    signed_on: date | None = None
    terms: Terms = ""


class ContractPatch(msgspec.Struct, forbid_unknown_fields=True):
    title: Title | None = None
    number: Number | None = None
    customer_id: RefId | None = None
    contact_person_id: RefId | None = None
    signer_name: Name | None = None
    signer_email: Email | None = None
    signed_on: date | None = None
    terms: Terms | None = None


class ContractOut(msgspec.Struct):
    id: int
    number: int
    title: str
    customer_id: int
    contact_person_id: int
    signer_name: str
    signer_email: str | None
    signed_on: date | None
    terms: str
    status: str
    created_by: int
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    deleted_at: datetime | None
    anonymized_at: datetime | None
