"""The cases module's record: cases and service cases, declared once (M17, M21).

Decisions worth knowing:

* Cases and service cases share one table; the rules tell them apart with
  ``where=(("kind", ...),)``. Every personal-data column is therefore declared once per
  rule: the engine applies a rule's own fields to that rule's rows only, and person search
  shows them as two places.
* **M17 "cases"** (closed or deleted, N days): customer and contact person become 0, the
  end customer's name and address become the tenant's anonymization word, the end
  customer's phone and e-mail (fixed formats) become null. Comments, work reports, notes
  and customer conversations attached through core activity are cleared. The title and
  description stay: the brief keeps them for cases.
* **M21 "service_cases"**: the same, plus the title becomes the word.
* The brief's rules for cases are "after N days", so the rules do not offer "immediately";
  the record service still asks the engine on delete when a rule allows it, so widening
  ``allowed_modes`` is all it takes to anonymize inside the delete request.
* Title and description can hold a person's name in free text. They are declared with
  ``rule=None`` (person search knows them; retention keeps them); an erasure on request
  redacts the person's e-mail, phone, identity number and name in them.
* ``created_by`` is an employee reference: anonymizing that employee (M25) sets it to 0.
"""

from __future__ import annotations

from dataclasses import replace

from core.contracts import Field, Place, PortalColumn, PortalView, RetentionRule, any_employee
from core.records.columns import end_customer_fields, numbered_spec, party_fields
from plugins.cases.tables import Case

RULE_CASES = "cases"
RULE_SERVICE = "service_cases"
KINDS = ("case", "service")
STATUSES = ("open", "closed")

TITLE = Field("title", "free_text", "replace", "Rubrik", "Title")


def _party(rule: str) -> tuple[Field, ...]:
    """What both rules clear: the customer, the contact person and the end customer."""
    return (*party_fields(rule), *end_customer_fields(rule))


def _rule(key: str, sv: str, en: str, kind: str) -> RetentionRule:
    return RetentionRule(
        key=key, label_sv=sv, label_en=en, clock=("closed", "deleted"),
        clock_columns=("closed_at", "deleted_at"), allowed_modes=("days", "off"),
        default_mode="off", default_days=365,
        clears_activity=("comment", "work_report", "note", "conversation"),
        where=(("kind", kind),),
    )


CASE = numbered_spec(
    name="case", table=Case, label_sv="Ärende", label_en="Case",
    plural_sv="Ärenden", plural_en="Cases", path="/cases",
    filters=("status", "kind", "customer_id"), choices=(("status", STATUSES), ("kind", KINDS)),
    fields=(
        *_party(RULE_CASES),
        *_party(RULE_SERVICE),
        replace(TITLE, rule=RULE_SERVICE),
        TITLE,
        Field("description", "free_text", "empty", "Beskrivning", "Description"),
        Field("created_by", "employee_ref", "zero", "Registrerad av", "Recorded by", search=False),
    ),
    not_personal=((("kind", "status"), "a choice from a fixed list"),),
    rules=(
        _rule(RULE_CASES, "Ärenden", "Cases", "case"),
        _rule(RULE_SERVICE, "Serviceärenden", "Service cases", "service"),
    ),
    rule_of=lambda row: RULE_SERVICE if row["kind"] == "service" else RULE_CASES,
    places=(
        Place("Ärenden", "Cases", (("kind", "case"),)),
        Place("Serviceärenden", "Service cases", (("kind", "service"),)),
    ),
    can_open=any_employee,
    # The customer reads their cases in the portal: what the case is about and where it
    # stands; never the end customer's details, who recorded it or the activity.
    portal=PortalView(columns=(
        PortalColumn("status", "Status", "Status", "choice",
                     (("open", "Öppet", "Open"), ("closed", "Avslutat", "Closed"))),
        PortalColumn("created_at", "Registrerat", "Recorded", "datetime"),
        PortalColumn("closed_at", "Avslutat", "Closed", "datetime", in_list=False),
        PortalColumn("description", "Beskrivning", "Description", in_list=False),
    )),
)

# What the plugin declares (declare_records).
RECORDS = (CASE,)
