"""Request and response shapes of /api/customers (the public contract).

Optional text fields in a PATCH: absent or null leaves the value alone, "" clears it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from core.records.shapes import Email, Number, Phone, Str200

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Str100 = Annotated[str, msgspec.Meta(max_length=100)]
Postcode = Annotated[str, msgspec.Meta(max_length=20)]
IdNumber = Annotated[str, msgspec.Meta(max_length=20)]
Notes = Annotated[str, msgspec.Meta(max_length=10_000)]
Comment = Annotated[str, msgspec.Meta(max_length=10_000)]
RefId = Annotated[int, msgspec.Meta(ge=0, le=2**53)]
DateText = Annotated[str, msgspec.Meta(max_length=40)]
Kind = Literal["company", "private"]


class ReachIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """How a customer or a contact person is reached, in a create and a PATCH alike (null:
    none, or in a PATCH: left as it is; "" clears)."""

    email: Email | None = None
    mobile_phone: Phone | None = None
    private_phone: Phone | None = None
    work_phone: Phone | None = None


class CustomerIn(ReachIn, kw_only=True):
    """A new customer. An organization number another live customer has answers 409
    ``customer.duplicate_org_number`` (``params.customer_id``: that customer) unless
    ``confirm_duplicate`` is true."""

    name: Name
    kind: Kind = "company"
    number: Number | None = None
    org_number: IdNumber | None = None
    national_id: IdNumber | None = None
    postal_street: Str200 = ""
    postal_postcode: Postcode = ""
    postal_city: Str100 = ""
    visiting_street: Str200 = ""
    visiting_postcode: Postcode = ""
    visiting_city: Str100 = ""
    notes: Notes = ""
    confirm_duplicate: bool = False


class CustomerPatch(ReachIn, kw_only=True):
    name: Name | None = None
    kind: Kind | None = None
    number: Number | None = None
    org_number: IdNumber | None = None
    national_id: IdNumber | None = None
    postal_street: Str200 | None = None
    postal_postcode: Postcode | None = None
    postal_city: Str100 | None = None
    visiting_street: Str200 | None = None
    visiting_postcode: Postcode | None = None
    visiting_city: Str100 | None = None
    notes: Notes | None = None
    confirm_duplicate: bool = False
    """True: save a new organization number that another live customer has (else 409)."""


class CustomerOut(msgspec.Struct):
    id: int
    number: int
    kind: str
    name: str
    org_number: str | None
    national_id: str | None
    email: str | None
    mobile_phone: str | None
    private_phone: str | None
    work_phone: str | None
    postal_street: str
    postal_postcode: str
    postal_city: str
    visiting_street: str
    visiting_postcode: str
    visiting_city: str
    notes: str
    created_at: datetime
    deleted_at: datetime | None
    anonymized_at: datetime | None


class ContactIn(ReachIn, kw_only=True):
    name: Name
    title: Str200 = ""


class ContactPatch(ReachIn, kw_only=True):
    name: Name | None = None
    title: Str200 | None = None


class ContactOut(msgspec.Struct):
    id: int
    customer_id: int
    name: str
    title: str
    email: str | None
    mobile_phone: str | None
    private_phone: str | None
    work_phone: str | None
    created_at: datetime
    deleted_at: datetime | None
    anonymized_at: datetime | None


class LogIn(msgspec.Struct, forbid_unknown_fields=True):
    # "2026-05-01" (that day, 00:00 UTC) or an ISO date-time; now when left out.
    date: DateText | None = None
    contact_person_id: RefId = 0
    comment: Comment = ""


class LogPatch(msgspec.Struct, forbid_unknown_fields=True):
    date: DateText | None = None
    # 0 removes the contact person from the entry.
    contact_person_id: RefId | None = None
    comment: Comment | None = None


class LogOut(msgspec.Struct):
    id: int
    date: datetime
    customer_id: int
    contact_person_id: int
    comment: str
    created_by: int
    created_at: datetime
    anonymized_at: datetime | None


class LogPage(msgspec.Struct):
    total: int
    offset: int
    limit: int
    items: list[LogOut]


class ContactPage(msgspec.Struct):
    total: int
    offset: int
    limit: int
    items: list[ContactOut]
