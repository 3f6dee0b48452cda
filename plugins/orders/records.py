"""The orders module's records, declared once (M22): the order, its article lines and its
comment rows.

Their personal-data fields, the retention rule, the order's record type and the
person-search places are derived from :data:`ORDER`, :data:`ORDER_LINE` and
:data:`ORDER_COMMENT`.

Decisions worth knowing:

* **M22 "orders"** (N days after invoiced or deleted): every link to the customer is cleared
  (customer and contact person become 0, the customer's reference becomes the tenant's
  anonymization word); every comment row of the order is deleted (``delete_row`` through
  ``parent_column="order_id"``) and the invoice comment is emptied; comments attached through
  core activity are cleared too ("all comment rows"). The article lines, quantities, prices
  and the order's title and description stay: they are the bookkeeping record.
* The clock is the earliest of ``invoiced_at`` and ``deleted_at``: an order that was never
  invoiced nor deleted is never anonymized, however old.
* The brief's rule is "after N days", so "immediately" is not offered; the record service
  (core.records) asks the engine on delete when the rule allows it.
* ``created_by`` columns are employee references, set to 0 when that employee is anonymized.
"""

from __future__ import annotations

from core.contracts import Field, Place, RecordSpec, RetentionRule, any_employee
from core.records.columns import numbered_spec, party_fields
from plugins.orders.tables import Order, OrderComment, OrderLine

RULE = "orders"
STATUSES = ("open", "closed")
# ``?invoiced=``: invoiced or not (``true``/``false`` in the API, ``yes``/``no`` on the page).
INVOICED_VALUES = {"true": True, "yes": True, "false": False, "no": False}

ORDER = numbered_spec(
    name="order", table=Order, label_sv="Order", label_en="Order",
    plural_sv="Order", plural_en="Orders", path="/orders",
    filters=("status", "customer_id", "invoiced"),
    choices=(("status", STATUSES), ("invoiced", tuple(INVOICED_VALUES))),
    sort=("number", "title", "created_at", "updated_at", "closed_at", "invoiced_at"),
    fields=(
        *party_fields(RULE),
        Field("customer_reference", "name", "replace", "Er referens", "Customer's reference", rule=RULE),
        Field("invoice_comment", "free_text", "empty", "Fakturakommentar", "Invoice comment", rule=RULE),
        Field("created_by", "employee_ref", "zero", "Registrerad av", "Recorded by", search=False),
        # Free text kept by retention (the bookkeeping record), known to erasure.
        Field("title", "free_text", "replace", "Rubrik", "Title"),
        Field("description", "free_text", "empty", "Beskrivning", "Description"),
    ),
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

# Parts of an order, without pages or routes of the record layer (``path=""``): a search hit
# links to the line or comment row, which names its order; the order's rule deletes its
# comment rows (``parent_column``). Every employee may open them, as the order.
PLACES = (Place("Order", "Orders"),)
ORDER_LINE = RecordSpec(
    name="order_line", table=OrderLine, label_sv="Orderrad", label_en="Order line",
    title_column="description", soft_delete=False, link=lambda line_id: f"/api/orders/lines/{line_id}",
    places=PLACES, can_open=any_employee,
    fields=(Field("description", "free_text", "empty", "Orderrad, text", "Order line, text"),),
)
ORDER_COMMENT = RecordSpec(
    name="order_comment", table=OrderComment, label_sv="Kommentarsrad", label_en="Comment row",
    title_column="text", soft_delete=False, parent_column="order_id",
    link=lambda comment_id: f"/api/orders/comments/{comment_id}", places=PLACES, can_open=any_employee,
    fields=(
        Field("text", "free_text", "delete_row", "Kommentarsrad", "Comment row", rule=RULE),
        Field("created_by", "employee_ref", "zero", "Kommentarsrad, skriven av", "Comment row, written by",
              search=False),
    ),
)

# What the plugin declares (declare_records).
RECORDS = (ORDER, ORDER_LINE, ORDER_COMMENT)
