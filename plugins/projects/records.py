"""The projects module's record: a project, declared once (M20).

Decisions worth knowing:

* The project is a :class:`RecordSpec`; its personal-data fields, rule M20, record type and
  person-search places are derived from it.
* Sub-projects, extra costs, payment plans, installments and partner invitations are child
  tables (``project_id``), not records: they stay declared in :mod:`plugins.projects.gdpr`
  through the old hooks, their search hits linking to the child row.
* M20 (closed or deleted, N days): title, customer and end-customer information and the
  project's e-mail are cleared; amounts and dates stay.
"""

from __future__ import annotations

from core.contracts import Field, RecordSpec, RetentionRule, any_employee
from plugins.projects.tables import Project

RULE = "projects"
RECORD_TYPE = "project"

PROJECT = RecordSpec(
    name=RECORD_TYPE, table=Project, label_sv="Projekt", label_en="Project",
    plural_sv="Projekt", plural_en="Projects", path="/projects",
    number_column="number", customer_column="customer_id", contact_column="contact_person_id",
    search_columns=("title",), filters=("status", "customer_id"),
    fields=(
        Field("title", "free_text", "replace", "Rubrik", "Title", rule=RULE),
        Field("customer_id", "customer_ref", "zero", "Kund", "Customer", rule=RULE),
        Field("contact_person_id", "contact_ref", "zero", "Kontaktperson", "Contact person", rule=RULE),
        Field("end_customer_name", "name", "empty", "Slutkundens namn", "End customer's name", rule=RULE),
        Field("end_customer_address", "address", "empty", "Slutkundens adress", "End customer's address",
              rule=RULE),
        Field("end_customer_phone", "phone", "empty", "Slutkundens telefon", "End customer's phone", rule=RULE),
        Field("end_customer_email", "email", "empty", "Slutkundens e-post", "End customer's e-mail", rule=RULE),
        Field("email", "email", "empty", "Projektets e-post", "Project e-mail", rule=RULE),
    ),
    not_personal=((("status",), "a state from a fixed list"),),
    rules=(
        RetentionRule(
            key=RULE, label_sv="Projekt", label_en="Projects", clock=("closed", "deleted"),
            clock_columns=("closed_at", "deleted_at"),
            allowed_modes=("immediately", "days", "off"), default_mode="off",
            default_days=365, clears_activity=("comment", "work_report", "note", "conversation"),
        ),
    ),
    can_open=any_employee,
)
