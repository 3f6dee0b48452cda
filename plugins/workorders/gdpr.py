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
  :func:`anonymize_now_if_immediate` asks the engine when the rule allows it, so widening
  ``allowed_modes`` is all it takes to anonymize inside the delete request.
* Title and description can hold a name in free text: declared with ``rule=None`` (person
  search knows them; retention keeps them, as the brief does not list them); an erasure on
  request redacts the person's e-mail, phone, identity number and name in them.
* ``created_by`` columns are employee references, set to 0 when that employee is anonymized.
"""

from __future__ import annotations

from core.contracts import (
    NotPersonal,
    PersonalDataField,
    RecordType,
    RetentionRule,
    SearchSource,
    any_employee,
)
from plugins.workorders.tables import ExtraCost, WorkOrder

PLUGIN = "workorders"
RECORD_TYPE = "work_order"
RULE = "work_orders"
PLACE_SV = "Arbetsordrar"
PLACE_EN = "Work orders"


def work_order_link(record_id: int) -> str:
    return f"/api/workorders/{record_id}"


def extra_cost_link(line_id: int) -> str:
    return f"/api/workorders/extra-costs/{line_id}"


# (column, category, strategy, label_sv, label_en)
ORDER_FIELDS: tuple[tuple[str, str, str, str, str], ...] = (
    ("customer_id", "customer_ref", "zero", "Kund", "Customer"),
    ("contact_person_id", "contact_ref", "zero", "Kontaktperson", "Contact person"),
    ("email", "email", "null", "E-post", "E-mail"),
    ("customer_reference", "name", "replace", "Er referens", "Customer's reference"),
    ("end_customer_name", "name", "replace", "Slutkund, namn", "End customer, name"),
    ("end_customer_address", "address", "replace", "Slutkund, adress", "End customer, address"),
    ("end_customer_phone", "phone", "null", "Slutkund, telefon", "End customer, phone"),
    ("end_customer_email", "email", "null", "Slutkund, e-post", "End customer, e-mail"),
)
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
TEXT_FIELDS: tuple[tuple[str, str, str, str, str], ...] = (
    ("title", "free_text", "replace", "Rubrik", "Title"),
    ("description", "free_text", "empty", "Beskrivning", "Description"),
)


def personal_data() -> list[PersonalDataField | NotPersonal]:
    fields: list[PersonalDataField | NotPersonal] = []
    for column, category, strategy, sv, en in ORDER_FIELDS:
        fields.append(
            PersonalDataField(WorkOrder, column, category, strategy, sv, en, rule=RULE)  # type: ignore[arg-type]
        )
    for column, category, strategy, sv, en in EXTRA_COST_FIELDS:
        fields.append(
            PersonalDataField(
                ExtraCost,
                column,
                category,
                strategy,
                sv,
                en,  # type: ignore[arg-type]
                rule=RULE,
                parent_column="work_order_id",
            )
        )
    for column, category, strategy, sv, en in TEXT_FIELDS:
        fields.append(PersonalDataField(WorkOrder, column, category, strategy, sv, en))  # type: ignore[arg-type]
    fields += [
        PersonalDataField(
            WorkOrder, "created_by", "employee_ref", "zero", "Registrerad av", "Recorded by"
        ),
        PersonalDataField(
            ExtraCost,
            "created_by",
            "employee_ref",
            "zero",
            "Extrakostnad, registrerad av",
            "Extra cost, recorded by",
        ),
        NotPersonal(WorkOrder, ("status",), "a state from a fixed list"),
    ]
    return fields


def retention_rules() -> list[RetentionRule]:
    return [
        RetentionRule(
            key=RULE,
            label_sv="Arbetsordrar",
            label_en="Work orders",
            clock=("closed", "deleted"),
            table=WorkOrder,
            clock_columns=("closed_at", "deleted_at"),
            allowed_modes=("days", "off"),
            default_mode="off",
            default_days=365,
            clears_activity=("comment", "work_report", "note", "conversation"),
            module=PLUGIN,
            record_type=RECORD_TYPE,
        )
    ]


def record_types() -> list[RecordType]:
    return [
        RecordType(
            RECORD_TYPE,
            WorkOrder,
            "Arbetsorder",
            "Work order",
            link=work_order_link,
            number_column="number",
            can_open=any_employee,
        )
    ]


def search_sources() -> list[SearchSource]:
    """Every personal-data column. Extra-cost hits link to the line, which names its order."""
    sources: list[SearchSource] = []
    for column, category, *_ in (*ORDER_FIELDS, *TEXT_FIELDS):
        sources.append(
            SearchSource(
                WorkOrder,
                column,
                category,
                "workcloud",
                PLACE_SV,
                PLACE_EN,  # type: ignore[arg-type]
                link=work_order_link,
                record_type=RECORD_TYPE,
            )
        )
    for column, category, *_ in EXTRA_COST_FIELDS:
        sources.append(
            SearchSource(
                ExtraCost,
                column,
                category,
                "workcloud",
                PLACE_SV,
                PLACE_EN,  # type: ignore[arg-type]
                link=extra_cost_link,
            )
        )
    return sources


async def anonymize_now_if_immediate(tenant_id: int, record_id: int) -> None:
    """Inside the delete transaction: anonymize at once when the tenant chose "immediately"."""
    if "immediately" not in retention_rules()[0].allowed_modes:
        return
    from core.gdpr.engine import anonymize_if_immediate

    await anonymize_if_immediate(tenant_id, PLUGIN, RULE, [record_id])
