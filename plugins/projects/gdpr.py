"""What of a project is personal data, and rule M20 that anonymizes it.

M20 (Projekt): closed or deleted projects, N days later: title, customer information and
end-customer information (the project's e-mail, extra-cost texts) cleared; payment plans
anonymized (who approved, where it was sent, installment texts); sub-project names and
descriptions, partner-invitation comments, other comments, notes, work reports and customer
conversations cleared (notes are free text about the customer, like the comments). Amounts
and dates stay, so the project's figures remain correct.
"""

from __future__ import annotations

from core.contracts import (
    AnonymizeContext,
    NotPersonal,
    PersonalDataField,
    SearchSource,
    TwoFactorContext,
)
from core.db import raw
from plugins.projects.records import RECORD_TYPE, RULE  # noqa: F401 - pages use them
from plugins.projects.tables import (
    ExtraCost,
    Installment,
    PartnerInvitation,
    PaymentPlan,
    Project,
    SubProject,
)

AREA = "workcloud"
PLACE_SV, PLACE_EN = "Projekt", "Projects"

LINKS = {
    Project: lambda i: f"/api/projects/{i}",
    SubProject: lambda i: f"/api/projects/sub-projects/{i}",
    ExtraCost: lambda i: f"/api/projects/extra-costs/{i}",
    PaymentPlan: lambda i: f"/api/projects/payment-plans/{i}",
    Installment: lambda i: f"/api/projects/installments/{i}",  # shows the plan it is in
    PartnerInvitation: lambda i: f"/api/projects/partner-invitations/{i}",
}


def _f(table, column, category, strategy, sv, en, rule=RULE):  # type: ignore[no-untyped-def]
    parent = None if table is Project else "project_id"
    return PersonalDataField(table, column, category, strategy, sv, en, rule=rule, parent_column=parent)


FIELDS: list[PersonalDataField] = [
    _f(SubProject, "name", "free_text", "replace", "Delprojektets namn", "Sub-project name"),
    _f(SubProject, "description", "free_text", "empty", "Delprojektets beskrivning", "Sub-project description"),
    _f(ExtraCost, "description", "free_text", "empty", "Extrakostnadens text", "Extra cost text"),
    _f(PaymentPlan, "title", "free_text", "replace", "Betalplanens rubrik", "Payment plan title"),
    _f(PaymentPlan, "sent_to_email", "email", "empty", "Betalplan skickad till", "Payment plan sent to"),
    _f(PaymentPlan, "approver_name", "name", "empty", "Betalplan godkänd av", "Payment plan approved by"),
    _f(PaymentPlan, "approver_email", "email", "empty", "Godkännarens e-post", "Approver's e-mail"),
    _f(PaymentPlan, "approver_phone", "phone", "empty", "Godkännarens telefon (maskerad)", "Approver's phone (masked)"),
    _f(Installment, "description", "free_text", "empty", "Delbetalningens text", "Installment text"),
    _f(PartnerInvitation, "comment", "free_text", "empty", "Kommentar till partnerinbjudan", "Partner invitation comment"),
    # The partner's own contact: not the customer, so M20 keeps it; search and erasure find it.
    _f(PartnerInvitation, "partner_contact", "name", "replace", "Partnerns kontaktperson", "Partner contact", rule=None),
    _f(PartnerInvitation, "partner_email", "email", "empty", "Partnerns e-post", "Partner e-mail", rule=None),
]

# The partner's company (not the customer), kept by M20 like the partner's contact.
TEXT_FIELDS: list[PersonalDataField] = [
    _f(PartnerInvitation, "partner_company", "free_text", "replace", "Partnerföretag",
       "Partner company", rule=None),
]
NOT_PERSONAL: list[NotPersonal] = [
    NotPersonal(PaymentPlan, ("status", "public_token_hash"), "a state and a token's hash"),
    NotPersonal(PartnerInvitation, ("status",), "a state from a fixed list"),
]

# The project itself (its fields, rule M20, record type, search places) is declared in
# plugins.projects.records (RecordSpec PROJECT); the child tables stay here.
SEARCH_SOURCES: list[SearchSource] = [
    SearchSource(
        f.table, f.column, f.category, AREA, PLACE_SV, PLACE_EN,
        link=LINKS[f.table],
    )
    for f in [*FIELDS, *TEXT_FIELDS]
]

TWO_FACTOR_CONTEXTS: list[TwoFactorContext] = [
    TwoFactorContext("payment_plans", "Betalplaner – SMS-autentisering", "Payment plans – SMS signing", module="projects", order=70),
]


async def anonymize(context: AnonymizeContext) -> None:
    """The approval links of the projects' payment plans die with the personal data."""
    if not context.record_ids:
        return
    placeholders = ", ".join("{}" for _ in context.record_ids)
    await raw(
        "UPDATE project_payment_plan SET public_token_hash = NULL "
        f"WHERE tenant_id = {{}} AND project_id IN ({placeholders})",
        context.tenant_id,
        *context.record_ids,
    )
