"""What cases and service cases store about people, and when they let go of it (M17, M21).

Decisions worth knowing:

* Cases and service cases share one table; the rules tell them apart with
  ``where=(("kind", ...),)``. Every personal-data column is therefore declared once per
  rule: the engine applies a rule's own fields to that rule's rows only.
* **M17 "cases"** (closed or deleted, N days): customer and contact person become 0, the
  end customer's name and address become the tenant's anonymization word, the end
  customer's phone and e-mail (fixed formats) become null. Comments, work reports, notes
  and customer conversations attached through core activity are cleared. The title and
  description stay: the brief keeps them for cases.
* **M21 "service_cases"**: the same, plus the title becomes the word; comments, work
  reports, notes and conversations are cleared (notes are free text about the customer,
  like the others, even where the brief does not list them).
* The brief's rules for cases are "after N days", so the rules do not offer "immediately";
  :func:`anonymize_now_if_immediate` still asks the engine when a rule allows it, so
  widening ``allowed_modes`` is all it takes to anonymize inside the delete request.
* Title and description can hold a person's name in free text. They are declared with
  ``rule=None`` (person search knows them; retention keeps them); an erasure on request
  redacts the person's e-mail, phone, identity number and name in them.
* ``created_by`` is an employee reference: anonymizing that employee (M25) sets it to 0.
"""

from __future__ import annotations

from core.contracts import (
    Mode,
    NotPersonal,
    PersonalDataField,
    RecordType,
    RetentionRule,
    SearchSource,
    any_employee,
)
from plugins.cases.tables import Case

PLUGIN = "cases"
RECORD_TYPE = "case"
RULE_CASES = "cases"
RULE_SERVICE = "service_cases"
PLACE = {"case": ("Ärenden", "Cases"), "service": ("Serviceärenden", "Service cases")}


def case_link(record_id: int) -> str:
    return f"/api/cases/{record_id}"


def rule_key_for_kind(kind: str) -> str:
    return RULE_SERVICE if kind == "service" else RULE_CASES


# (column, category, strategy, label_sv, label_en): cleared by both rules.
PARTY_FIELDS: tuple[tuple[str, str, str, str, str], ...] = (
    ("customer_id", "customer_ref", "zero", "Kund", "Customer"),
    ("contact_person_id", "contact_ref", "zero", "Kontaktperson", "Contact person"),
    ("end_customer_name", "name", "replace", "Slutkund, namn", "End customer, name"),
    ("end_customer_address", "address", "replace", "Slutkund, adress", "End customer, address"),
    ("end_customer_phone", "phone", "null", "Slutkund, telefon", "End customer, phone"),
    ("end_customer_email", "email", "null", "Slutkund, e-post", "End customer, e-mail"),
)
# Cleared by the service-case rule only (M21).
SERVICE_FIELDS: tuple[tuple[str, str, str, str, str], ...] = (
    ("title", "free_text", "replace", "Rubrik", "Title"),
)
# Free text kept by retention, known to erasure and search.
TEXT_FIELDS: tuple[tuple[str, str, str, str, str], ...] = (
    ("title", "free_text", "replace", "Rubrik", "Title"),
    ("description", "free_text", "empty", "Beskrivning", "Description"),
)


def personal_data() -> list[PersonalDataField | NotPersonal]:
    fields: list[PersonalDataField | NotPersonal] = []
    for rule, extra in ((RULE_CASES, ()), (RULE_SERVICE, SERVICE_FIELDS)):
        for column, category, strategy, sv, en in (*PARTY_FIELDS, *extra):
            fields.append(
                PersonalDataField(Case, column, category, strategy, sv, en, rule=rule)  # type: ignore[arg-type]
            )
    for column, category, strategy, sv, en in TEXT_FIELDS:
        fields.append(PersonalDataField(Case, column, category, strategy, sv, en))  # type: ignore[arg-type]
    fields.append(
        PersonalDataField(
            Case, "created_by", "employee_ref", "zero", "Registrerad av", "Recorded by"
        )
    )
    fields.append(NotPersonal(Case, ("kind", "status"), "a choice from a fixed list"))
    return fields


def retention_rules() -> list[RetentionRule]:
    return [
        RetentionRule(
            key=RULE_CASES,
            label_sv="Ärenden",
            label_en="Cases",
            clock=("closed", "deleted"),
            table=Case,
            clock_columns=("closed_at", "deleted_at"),
            allowed_modes=("days", "off"),
            default_mode="off",
            default_days=365,
            clears_activity=("comment", "work_report", "note", "conversation"),
            module=PLUGIN,
            record_type=RECORD_TYPE,
            where=(("kind", "case"),),
        ),
        RetentionRule(
            key=RULE_SERVICE,
            label_sv="Serviceärenden",
            label_en="Service cases",
            clock=("closed", "deleted"),
            table=Case,
            clock_columns=("closed_at", "deleted_at"),
            allowed_modes=("days", "off"),
            default_mode="off",
            default_days=365,
            clears_activity=("comment", "work_report", "note", "conversation"),
            module=PLUGIN,
            record_type=RECORD_TYPE,
            where=(("kind", "service"),),
        ),
    ]


def record_types() -> list[RecordType]:
    return [RecordType(
            RECORD_TYPE, Case, "Ärende", "Case", link=case_link, number_column="number",
            can_open=any_employee,
        )]


def search_sources() -> list[SearchSource]:
    """Every personal-data column, once per kind: cases under "Ärenden", service cases under
    "Serviceärenden" (``where`` picks the kind, as the rules do)."""
    sources: list[SearchSource] = []
    columns = {c: cat for c, cat, *_ in (*PARTY_FIELDS, *TEXT_FIELDS)}
    for kind, (place_sv, place_en) in PLACE.items():
        for column, category in columns.items():
            sources.append(
                SearchSource(
                    Case,
                    column,
                    category,
                    "workcloud",
                    place_sv,
                    place_en,  # type: ignore[arg-type]
                    link=case_link,
                    record_type=RECORD_TYPE,
                    where=(("kind", kind),),
                )
            )
    return sources


def _allowed(rule_key: str) -> tuple[Mode, ...]:
    for rule in retention_rules():
        if rule.key == rule_key:
            return rule.allowed_modes
    return ()


async def anonymize_now_if_immediate(tenant_id: int, rule_key: str, record_id: int) -> None:
    """Inside the delete transaction: anonymize at once when the tenant chose "immediately"."""
    if "immediately" not in _allowed(rule_key):
        return
    from core.gdpr.engine import anonymize_if_immediate

    await anonymize_if_immediate(tenant_id, PLUGIN, rule_key, [record_id])
