"""Request and response shapes of /api/privacy (the public contract).

Optional fields in a PATCH: absent or null leaves the value alone, "" clears a text.
Times are ISO 8601 with a time zone; a time without one is refused (400), since the 72-hour
deadline of an incident depends on it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from core.listing import Page
from core.records.shapes import Description as LongText
from core.records.shapes import Email, Phone, RefId, Str200, patch_of
from core.records.shapes import Title as Name
from core.routes.schemas import ChallengeId, SecondFactorOut

Str100 = Annotated[str, msgspec.Meta(max_length=100)]
Item = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Items = Annotated[list[Item], msgspec.Meta(max_length=100)]
ModuleName = Annotated[str, msgspec.Meta(min_length=1, max_length=63)]
Modules = Annotated[list[ModuleName], msgspec.Meta(max_length=50)]
Count = Annotated[int, msgspec.Meta(ge=0, le=2_000_000_000)]
# An instant with its time zone: the 72-hour deadline depends on it.
Instant = Annotated[datetime, msgspec.Meta(tz=True)]
LegalBasis = Literal[
    "",
    "consent",
    "contract",
    "legal_obligation",
    "vital_interests",
    "public_task",
    "legitimate_interests",
]
Role = Literal["dpo", "contact", "representative", "controller"]
Decision = Literal["pending", "yes", "no"]


# --- processing activities (the inventory) ---------------------------------------------


class ActivityIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    purpose: LongText = ""
    legal_basis: LegalBasis = ""
    legal_basis_note: LongText = ""
    data_subjects: Items = []
    personal_data: Items = []
    recipients: Items = []
    transfers: LongText = ""
    retention: LongText = ""
    security_measures: LongText = ""
    modules: Modules = []
    owner_name: Str200 = ""


class ActivityPatch(patch_of(ActivityIn)):  # type: ignore[misc]
    pass


class ActivityOut(msgspec.Struct):
    id: int
    number: int
    name: str
    purpose: str
    legal_basis: str
    legal_basis_note: str
    data_subjects: list[str]
    personal_data: list[str]
    recipients: list[str]
    transfers: str
    retention: str
    security_measures: str
    modules: list[str]
    owner_name: str
    created_by: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    anonymized_at: datetime | None
    # What the named modules really store (their declarations), and what of it the
    # activity does not list yet: the inventory is checked against the system.
    system_personal_data: list[str] = []
    missing_personal_data: list[str] = []
    # What is missing before the inventory can be signed ("purpose", "legal_basis").
    incomplete: list[str] = []



class PrefillOut(msgspec.Struct):
    created: list[ActivityOut]
    skipped: list[str]  # modules already covered by an activity


class RuleSummary(msgspec.Struct):
    key: str
    label: str
    mode: str
    days: int
    text: str


class ModuleProcessing(msgspec.Struct):
    """What one installed module does with personal data, read from its declarations."""

    module: str
    label: str
    enabled: bool
    data_subjects: list[str]
    personal_data: list[str]
    fields: list[str]
    retention: list[RuleSummary]
    retention_text: str


class SystemOut(msgspec.Struct):
    modules: list[ModuleProcessing]


class SignIn(msgspec.Struct, forbid_unknown_fields=True):
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    # Given when re-submitting after the SMS code was entered for this challenge.
    challenge_id: ChallengeId | None = None


class VersionOut(msgspec.Struct):
    id: int
    version: int
    signed_at: datetime
    signed_by: int
    signer_name: str
    signer_phone: str
    sms_verified: bool
    note: str
    superseded_at: datetime | None
    anonymized_at: datetime | None
    activities: list[dict] = []
    contacts: list[dict] = []


class SignOut(msgspec.Struct):
    status: Literal["signed", "second_factor_required"]
    version: VersionOut | None = None
    second_factor: SecondFactorOut | None = None


class VersionPage(Page):
    items: list[VersionOut]


# --- incidents (article 33) ------------------------------------------------------------


class IncidentIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Name
    discovered_at: Instant
    occurred_at: Instant | None = None
    description: LongText = ""
    data_affected: LongText = ""
    people_affected: LongText = ""
    subjects_count: Count | None = None
    consequences: LongText = ""
    measures: LongText = ""
    authority_decision: Decision = "pending"
    authority_reason: LongText = ""
    authority_notified_at: Instant | None = None
    authority_reference: Str100 = ""
    subjects_decision: Decision = "pending"
    subjects_reason: LongText = ""
    subjects_notified_at: Instant | None = None


Clearable = Literal[
    "occurred_at", "subjects_count", "authority_notified_at", "subjects_notified_at"
]


class IncidentPatch(patch_of(IncidentIn)):  # type: ignore[misc]
    # Explicit clears for the nullable fields (null in a PATCH means "leave alone").
    clear: Annotated[list[Clearable], msgspec.Meta(max_length=4)] = msgspec.field(default_factory=list)


class NotifyIn(msgspec.Struct, forbid_unknown_fields=True):
    """Record that the authority (or the people affected) were notified; default now."""

    notified_at: Instant | None = None
    reference: Str100 = ""


class DeadlineOut(msgspec.Struct):
    """The 72-hour notification deadline of article 33(1)."""

    due_at: datetime
    # "pending" (running), "overdue" (passed, not notified), "notified" (in time),
    # "notified_late", "not_required" (the organization decided no notification).
    state: Literal["pending", "overdue", "notified", "notified_late", "not_required"]
    passed: bool
    hours_left: float  # negative once passed
    late_reason_missing: bool  # notified late (or overdue) without the reason article 33(1) asks


class IncidentOut(msgspec.Struct):
    id: int
    number: int
    title: str
    discovered_at: datetime
    occurred_at: datetime | None
    description: str
    data_affected: str
    people_affected: str
    subjects_count: int | None
    consequences: str
    measures: str
    authority_decision: str
    authority_reason: str
    authority_notified_at: datetime | None
    authority_reference: str
    subjects_decision: str
    subjects_reason: str
    subjects_notified_at: datetime | None
    status: str
    reported_by: int
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    deleted_at: datetime | None
    anonymized_at: datetime | None
    deadline: DeadlineOut



# --- GDPR contact persons --------------------------------------------------------------


class ContactIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    role: Role = "contact"
    organization: Str200 = ""
    email: Email | None = None
    phone: Phone | None = None
    notes: LongText = ""
    employee_id: RefId = 0


class ContactPatch(patch_of(ContactIn)):  # type: ignore[misc]
    pass


class ContactOut(msgspec.Struct):
    id: int
    role: str
    name: str
    organization: str
    email: str | None
    phone: str | None
    notes: str
    employee_id: int
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    anonymized_at: datetime | None

