"""What work orders store about people, and when they let go of it (M18).

Decisions worth knowing:

* **M18 "work_orders"** (closed or deleted, N days): customer and contact person become 0;
  the customer information on the order (the e-mail address it is sent to becomes null,
  the customer's reference becomes the tenant's anonymization word); the end customer's
  name and address become the word, phone and e-mail null. The extra-cost lines are
  cleared through ``parent_column="work_order_id"``: their description becomes the word,
  the approver's name and masked phone are emptied (the word as approver would make an
  unapproved line look approved). The amounts and the approval
  time stay (what was charged is bookkeeping). Comments, work reports, notes and customer
  conversations are cleared (notes are free text about the customer, like the others,
  even where the brief does not list them).
* The brief's rule is "after N days", so "immediately" is not offered;
  the record service (core.records) asks the engine on delete when the rule allows it, so widening
  ``allowed_modes`` is all it takes to anonymize inside the delete request.
* Title and description can hold a name in free text: declared with ``rule=None`` (person
  search knows them; retention keeps them, as the brief does not list them); an erasure on
  request redacts the person's e-mail, phone, identity number and name in them.
* ``created_by`` columns are employee references, set to 0 when that employee is anonymized.
"""

from __future__ import annotations

from core.contracts import NotPersonal, PersonalDataField, SearchSource
from plugins.workorders.records import RULE
from plugins.workorders.tables import ExtraCost

PLUGIN = "workorders"
RECORD_TYPE = "work_order"
PLACE_SV = "Arbetsordrar"
PLACE_EN = "Work orders"


def extra_cost_link(line_id: int) -> str:
    return f"/api/workorders/extra-costs/{line_id}"


# The work order's own fields, rule, record type and places are its record spec's
# (:data:`plugins.workorders.records.WORK_ORDER`); here only the extra-cost lines.
# (column, category, strategy, label_sv, label_en)
EXTRA_COST_FIELDS: tuple[tuple[str, str, str, str, str], ...] = (
    ("description", "free_text", "replace", "Extrakostnad, beskrivning", "Extra cost, description"),
    ("approver_name", "name", "empty", "Extrakostnad, godkänd av", "Extra cost, approved by"),
    (
        "approver_phone",
        "phone",
        "empty",
        "Extrakostnad, godkännarens telefon",
        "Extra cost, approver's phone",
    ),
)

def personal_data() -> list[PersonalDataField | NotPersonal]:
    fields: list[PersonalDataField | NotPersonal] = [
        PersonalDataField(
            ExtraCost, column, category, strategy, sv, en,  # type: ignore[arg-type]
            rule=RULE, parent_column="work_order_id",
        )
        for column, category, strategy, sv, en in EXTRA_COST_FIELDS
    ]
    fields.append(
        PersonalDataField(
            ExtraCost, "created_by", "employee_ref", "zero",
            "Extrakostnad, registrerad av", "Extra cost, recorded by",
        )
    )
    return fields


def search_sources() -> list[SearchSource]:
    """Extra-cost hits link to the line, which names its order."""
    return [
        SearchSource(
            ExtraCost, column, category, "workcloud", PLACE_SV, PLACE_EN,  # type: ignore[arg-type]
            link=extra_cost_link,
        )
        for column, category, *_ in EXTRA_COST_FIELDS
    ]
