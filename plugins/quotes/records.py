"""The quotes module's records: a quote, its lines and its view log, declared once (M19).

Decisions worth knowing:

* The quote is a :class:`RecordSpec`; its personal-data fields, rule M19, record type and
  person-search places are derived from it. Its states are draft → sent → accepted or
  declined, and closed or voided; "close" and "reopen" are the record layer's routes, the
  quote's service says which states may take them (:mod:`plugins.quotes.services`).
* Lines (``quote_line``) and the view log (``quote_view``) are parts of a quote, declared as
  specs of their own without pages (``path=""``): a search hit in them links to the line or
  the log entry, not to the quote. The view log belongs to its quote (``parent_column``), so
  M19 empties it with the quote.
* M19 (closed, voided or deleted, N days): customer and contact person, the sent-to
  address and who accepted it are removed. Title and description are declared with
  ``rule=None``: the offer stays, an erasure on request redacts the person in it. A line's
  text is declared the same way (M19 keeps lines; they are the offer, not the person).
"""

from __future__ import annotations

from core.contracts import Field, Place, PortalColumn, PortalPart, PortalView, RecordSpec, RetentionRule, any_employee
from core.records.columns import party_fields
from plugins.quotes.tables import Quote, QuoteLine, QuoteView

RULE = "quotes"
RECORD_TYPE = "quote"
STATUSES = ("draft", "sent", "accepted", "declined", "closed", "voided")
CLOSABLE = ("draft", "sent", "accepted", "declined")  # closed or voided from these
PLACE = Place("Offerter", "Quotes")


def line_link(record_id: int) -> str:
    return f"/api/quotes/lines/{record_id}"


def view_link(record_id: int) -> str:
    return f"/api/quotes/views/{record_id}"


QUOTE = RecordSpec(
    name=RECORD_TYPE, table=Quote, label_sv="Offert", label_en="Quote",
    plural_sv="Offerter", plural_en="Quotes", path="/quotes",
    number_column="number", status_column="status", open_state="draft",
    # a closed quote reopens (to where it was); a voided one stays voided
    actions=(("close", CLOSABLE), ("void", CLOSABLE), ("reopen", ("closed",))),
    customer_column="customer_id", contact_column="contact_person_id",
    search_columns=("title",), filters=("status", "customer_id", "contact_person_id"),
    choices=(("status", STATUSES),),
    sort=("number", "title", "valid_until", "created_at", "updated_at"), default_sort="-id",
    fields=(
        *party_fields(RULE),
        Field("sent_to_email", "email", "empty", "Skickad till e-post", "Sent to e-mail", rule=RULE),
        Field("approver_name", "name", "empty", "Godkänd av", "Accepted by", rule=RULE),
        Field("approver_email", "email", "empty", "Godkännarens e-post", "Approver's e-mail", rule=RULE),
        Field("approver_phone", "phone", "empty", "Godkännarens telefon (maskerad)",
              "Approver's phone (masked)", rule=RULE),
        Field("title", "free_text", "replace", "Rubrik", "Title"),
        Field("description", "free_text", "empty", "Beskrivning", "Description"),
    ),
    not_personal=((("status", "public_token_hash"), "a state and a token's hash"),),
    rules=(
        RetentionRule(
            key=RULE, label_sv="Offerter", label_en="Quotes", clock=("closed", "deleted"),
            clock_columns=("closed_at", "voided_at", "deleted_at"),
            allowed_modes=("immediately", "days", "off"), default_mode="off",
            default_days=365, clears_activity=("comment", "note", "conversation"),
        ),
    ),
    places=(PLACE,),
    can_open=any_employee,
    # The customer reads the quotes sent to them in the portal (never a draft, nor a
    # voided one, as the e-mailed link): the offer, its lines and its answer; never the
    # address it was sent to or the link's hash.
    portal=PortalView(
        columns=(
            PortalColumn("status", "Status", "Status", "choice", (
                ("sent", "Väntar på svar", "Awaiting your answer"), ("accepted", "Godkänd", "Accepted"),
                ("declined", "Avböjd", "Declined"), ("closed", "Avslutad", "Closed"))),
            PortalColumn("sent_at", "Skickad", "Sent", "datetime"),
            PortalColumn("valid_until", "Giltig till", "Valid until", "date"),
            PortalColumn("accepted_at", "Godkänd", "Accepted", "datetime", in_list=False),
            PortalColumn("declined_at", "Avböjd", "Declined", "datetime", in_list=False),
            PortalColumn("description", "Beskrivning", "Description", in_list=False),
        ),
        where=(("status", ("sent", "accepted", "declined", "closed")),),
        not_null=("sent_at",),
        parts=(
            PortalPart("Rader", "Lines", QuoteLine, "quote_id", (
                PortalColumn("description", "Beskrivning", "Description"),
                PortalColumn("quantity", "Antal", "Quantity"),
                PortalColumn("unit_price", "À-pris", "Unit price", "money"),
            ), order_by="position", total=("quantity", "unit_price")),
        ),
    ),
)

QUOTE_LINE = RecordSpec(
    name="quote_line", table=QuoteLine, label_sv="Offertrad", label_en="Quote line",
    title_column="description", soft_delete=False,
    fields=(Field("description", "free_text", "empty", "Offertrad, text", "Quote line, text"),),
    places=(PLACE,), link=line_link, can_open=any_employee,
)

QUOTE_VIEW = RecordSpec(
    name="quote_view", table=QuoteView, label_sv="Offertvisning", label_en="Quote view",
    title_column=None, soft_delete=False, parent_column="quote_id",
    fields=(
        Field("email", "email", "empty", "Visad av e-post", "Viewed by e-mail", rule=RULE),
        Field("ip", "ip", "empty", "Visad från IP", "Viewed from IP", rule=RULE),
    ),
    places=(PLACE,), link=view_link, can_open=any_employee,
)

RECORDS = (QUOTE, QUOTE_LINE, QUOTE_VIEW)
