"""Orders (Order): the invoicing basis with article lines, comment rows and an invoice comment.

Retention rule M22 is declared in :mod:`plugins.orders.records`; the core's engine runs it.
Activity (comments, notes, ...) on an order is core activity
(``/api/activity/orders/order/{id}``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.contracts import ModuleInfo, RecordSpec
from core.plugins import hookimpl

NAME = "orders"


@hookimpl
def describe_module() -> ModuleInfo:
    return ModuleInfo(
        name=NAME,
        label_sv="Order",
        label_en="Orders",
        description_sv=(
            "Order som fakturaunderlag med artikelrader, kommentarsrader och fakturakommentar."
        ),
        description_en=(
            "Orders as the invoicing basis with article lines, comment rows and an invoice comment."
        ),
        area="workcloud",
    )


@hookimpl
def register_piccolo_apps() -> Sequence[str]:
    return ["plugins.orders.piccolo_app"]


@hookimpl
def register_routes() -> Sequence[Any]:
    from plugins.orders.pages import pages
    from plugins.orders.routes import route_handlers

    return [*route_handlers(), *pages()]


@hookimpl
def declare_records() -> Sequence[RecordSpec]:
    from plugins.orders.records import ORDER, ORDER_COMMENT, ORDER_LINE

    return [ORDER, ORDER_LINE, ORDER_COMMENT]


@hookimpl
def veto_erasure(tenant_id: int, rule: str, record_ids: list[int]) -> Any:
    from plugins.orders import gdpr

    return gdpr.veto_erasure(tenant_id, rule, record_ids)
