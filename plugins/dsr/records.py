"""The data-subject request, declared once: what it stores about the person who asked,
when it lets go of it, where person search finds it and who may open it.

* A request is proof that the organization answered (article 5(2)): it keeps only what
  shows who asked for what and what was done: the person's name, the e-mail address or
  phone number they gave, their text, the answer. Rule ``dsr.answered`` clears these
  (default: 3 years after the request was answered or refused); kind, status and the
  dates stay, so the statistics survive.
* Person search finds a request by the person's e-mail address, phone number and name,
  and an erasure of a later request covers it like any other record.
* Only the GDPR administrators (the "gdpr" permission, administrators have it) open
  requests: what a person asked about their own data is nobody else's business.
"""

from __future__ import annotations

from typing import Any

from core.contracts import Field, Place, RecordSpec, RetentionRule
from plugins.dsr.tables import DsrPending, DsrRequest

RULE = "dsr.answered"
RECORD_TYPE = "dsr_request"
KINDS = ("access", "portability", "correction", "erasure", "restriction", "objection")
ARTICLES = {"access": 15, "portability": 20, "correction": 16, "erasure": 17, "restriction": 18, "objection": 21}
STATUSES = ("received", "verified", "in_progress", "extended", "answered", "refused")
OPEN_STATUSES = ("received", "verified", "in_progress", "extended")
PERMISSION = "gdpr"


def gdpr_only(user: Any, row: dict[str, Any], write: bool) -> bool:
    """A request is opened by the GDPR administrators only."""
    return bool(getattr(user, "can", None) and user.can(PERMISSION))


REQUEST = RecordSpec(
    name=RECORD_TYPE, table=DsrRequest, label_sv="Begäran", label_en="Request",
    plural_sv="Registrerades begäranden", plural_en="Data-subject requests", path="/dsr",
    title_column="requester_name", number_column="number",
    search_columns=("requester_name", "requester_email"),
    filters=("status", "kind", "assignee_id"),
    choices=(("status", STATUSES), ("kind", KINDS)),
    sort=("number", "due_on", "received_on", "created_at", "updated_at"), default_sort="due_on",
    fields=(
        Field("requester_name", "name", "replace", "Den registrerades namn", "Data subject's name", rule=RULE),
        Field("requester_email", "email", "null", "Den registrerades e-post", "Data subject's e-mail", rule=RULE),
        Field("requester_phone", "phone", "null", "Den registrerades telefon", "Data subject's phone", rule=RULE),
        Field("details", "free_text", "empty", "Begärans text", "Request text", rule=RULE),
        Field("answer", "free_text", "empty", "Svar", "Answer", rule=RULE),
        Field("extension_reason", "free_text", "empty", "Skäl för förlängning", "Reason for extension", rule=RULE),
        Field("assignee_id", "employee_ref", "zero", "Handläggare", "Assignee", search=False),
        Field("created_by", "employee_ref", "zero", "Registrerad av", "Recorded by", search=False),
        Field("customer_id", "customer_ref", "zero", "Kund (i kundportalen)", "Customer (in the portal)",
              search=False),
        Field("contact_person_id", "contact_ref", "zero", "Kontaktperson (i kundportalen)",
              "Contact person (in the portal)", search=False),
    ),
    not_personal=(
        (("kind", "status", "channel", "language"), "states and choices from fixed lists"),
    ),
    rules=(
        RetentionRule(
            key=RULE, label_sv="Registrerades begäranden (bevis)", label_en="Data-subject requests (proof)",
            clock=("closed", "deleted"), clock_columns=("closed_at", "deleted_at"),
            allowed_modes=("days", "off"), default_mode="days", default_days=3 * 365,
        ),
    ),
    places=(Place("Registrerades begäranden", "Data-subject requests"),),
    can_open=gdpr_only,
)

PENDING_RULE = "dsr.pending"
PENDING = RecordSpec(
    name="dsr_pending", table=DsrPending, label_sv="Obekräftad begäran", label_en="Unconfirmed request",
    plural_sv="Registrerades begäranden – obekräftade", plural_en="Data-subject requests – unconfirmed",
    title_column=None, soft_delete=False, opens=False, link=lambda _i: "/api/dsr/",
    fields=(
        Field("email", "email", "delete_row", "E-post att bekräfta", "E-mail to confirm", rule=PENDING_RULE),
        Field("phone", "phone", "delete_row", "Telefon att bekräfta", "Phone to confirm", rule=PENDING_RULE),
        Field("details", "free_text", "delete_row", "Obekräftad begärans text", "Unconfirmed request text",
              rule=PENDING_RULE),
    ),
    not_personal=(
        (("token_hash", "code_hash"), "hashes of secrets"),
        (("purpose", "kind", "language"), "choices from fixed lists"),
    ),
    rules=(
        RetentionRule(
            key=PENDING_RULE, label_sv="Registrerades begäranden: obekräftade raderas ett dygn efter att de gått ut",
            label_en="Data-subject requests: unconfirmed ones deleted one day after they expire",
            clock="dated", clock_columns=("expires_at",), allowed_modes=("days",), default_mode="days",
            default_days=1, fixed=True,
        ),
    ),
)

RECORDS = (REQUEST, PENDING)
