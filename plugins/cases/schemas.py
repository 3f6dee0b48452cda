"""Request and response shapes of /api/cases (the public contract).

Optional text fields in a PATCH: absent or null leaves the value alone, "" clears it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from core.records.shapes import Description, EndCustomerIn, EndCustomerPatch, Number, Title

Kind = Literal["case", "service"]


class CaseIn(EndCustomerIn, forbid_unknown_fields=True, kw_only=True):
    title: Title
    kind: Kind = "case"
    number: Number | None = None
    description: Description = ""


class CasePatch(EndCustomerPatch, forbid_unknown_fields=True):
    title: Title | None = None
    kind: Kind | None = None
    number: Number | None = None
    description: Description | None = None


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
