"""What contracts store about people, and when they let go of it.

* Rule ``contracts.ended`` ("Avtal"): N days after a contract ended or was deleted, the
  customer and contact-person links become 0, the signer's name becomes the organization's
  anonymization word, the signer's e-mail NULL and the free-text terms empty; comments,
  notes, work reports and conversations on the contract are cleared. The title and the
  signed date stay (the contract's existence is bookkeeping, not personal data). An
  organization may also choose "immediately": deleting a contract then anonymizes it in the
  delete request itself.
* The title can hold a name in free text: it is declared without a rule, so person search
  and erasure know it while retention keeps it (an erasure redacts the person in it).
* ``status`` is declared ``NotPersonal``: every text column is declared one way or the other.
* ``customer_id``, ``contact_person_id`` and ``created_by`` are references: when the
  customer, contact person or employee is anonymized by whichever plugin owns them, the
  core sets them to 0 here. This plugin never imports those plugins.
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
from gallra_contracts.tables import Contract

PLUGIN = "contracts"
RECORD_TYPE = "contract"
RULE = "contracts.ended"
PLACE_SV, PLACE_EN = "Avtal", "Contracts"


def contract_link(record_id: int) -> str:
    return f"/api/contracts/{record_id}"


def personal_data() -> list[PersonalDataField | NotPersonal]:
    F = PersonalDataField
    return [
        F(Contract, "customer_id", "customer_ref", "zero", "Kund", "Customer", rule=RULE),
        F(Contract, "contact_person_id", "contact_ref", "zero", "Kontaktperson", "Contact person",
          rule=RULE),
        F(Contract, "signer_name", "name", "replace", "Undertecknad av", "Signed by", rule=RULE),
        F(Contract, "signer_email", "email", "null", "Undertecknarens e-post", "Signer's e-mail",
          rule=RULE),
        F(Contract, "terms", "free_text", "empty", "Villkor", "Terms", rule=RULE),
        F(Contract, "title", "free_text", "replace", "Rubrik", "Title"),
        F(Contract, "created_by", "employee_ref", "zero", "Registrerat av", "Recorded by"),
        # Every text column is declared; the status is a state, not about a person.
        NotPersonal(Contract, ("status",), "a state from a fixed list"),
    ]


def retention_rules() -> list[RetentionRule]:
    return [
        RetentionRule(
            key=RULE,
            label_sv="Avtal",
            label_en="Contracts",
            clock=("closed", "deleted"),
            table=Contract,
            clock_columns=("ended_at", "deleted_at"),
            allowed_modes=("immediately", "days", "off"),
            default_mode="off",
            default_days=730,
            clears_activity=("comment", "note", "work_report", "conversation"),
            record_type=RECORD_TYPE,
        )
    ]


def record_types() -> list[RecordType]:
    return [
        RecordType(RECORD_TYPE, Contract, "Avtal", "Contract", link=contract_link,
                   number_column="number", can_open=any_employee)
    ]


def search_sources() -> list[SearchSource]:
    """Every personal-data column, shown under "Avtal" in the WORKCLOUD group."""
    return [
        SearchSource(Contract, column, category, "workcloud", PLACE_SV, PLACE_EN,
                     link=contract_link, record_type=RECORD_TYPE)
        for column, category in (
            ("title", "free_text"),
            ("signer_name", "name"),
            ("signer_email", "email"),
            ("terms", "free_text"),
            ("customer_id", "customer_ref"),
            ("contact_person_id", "contact_ref"),
            ("created_by", "employee_ref"),
        )
    ]
