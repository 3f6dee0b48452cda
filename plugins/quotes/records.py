"""The quotes module's record: a quote, declared once (M19).

Decisions worth knowing:

* The quote itself is a :class:`RecordSpec`; its personal-data fields, rule M19, record
  type and person-search places are derived from it.
* Lines (``quote_line``) and the view log (``quote_view``) are child tables, not records:
  they stay declared in :mod:`plugins.quotes.gdpr` through the old hooks (their search
  hits link to the line or the log entry, not to the quote).
* M19 (closed, voided or deleted, N days): customer and contact person, the sent-to
  address and who accepted it are removed. Title and description are declared with
  ``rule=None``: the offer stays, an erasure on request redacts the person in it.
"""

from __future__ import annotations

from core.contracts import Field, RecordSpec, RetentionRule, any_employee
from plugins.quotes.tables import Quote

RULE = "quotes"
RECORD_TYPE = "quote"

QUOTE = RecordSpec(
    name=RECORD_TYPE, table=Quote, label_sv="Offert", label_en="Quote",
    plural_sv="Offerter", plural_en="Quotes", path="/quotes",
    number_column="number", customer_column="customer_id", contact_column="contact_person_id",
    search_columns=("title",), filters=("status", "customer_id", "contact_person_id"),
    fields=(
        Field("customer_id", "customer_ref", "zero", "Kund", "Customer", rule=RULE),
        Field("contact_person_id", "contact_ref", "zero", "Kontaktperson", "Contact person", rule=RULE),
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
    can_open=any_employee,
)
