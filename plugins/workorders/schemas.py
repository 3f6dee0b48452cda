"""Request and response shapes of /api/workorders (the public contract).

Optional text fields in a PATCH: absent or null leaves the value alone, "" clears it.
Amounts are decimal numbers with at most two decimals (JSON number or string, e.g.
``"1250.50"``); answers give them as strings so no precision is lost.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

import msgspec

from core.records.shapes import (
    Description,
    Email,
    EndCustomerIn,
    EndCustomerOut,
    Number,
    Phone,
    Str200,
    Title,
    patch_of,
)
from core.routes.schemas import ChallengeId, SecondFactorOut

LineText = Annotated[str, msgspec.Meta(min_length=1, max_length=2_000)]
ApproverName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class WorkOrderIn(EndCustomerIn, forbid_unknown_fields=True, kw_only=True):
    title: Title
    number: Number | None = None
    description: Description = ""
    email: Email | None = None
    customer_reference: Str200 = ""


class WorkOrderPatch(patch_of(WorkOrderIn)):  # type: ignore[misc]
    """A change of a work order: any field of :class:`WorkOrderIn`."""


class WorkOrderOut(EndCustomerOut):
    email: str | None
    customer_reference: str


class ExtraCostIn(msgspec.Struct, forbid_unknown_fields=True):
    description: LineText
    amount: Decimal


class ExtraCostPatch(patch_of(ExtraCostIn)):  # type: ignore[misc]
    pass


class ExtraCostOut(msgspec.Struct):
    id: int
    work_order_id: int
    description: str
    amount: Decimal
    approved_at: datetime | None
    approver_name: str
    approver_phone: str
    created_by: int
    created_at: datetime
    # The customer declined it in the customer portal (approver_* say who).
    declined_at: datetime | None = None


class ApproveIn(msgspec.Struct, forbid_unknown_fields=True):
    """Who approves. ``challenge_id`` re-submits the step after the SMS code was entered."""

    approver_name: ApproverName
    approver_phone: Phone | None = None
    challenge_id: ChallengeId | None = None


class ApprovalOut(msgspec.Struct):
    status: Literal["approved", "second_factor_required"]
    extra_cost: ExtraCostOut | None = None
    second_factor: SecondFactorOut | None = None
