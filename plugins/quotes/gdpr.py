"""What of a quote is personal data, and rule M19 that anonymizes it.

M19 (Offerter): closed, voided or deleted quotes, N days later: customer and contact
person removed, who accepted it removed, the sent-to address, comments, notes and customer
conversations cleared, the view log emptied of e-mail addresses and IPs. Lines and amounts
stay (they are the offer, not the person).
"""

from __future__ import annotations

from core.contracts import (
    AnonymizeContext,
    NotPersonal,
    PersonalDataField,
    RecordType,
    RetentionRule,
    SearchSource,
    TwoFactorContext,
    any_employee,
)
from core.db import raw
from plugins.quotes.tables import Quote, QuoteLine, QuoteView

RULE = "quotes"
RECORD_TYPE = "quote"
AREA = "workcloud"
PLACE_SV, PLACE_EN = "Offerter", "Quotes"


def quote_link(record_id: int) -> str:
    return f"/api/quotes/{record_id}"


def line_link(record_id: int) -> str:
    return f"/api/quotes/lines/{record_id}"


def view_link(record_id: int) -> str:
    return f"/api/quotes/views/{record_id}"


FIELDS: list[PersonalDataField] = [
    PersonalDataField(Quote, "customer_id", "customer_ref", "zero", "Kund", "Customer", rule=RULE),
    PersonalDataField(Quote, "contact_person_id", "contact_ref", "zero", "Kontaktperson", "Contact person", rule=RULE),
    PersonalDataField(Quote, "sent_to_email", "email", "empty", "Skickad till e-post", "Sent to e-mail", rule=RULE),
    PersonalDataField(Quote, "approver_name", "name", "empty", "Godkänd av", "Accepted by", rule=RULE),
    PersonalDataField(Quote, "approver_email", "email", "empty", "Godkännarens e-post", "Approver's e-mail", rule=RULE),
    PersonalDataField(Quote, "approver_phone", "phone", "empty", "Godkännarens telefon (maskerad)", "Approver's phone (masked)", rule=RULE),
    PersonalDataField(QuoteView, "email", "email", "empty", "Visad av e-post", "Viewed by e-mail", rule=RULE, parent_column="quote_id"),
    PersonalDataField(QuoteView, "ip", "ip", "empty", "Visad från IP", "Viewed from IP", rule=RULE, parent_column="quote_id"),
]

# The offer itself stays (M19 keeps lines and amounts); the free text in it can name the
# customer, so it is declared without a rule: an erasure redacts the person in it.
TEXT_FIELDS: list[PersonalDataField] = [
    PersonalDataField(Quote, "title", "free_text", "replace", "Rubrik", "Title"),
    PersonalDataField(Quote, "description", "free_text", "empty", "Beskrivning", "Description"),
    PersonalDataField(QuoteLine, "description", "free_text", "empty", "Offertrad, text",
                      "Quote line, text"),
]
NOT_PERSONAL: list[NotPersonal] = [
    NotPersonal(Quote, ("status", "public_token_hash"), "a state and a token's hash"),
]

RULES: list[RetentionRule] = [
    RetentionRule(
        key=RULE,
        label_sv="Offerter",
        label_en="Quotes",
        clock=("closed", "deleted"),
        table=Quote,
        clock_columns=("closed_at", "voided_at", "deleted_at"),
        allowed_modes=("immediately", "days", "off"),
        default_mode="off",
        default_days=365,
        clears_activity=("comment", "note", "conversation"),
        record_type=RECORD_TYPE,
    )
]

RECORD_TYPES: list[RecordType] = [
    RecordType(
        RECORD_TYPE, Quote, "Offert", "Quote", link=quote_link, number_column="number",
        can_open=any_employee,
    ),
]


SEARCH_SOURCES: list[SearchSource] = [
    SearchSource(
        f.table, f.column, f.category, AREA, PLACE_SV, PLACE_EN,
        # A view-log hit links to the log entry (its id is not a quote id).
        link=quote_link if f.table is Quote else view_link,
        record_type=RECORD_TYPE if f.table is Quote else "",
    )
    for f in FIELDS
] + [
    # Free text a person typed about the customer (the offer itself stays, M19): found by
    # the person's name, e-mail or phone number in it. A line's hit links to the line.
    SearchSource(
        f.table, f.column, f.category, AREA, PLACE_SV, PLACE_EN,
        link=quote_link if f.table is Quote else line_link,
        record_type=RECORD_TYPE if f.table is Quote else "",
    )
    for f in TEXT_FIELDS
]

TWO_FACTOR_CONTEXTS: list[TwoFactorContext] = [
    TwoFactorContext("quotes", "Offerthantering – SMS-autentisering", "Quotes – SMS signing", module="quotes", order=80),
]


async def anonymize(context: AnonymizeContext) -> None:
    """The public link dies with the personal data: forget its token hash."""
    if not context.record_ids:
        return
    placeholders = ", ".join("{}" for _ in context.record_ids)
    await raw(
        f"UPDATE quote SET public_token_hash = NULL WHERE tenant_id = {{}} AND id IN ({placeholders})",
        context.tenant_id,
        *context.record_ids,
    )
