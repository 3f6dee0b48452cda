"""The orders module's record: the order, declared once (M22).

The order's personal-data fields, its retention rule, its record type and its person-search
places are derived from :data:`ORDER`. Article lines and comment rows are child tables
(other tables than the record's), so they stay declared in :mod:`plugins.orders.gdpr`
through the old hooks; see the decisions there.
"""

from __future__ import annotations

from core.contracts import Field, RecordSpec, RetentionRule, any_employee
from plugins.orders.tables import Order

RULE = "orders"
STATUSES = ("open", "closed")

ORDER = RecordSpec(
    name="order", table=Order, label_sv="Order", label_en="Order",
    plural_sv="Order", plural_en="Orders", path="/orders",
    number_column="number", status_column="status",
    customer_column="customer_id", contact_column="contact_person_id",
    search_columns=("title",), filters=("status", "customer_id"),
    choices=(("status", STATUSES),),
    sort=("number", "title", "created_at", "updated_at", "closed_at", "invoiced_at"),
    default_sort="-number",
    fields=(
        Field("customer_id", "customer_ref", "zero", "Kund", "Customer", rule=RULE),
        Field("contact_person_id", "contact_ref", "zero", "Kontaktperson", "Contact person", rule=RULE),
        Field("customer_reference", "name", "replace", "Er referens", "Customer's reference", rule=RULE),
        Field("invoice_comment", "free_text", "empty", "Fakturakommentar", "Invoice comment", rule=RULE),
        Field("created_by", "employee_ref", "zero", "Registrerad av", "Recorded by", search=False),
        # Free text kept by retention (the bookkeeping record), known to erasure.
        Field("title", "free_text", "replace", "Rubrik", "Title"),
        Field("description", "free_text", "empty", "Beskrivning", "Description"),
    ),
    not_personal=((("status",), "a state from a fixed list"),),
    rules=(
        RetentionRule(
            key=RULE, label_sv="Order", label_en="Orders", clock=("invoiced", "deleted"),
            clock_columns=("invoiced_at", "deleted_at"), allowed_modes=("days", "off"),
            default_mode="off", default_days=365, clears_activity=("comment",),
            module="orders",
        ),
    ),
    can_open=any_employee,
)
