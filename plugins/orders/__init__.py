"""Orders (Order): the invoicing basis with article lines, comment rows and an invoice comment.

Retention rule M22 is declared in :mod:`plugins.orders.records`; the core's engine runs it.
Activity (comments, notes, ...) on an order is core activity
(``/api/activity/orders/order/{id}``).
"""

from __future__ import annotations

from typing import Any

from core.plugins import answer_from, hookimpl, module_hooks

describe_module, register_piccolo_apps, register_routes = module_hooks(__name__)
declare_records = answer_from(f"{__name__}.records", "RECORDS")


@hookimpl
def veto_erasure(tenant_id: int, rule: str, record_ids: list[int]) -> Any:
    from plugins.orders import gdpr

    return gdpr.veto_erasure(tenant_id, rule, record_ids)
