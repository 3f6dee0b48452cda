"""The work orders module's record: the work order, declared once (M18).

The work order's personal-data fields, its retention rule, its record type and its
person-search places are derived from :data:`WORK_ORDER`. Extra-cost lines live in another
table than the record's, so they stay declared in :mod:`plugins.workorders.gdpr` through
the old hooks; see the decisions there.
"""

from __future__ import annotations

from core.contracts import Field, RecordSpec, RetentionRule, any_employee
from plugins.workorders.tables import WorkOrder

RULE = "work_orders"
STATUSES = ("open", "closed")

WORK_ORDER = RecordSpec(
    name="work_order", table=WorkOrder, label_sv="Arbetsorder", label_en="Work order",
    plural_sv="Arbetsordrar", plural_en="Work orders", path="/workorders",
    number_column="number", status_column="status",
    customer_column="customer_id", contact_column="contact_person_id",
    search_columns=("title",), filters=("status", "customer_id"),
    choices=(("status", STATUSES),),
    sort=("number", "title", "created_at", "updated_at", "closed_at"), default_sort="-number",
    fields=(
        Field("customer_id", "customer_ref", "zero", "Kund", "Customer", rule=RULE),
        Field("contact_person_id", "contact_ref", "zero", "Kontaktperson", "Contact person", rule=RULE),
        Field("email", "email", "null", "E-post", "E-mail", rule=RULE),
        Field("customer_reference", "name", "replace", "Er referens", "Customer's reference", rule=RULE),
        Field("end_customer_name", "name", "replace", "Slutkund, namn", "End customer, name", rule=RULE),
        Field("end_customer_address", "address", "replace", "Slutkund, adress", "End customer, address",
              rule=RULE),
        Field("end_customer_phone", "phone", "null", "Slutkund, telefon", "End customer, phone", rule=RULE),
        Field("end_customer_email", "email", "null", "Slutkund, e-post", "End customer, e-mail", rule=RULE),
        # Free text kept by retention, known to erasure (it redacts identifiers in them).
        Field("title", "free_text", "replace", "Rubrik", "Title"),
        Field("description", "free_text", "empty", "Beskrivning", "Description"),
        Field("created_by", "employee_ref", "zero", "Registrerad av", "Recorded by", search=False),
    ),
    not_personal=((("status",), "a state from a fixed list"),),
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
)
