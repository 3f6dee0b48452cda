"""The projects module's record: a project, declared once (M20).

Decisions worth knowing:

* The project is a :class:`RecordSpec`; its personal-data fields, rule M20, record type and
  person-search places are derived from it.
* Sub-projects, extra costs, payment plans, installments and partner invitations are parts
  of a project (``parent_column="project_id"``), declared as specs of their own without
  pages (``path=""``): the project's rule clears them with it, and a search hit in them
  links to the part itself.
* The partner's contact, e-mail and company are not the customer's: M20 keeps them
  (``rule=None``); person search and erasure on request find them.
* M20 (closed or deleted, N days): title, customer and end-customer information and the
  project's e-mail are cleared; amounts and dates stay.
"""

from __future__ import annotations

from core.contracts import Field, Place, RecordSpec, RetentionRule, any_employee
from core.records.columns import party_fields
from plugins.projects.tables import ExtraCost, Installment, PartnerInvitation, PaymentPlan, Project, SubProject

RULE = "projects"
RECORD_TYPE = "project"
STATUSES = ("open", "closed")
PLACE = Place("Projekt", "Projects")

PROJECT = RecordSpec(
    name=RECORD_TYPE, table=Project, label_sv="Projekt", label_en="Project",
    plural_sv="Projekt", plural_en="Projects", path="/projects",
    number_column="number", status_column="status",
    customer_column="customer_id", contact_column="contact_person_id",
    search_columns=("title",), filters=("status", "customer_id"), choices=(("status", STATUSES),),
    sort=("number", "title", "created_at", "updated_at", "closed_at"), default_sort="-id",
    fields=(
        Field("title", "free_text", "replace", "Rubrik", "Title", rule=RULE),
        *party_fields(RULE),
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
    places=(PLACE,),
    can_open=any_employee,
)


def _part(name: str, table: type, sv: str, en: str, path: str, *fields: Field,
          not_personal: tuple[tuple[tuple[str, ...], str], ...] = ()) -> RecordSpec:
    """A part of a project: its fields cleared under the project's rule, its search hits
    linked to ``/api/projects/<path>/{id}``."""
    return RecordSpec(
        name=name, table=table, label_sv=sv, label_en=en, title_column=None, soft_delete=False,
        parent_column="project_id", fields=fields, not_personal=not_personal, places=(PLACE,),
        link=lambda i: f"/api/projects/{path}/{i}", can_open=any_employee,
    )


PARTS = (
    _part("sub_project", SubProject, "Delprojekt", "Sub-project", "sub-projects",
          Field("name", "free_text", "replace", "Delprojektets namn", "Sub-project name", rule=RULE),
          Field("description", "free_text", "empty", "Delprojektets beskrivning", "Sub-project description",
                rule=RULE)),
    _part("extra_cost", ExtraCost, "Extrakostnad", "Extra cost", "extra-costs",
          Field("description", "free_text", "empty", "Extrakostnadens text", "Extra cost text", rule=RULE)),
    _part("payment_plan", PaymentPlan, "Betalplan", "Payment plan", "payment-plans",
          Field("title", "free_text", "replace", "Betalplanens rubrik", "Payment plan title", rule=RULE),
          Field("sent_to_email", "email", "empty", "Betalplan skickad till", "Payment plan sent to", rule=RULE),
          Field("approver_name", "name", "empty", "Betalplan godkänd av", "Payment plan approved by", rule=RULE),
          Field("approver_email", "email", "empty", "Godkännarens e-post", "Approver's e-mail", rule=RULE),
          Field("approver_phone", "phone", "empty", "Godkännarens telefon (maskerad)",
                "Approver's phone (masked)", rule=RULE),
          not_personal=((("status", "public_token_hash"), "a state and a token's hash"),)),
    # an installment's hit shows the plan it is in
    _part("installment", Installment, "Delbetalning", "Installment", "installments",
          Field("description", "free_text", "empty", "Delbetalningens text", "Installment text", rule=RULE)),
    _part("partner_invitation", PartnerInvitation, "Partnerinbjudan", "Partner invitation", "partner-invitations",
          Field("comment", "free_text", "empty", "Kommentar till partnerinbjudan", "Partner invitation comment",
                rule=RULE),
          Field("partner_contact", "name", "replace", "Partnerns kontaktperson", "Partner contact"),
          Field("partner_email", "email", "empty", "Partnerns e-post", "Partner e-mail"),
          Field("partner_company", "free_text", "replace", "Partnerföretag", "Partner company"),
          not_personal=((("status",), "a state from a fixed list"),)),
)

RECORDS = (PROJECT, *PARTS)
