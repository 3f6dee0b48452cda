"""The work orders module's records, declared once (M18): the work order and its extra costs.

Their personal-data fields, the retention rule, the work order's record type and the
person-search places are derived from :data:`WORK_ORDER` and :data:`EXTRA_COST`.

Decisions worth knowing:

* **M18 "work_orders"** (closed or deleted, N days): customer and contact person become 0;
  the customer information on the order (the e-mail address it is sent to becomes null,
  the customer's reference becomes the tenant's anonymization word); the end customer's
  name and address become the word, phone and e-mail null. The extra-cost lines are
  cleared through ``parent_column="work_order_id"``: their description becomes the word,
  the approver's name and masked phone are emptied (the word as approver would make an
  unapproved line look approved). The amounts and the approval time stay (what was
  charged is bookkeeping). Comments, work reports, notes and customer conversations are
  cleared (notes are free text about the customer, like the others, even where the brief
  does not list them).
* The brief's rule is "after N days", so "immediately" is not offered; the record service
  (core.records) asks the engine on delete when the rule allows it, so widening
  ``allowed_modes`` is all it takes to anonymize inside the delete request.
* Title and description can hold a name in free text: declared with ``rule=None`` (person
  search knows them; retention keeps them, as the brief does not list them); an erasure on
  request redacts the person's e-mail, phone, identity number and name in them.
* ``created_by`` columns are employee references, set to 0 when that employee is anonymized.
"""

from __future__ import annotations

from core.contracts import (
    Field,
    Place,
    PortalColumn,
    PortalPart,
    PortalView,
    RecordSpec,
    RetentionRule,
    TwoFactorContext,
    any_employee,
)
from core.records.columns import end_customer_fields, numbered_spec, party_fields
from plugins.workorders.tables import ExtraCost, WorkOrder

RULE = "work_orders"

WORK_ORDER = numbered_spec(
    name="work_order", table=WorkOrder, label_sv="Arbetsorder", label_en="Work order",
    plural_sv="Arbetsordrar", plural_en="Work orders", path="/workorders",
    fields=(
        *party_fields(RULE),
        Field("email", "email", "null", "E-post", "E-mail", rule=RULE),
        Field("customer_reference", "name", "replace", "Er referens", "Customer's reference", rule=RULE),
        *end_customer_fields(RULE),
        # Free text kept by retention, known to erasure (it redacts identifiers in them).
        Field("title", "free_text", "replace", "Rubrik", "Title"),
        Field("description", "free_text", "empty", "Beskrivning", "Description"),
        Field("created_by", "employee_ref", "zero", "Registrerad av", "Recorded by", search=False),
    ),
    rules=(
        RetentionRule(
            key=RULE, label_sv="Arbetsordrar", label_en="Work orders", clock=("closed", "deleted"),
            clock_columns=("closed_at", "deleted_at"), allowed_modes=("days", "off"),
            default_mode="off", default_days=365,
            clears_activity=("comment", "work_report", "note", "conversation"),
            module="workorders",
        ),
    ),
    can_open=any_employee,
    # The customer reads their work orders in the portal with the extra costs and whether
    # they are approved; never the end customer's details, the approver's phone or the
    # activity.
    portal=PortalView(
        columns=(
            PortalColumn("status", "Status", "Status", "choice",
                         (("open", "Pågår", "In progress"), ("closed", "Avslutad", "Closed"))),
            PortalColumn("created_at", "Registrerad", "Recorded", "datetime"),
            PortalColumn("customer_reference", "Er referens", "Your reference", in_list=False),
            PortalColumn("closed_at", "Avslutad", "Closed", "datetime", in_list=False),
            PortalColumn("description", "Beskrivning", "Description", in_list=False),
        ),
        parts=(
            PortalPart("Extrakostnader", "Extra costs", ExtraCost, "work_order_id", (
                PortalColumn("description", "Beskrivning", "Description"),
                PortalColumn("amount_minor", "Belopp", "Amount", "money_minor"),
                PortalColumn("approved_at", "Godkänd", "Approved", "datetime"),
                PortalColumn("declined_at", "Avböjd", "Declined", "datetime"),
            )),
        ),
    ),
)

# A part of a work order, without pages or routes of the record layer (``path=""``); the
# work order's rule clears it (``parent_column``); a search hit links to the line, which
# names its work order. Every employee may open it, as the work order.
EXTRA_COST = RecordSpec(
    name="extra_cost", table=ExtraCost, label_sv="Extrakostnad", label_en="Extra cost",
    title_column="description", soft_delete=False, parent_column="work_order_id",
    link=lambda line_id: f"/api/workorders/extra-costs/{line_id}", places=(Place("Arbetsordrar", "Work orders"),),
    can_open=any_employee,
    fields=(
        Field("description", "free_text", "replace", "Extrakostnad, beskrivning", "Extra cost, description", rule=RULE),
        Field("approver_name", "name", "empty", "Extrakostnad, godkänd av", "Extra cost, approved by", rule=RULE),
        Field("approver_phone", "phone", "empty", "Extrakostnad, godkännarens telefon",
              "Extra cost, approver's phone", rule=RULE),
        Field("created_by", "employee_ref", "zero", "Extrakostnad, registrerad av", "Extra cost, recorded by",
              search=False),
    ),
)

# What the plugin declares (declare_records).
RECORDS = (WORK_ORDER, EXTRA_COST)

# Approving an extra cost can require an SMS code (declare_two_factor_contexts).
TWO_FACTOR_CONTEXTS = [
    TwoFactorContext("extra_costs", "Extrakostnader – SMS-signering", "Extra costs – SMS signing",
                     module="workorders", order=60),
]
