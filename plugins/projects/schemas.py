"""Request and response shapes of the projects API (the public contract).

Amounts travel as decimal numbers; responses write them as strings ("12.50").
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

import msgspec

from core.records.shapes import Email, Phone, RefId, Title, patch_of
from core.records.shapes import Str200 as Name
from core.routes.signing import link_signed_out

LongText = Annotated[str, msgspec.Meta(max_length=10_000)]
LineText = Annotated[str, msgspec.Meta(max_length=500)]
Address = Annotated[str, msgspec.Meta(max_length=300)]
InvitationStatus = Literal["invited", "accepted", "declined"]


class ProjectIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    customer_id: RefId = 0
    contact_person_id: RefId = 0
    end_customer_name: Name = ""
    end_customer_address: Address = ""
    end_customer_phone: Phone = ""
    end_customer_email: Email = ""
    email: Email = ""


class ProjectPatch(patch_of(ProjectIn)):  # type: ignore[misc]
    pass


class SubProjectIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Title
    description: LongText = ""


class SubProjectPatch(patch_of(SubProjectIn)):  # type: ignore[misc]
    pass


class ExtraCostIn(msgspec.Struct, forbid_unknown_fields=True):
    description: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    amount: Decimal


class ExtraCostPatch(patch_of(ExtraCostIn)):  # type: ignore[misc]
    pass


class InvitationIn(msgspec.Struct, forbid_unknown_fields=True):
    partner_company: Title
    partner_contact: Name = ""
    partner_email: Email = ""
    comment: LongText = ""


class InvitationPatch(patch_of(InvitationIn)):  # type: ignore[misc]
    status: InvitationStatus | None = None


class InstallmentIn(msgspec.Struct, forbid_unknown_fields=True):
    due_date: date
    amount: Decimal
    description: LineText = ""


class PaymentPlanIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    installments: Annotated[list[InstallmentIn], msgspec.Meta(min_length=1, max_length=120)]


class PaymentPlanPatch(patch_of(PaymentPlanIn)):  # type: ignore[misc]
    """A change of a plan; ``installments`` replaces every installment of the plan."""


class SubProjectOut(msgspec.Struct):
    id: int
    project_id: int
    name: str
    description: str
    created_at: datetime


class ExtraCostOut(msgspec.Struct):
    id: int
    project_id: int
    description: str
    amount: Decimal
    created_at: datetime


class InvitationOut(msgspec.Struct):
    id: int
    project_id: int
    partner_company: str
    partner_contact: str
    partner_email: str
    comment: str
    status: str
    created_at: datetime


class InstallmentOut(msgspec.Struct):
    id: int
    due_date: date
    amount: Decimal
    description: str


class PaymentPlanOut(msgspec.Struct):
    id: int
    project_id: int
    title: str
    status: str
    sent_to_email: str
    approver_name: str
    approver_email: str
    approver_phone: str
    approved_at: datetime | None
    sent_at: datetime | None
    created_at: datetime
    total: Decimal
    installments: list[InstallmentOut]


class ProjectOut(msgspec.Struct):
    id: int
    number: int
    title: str
    customer_id: int
    contact_person_id: int
    end_customer_name: str
    end_customer_address: str
    end_customer_phone: str
    end_customer_email: str
    email: str
    status: str
    created_at: datetime
    closed_at: datetime | None
    deleted_at: datetime | None
    anonymized_at: datetime | None


class ProjectDetailOut(ProjectOut):
    extra_costs_total: Decimal = Decimal("0.00")
    sub_projects: list[SubProjectOut] = []
    extra_costs: list[ExtraCostOut] = []
    payment_plans: list[PaymentPlanOut] = []
    partner_invitations: list[InvitationOut] = []


class PublicPlanOut(msgspec.Struct):
    """What the customer sees through the link: the plan, not the project's internals."""

    organization: str
    project_number: int
    title: str
    status: str
    total: Decimal
    installments: list[InstallmentOut]
    approved_at: datetime | None
    can_approve: bool


# Approving through the link: "approved" with its time, or the SMS challenge first.
ApproveOut = link_signed_out("ApproveOut", "approved", "approved_at", __name__)
