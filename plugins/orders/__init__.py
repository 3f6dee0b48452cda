"""Orders (Order): the invoicing basis with article lines, comment rows and an invoice comment.

Retention rule M22 is declared in :mod:`plugins.orders.records`; the core's engine runs it.
Activity (comments, notes, ...) on an order is core activity
(``/api/activity/orders/order/{id}``).
"""

from __future__ import annotations

from typing import Any

from core.contracts import ModuleInfo
from core.plugins import answer_from, describes, hookimpl, piccolo_app_of, routes_of

NAME = "orders"

describe_module = describes(
    ModuleInfo(
        name=NAME,
        label_sv="Order",
        label_en="Orders",
        description_sv="Order som fakturaunderlag med artikelrader, kommentarsrader och fakturakommentar.",
        description_en="Orders as the invoicing basis with article lines, comment rows and an invoice comment.",
        area="workcloud",
    )
)
register_piccolo_apps = piccolo_app_of(__name__)
register_routes = routes_of(__name__)
declare_records = answer_from(f"{__name__}.records", "RECORDS")


@hookimpl
def veto_erasure(tenant_id: int, rule: str, record_ids: list[int]) -> Any:
    from plugins.orders import gdpr

    return gdpr.veto_erasure(tenant_id, rule, record_ids)
