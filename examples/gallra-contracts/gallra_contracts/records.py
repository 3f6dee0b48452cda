"""What a contract is, declared once: what it stores about people, when it lets go of it,
where person search finds it and who may open it. Gallra derives its personal-data fields,
retention rule, search places and record type from this spec, and its record layer gives
the contract its API routes (core.routes.records) and shared behaviour (core.records).

* Rule ``contracts.ended`` ("Avtal"): N days after a contract ended or was deleted, the
  customer and contact-person links become 0, the signer's name becomes the organization's
  anonymization word, the signer's e-mail NULL and the free-text terms empty; comments,
  notes, work reports and conversations on the contract are cleared. The title and the
  signed date stay (the contract's existence is bookkeeping, not personal data). An
  organization may also choose "immediately": deleting a contract then anonymizes it in the
  delete request itself.
* The title can hold a name in free text: it is declared without a rule, so person search
  and erasure know it while retention keeps it (an erasure redacts the person in it).
* ``status`` is declared not personal: every text column is declared one way or the other.
* ``customer_id``, ``contact_person_id`` and ``created_by`` are references: when the
  customer, contact person or employee is anonymized by whichever plugin owns them, the
  core sets them to 0 here. This plugin never imports those plugins; the record layer checks
  that a named customer and contact person exist in the organization and belong together.
"""

from __future__ import annotations

from core.contracts import Field, RecordSpec, RetentionRule, any_employee
from gallra_contracts.tables import Contract

RULE = "contracts.ended"

CONTRACT = RecordSpec(
    name="contract", table=Contract, label_sv="Avtal", label_en="Contract",
    plural_sv="Avtal", plural_en="Contracts", path="/contracts",
    number_column="number", status_column="status", closed_at_column="ended_at",
    open_state="active", closed_state="ended", close_verb=("end", "ended"), reopenable=False,
    customer_column="customer_id", contact_column="contact_person_id",
    search_columns=("title",), filters=("status", "customer_id"),
    choices=(("status", ("active", "ended")),),
    sort=("number", "title", "signed_on", "created_at", "updated_at"), default_sort="-number",
    fields=(
        Field("customer_id", "customer_ref", "zero", "Kund", "Customer", rule=RULE),
        Field("contact_person_id", "contact_ref", "zero", "Kontaktperson", "Contact person", rule=RULE),
        Field("signer_name", "name", "replace", "Undertecknad av", "Signed by", rule=RULE),
        Field("signer_email", "email", "null", "Undertecknarens e-post", "Signer's e-mail", rule=RULE),
        Field("terms", "free_text", "empty", "Villkor", "Terms", rule=RULE),
        Field("title", "free_text", "replace", "Rubrik", "Title"),
        Field("created_by", "employee_ref", "zero", "Registrerat av", "Recorded by"),
    ),
    not_personal=((("status",), "a state from a fixed list"),),
    rules=(
        RetentionRule(
            key=RULE, label_sv="Avtal", label_en="Contracts", clock=("closed", "deleted"),
            clock_columns=("ended_at", "deleted_at"),
            allowed_modes=("immediately", "days", "off"), default_mode="off", default_days=730,
            clears_activity=("comment", "note", "work_report", "conversation"),
        ),
    ),
    can_open=any_employee,
)
