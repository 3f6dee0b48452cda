"""What of a quote is personal data, and rule M19 that anonymizes it.

M19 (Offerter): closed, voided or deleted quotes, N days later: customer and contact
person removed, who accepted it removed, the sent-to address, comments, notes and customer
conversations cleared, the view log emptied of e-mail addresses and IPs. Lines and amounts
stay (they are the offer, not the person).
"""

from __future__ import annotations

from core.contracts import (
    AnonymizeContext,
    PersonalDataField,
    SearchSource,
    TwoFactorContext,
)
from core.db import raw
from plugins.quotes.records import RECORD_TYPE, RULE  # noqa: F401 - pages use them
from plugins.quotes.tables import QuoteLine, QuoteView

AREA = "workcloud"
PLACE_SV, PLACE_EN = "Offerter", "Quotes"


def line_link(record_id: int) -> str:
    return f"/api/quotes/lines/{record_id}"


def view_link(record_id: int) -> str:
    return f"/api/quotes/views/{record_id}"


# The quote itself is declared in plugins.quotes.records (RecordSpec QUOTE: its fields,
# rule M19, record type and search places). Its child tables are not records and stay here.
FIELDS: list[PersonalDataField] = [
    PersonalDataField(QuoteView, "email", "email", "empty", "Visad av e-post", "Viewed by e-mail", rule=RULE, parent_column="quote_id"),
    PersonalDataField(QuoteView, "ip", "ip", "empty", "Visad från IP", "Viewed from IP", rule=RULE, parent_column="quote_id"),
]

# A line's free text can name the customer: declared without a rule (M19 keeps lines), an
# erasure redacts the person in it.
TEXT_FIELDS: list[PersonalDataField] = [
    PersonalDataField(QuoteLine, "description", "free_text", "empty", "Offertrad, text",
                      "Quote line, text"),
]

SEARCH_SOURCES: list[SearchSource] = [
    # A view-log hit links to the log entry (its id is not a quote id); a line's to the line.
    SearchSource(
        f.table, f.column, f.category, AREA, PLACE_SV, PLACE_EN,
        link=view_link if f.table is QuoteView else line_link,
    )
    for f in (*FIELDS, *TEXT_FIELDS)
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
