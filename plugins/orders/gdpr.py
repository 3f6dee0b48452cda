"""What orders store about people, and when they let go of it (M22).

Decisions worth knowing:

* **M22 "orders"** (N days after invoiced or deleted): every link to the customer is cleared
  (customer and contact person become 0, the customer's reference becomes the tenant's
  anonymization word); every comment row of the order is deleted (``delete_row`` through
  ``parent_column="order_id"``) and the invoice comment is emptied; comments attached through
  core activity are cleared too ("all comment rows"). The article lines, quantities, prices
  and the order's title and description stay: they are the bookkeeping record.
* The clock is the earliest of ``invoiced_at`` and ``deleted_at``: an order that was never
  invoiced nor deleted is never anonymized, however old.
* The brief's rule is "after N days", so "immediately" is not offered;
  the record service (core.records) asks the engine on delete when the rule allows it.
* ``created_by`` columns are employee references, set to 0 when that employee is anonymized.
"""

from __future__ import annotations

from core.contracts import NotPersonal, PersonalDataField, SearchSource
from plugins.orders.records import RULE
from plugins.orders.tables import Order, OrderComment, OrderLine

PLUGIN = "orders"
RECORD_TYPE = "order"
PLACE_SV = "Order"
PLACE_EN = "Orders"


def line_link(line_id: int) -> str:
    return f"/api/orders/lines/{line_id}"


def comment_link(comment_id: int) -> str:
    return f"/api/orders/comments/{comment_id}"


# The order's own fields, rule, record type and places are its record spec's
# (:data:`plugins.orders.records.ORDER`); here only the child tables (comment rows, lines).
COMMENT_FIELDS: tuple[tuple[str, str, str, str, str], ...] = (
    ("text", "free_text", "delete_row", "Kommentarsrad", "Comment row"),
)


def personal_data() -> list[PersonalDataField | NotPersonal]:
    fields: list[PersonalDataField | NotPersonal] = [
        PersonalDataField(
            OrderComment, column, category, strategy, sv, en,  # type: ignore[arg-type]
            rule=RULE, parent_column="order_id",
        )
        for column, category, strategy, sv, en in COMMENT_FIELDS
    ]
    fields += [
        PersonalDataField(
            OrderComment, "created_by", "employee_ref", "zero",
            "Kommentarsrad, skriven av", "Comment row, written by",
        ),
        PersonalDataField(
            OrderLine, "description", "free_text", "empty", "Orderrad, text", "Order line, text"
        ),
    ]
    return fields


def search_sources() -> list[SearchSource]:
    """Line and comment-row hits link to the row, which names its order."""
    sources = [
        SearchSource(OrderLine, "description", "free_text", "workcloud", PLACE_SV, PLACE_EN,
                     link=line_link)
    ]
    for column, category, *_ in COMMENT_FIELDS:
        sources.append(
            SearchSource(
                OrderComment, column, category, "workcloud", PLACE_SV, PLACE_EN,  # type: ignore[arg-type]
                link=comment_link,
            )
        )
    return sources


BOOKKEEPING_YEARS = 7


async def veto_erasure(tenant_id: int, rule: str, record_ids: list[int]) -> dict[int, str]:
    """Invoiced orders are bookkeeping records (Bokföringslagen: seven years after the end
    of the financial year): an erasure request keeps them; the customer's links in them
    are cleared when the customer is anonymized."""
    if rule != RULE or not record_ids:
        return {}
    from core.db import utcnow

    rows = await Order.select(Order.id, Order.invoiced_at).where(
        (Order.tenant_id == tenant_id) & Order.id.is_in(record_ids) & Order.invoiced_at.is_not_null()
    )
    out: dict[int, str] = {}
    now = utcnow()
    for row in rows:
        keep_until = row["invoiced_at"].replace(year=row["invoiced_at"].year + BOOKKEEPING_YEARS + 1, month=1, day=1)
        if keep_until > now:
            out[int(row["id"])] = (
                f"invoiced order: kept for bookkeeping until {keep_until.date().isoformat()} (Bokföringslagen)"
            )
    return out
