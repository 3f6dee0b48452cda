"""Request and response shapes of /api/cases (the public contract).

Optional text fields in a PATCH: absent or null leaves the value alone, "" clears it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Str200 = Annotated[str, msgspec.Meta(max_length=200)]
Address = Annotated[str, msgspec.Meta(max_length=400)]
Email = Annotated[str, msgspec.Meta(max_length=254)]
Phone = Annotated[str, msgspec.Meta(max_length=40)]
Description = Annotated[str, msgspec.Meta(max_length=20_000)]
Number = Annotated[int, msgspec.Meta(ge=1, le=2_000_000_000)]
RefId = Annotated[int, msgspec.Meta(ge=0, le=2_147_483_647)]
Kind = Literal["case", "service"]


class CaseIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    kind: Kind = "case"
    number: Number | None = None
    description: Description = ""
    customer_id: RefId = 0
    contact_person_id: RefId = 0
    end_customer_name: Str200 = ""
    end_customer_address: Address = ""
    end_customer_phone: Phone | None = None
    end_customer_email: Email | None = None


class CasePatch(msgspec.Struct, forbid_unknown_fields=True):
    title: Title | None = None
    kind: Kind | None = None
    number: Number | None = None
    description: Description | None = None
    customer_id: RefId | None = None
    contact_person_id: RefId | None = None
    end_customer_name: Str200 | None = None
    end_customer_address: Address | None = None
    end_customer_phone: Phone | None = None
    end_customer_email: Email | None = None


class CaseOut(msgspec.Struct):
    id: int
    number: int
    kind: str
    title: str
    description: str
    customer_id: int
    contact_person_id: int
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
