"""Invoiced orders are bookkeeping records: what an erasure request keeps (M22).

The orders module's personal data, retention rule and search places are its record specs'
(:mod:`plugins.orders.records`, where the decisions are written down).
"""

from __future__ import annotations

from plugins.orders.records import RULE
from plugins.orders.tables import Order

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
