"""Work orders (Arbetsordrar) with extra costs the customer approves.

Retention rule M18 is declared in :mod:`plugins.workorders.records`; the core's engine runs it.
Comments, work reports, notes and customer conversations on a work order are core activity
(``/api/activity/workorders/work_order/{id}``). Approving an extra cost can require an SMS
code: the two-factor context "extra_costs" is declared here and asked through the
``challenge_second_factor`` hook.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.approvals import PortalApproval, PortalDecisionRequest, PortalDecisionResult, PortalPerson
from core.contracts import ApprovalKind, ModuleInfo, RecordSpec, TwoFactorContext
from core.plugins import hookimpl

NAME = "workorders"


@hookimpl
def describe_module() -> ModuleInfo:
    return ModuleInfo(
        name=NAME,
        label_sv="Arbetsordrar",
        label_en="Work orders",
        description_sv="Arbetsordrar med slutkund och extrakostnader som kunden godkänner.",
        description_en="Work orders with end customer and extra costs the customer approves.",
        area="workcloud",
    )


@hookimpl
def register_piccolo_apps() -> Sequence[str]:
    return ["plugins.workorders.piccolo_app"]


@hookimpl
def register_routes() -> Sequence[Any]:
    from plugins.workorders.pages import pages
    from plugins.workorders.routes import route_handlers

    return [*route_handlers(), *pages()]


@hookimpl
def declare_records() -> Sequence[RecordSpec]:
    from plugins.workorders.records import EXTRA_COST, WORK_ORDER

    return [WORK_ORDER, EXTRA_COST]


@hookimpl
def declare_two_factor_contexts() -> Sequence[TwoFactorContext]:
    return [
        TwoFactorContext(
            key="extra_costs",
            label_sv="Extrakostnader – SMS-signering",
            label_en="Extra costs – SMS signing",
            module=NAME,
            order=60,
        )
    ]


@hookimpl
def declare_kinds() -> Sequence[ApprovalKind]:
    """The portal lists and decides this module's extra costs through this kind."""
    return [ApprovalKind("extra_cost", pending=_pending, decide=_decide)]


async def _pending(person: PortalPerson) -> Sequence[PortalApproval]:
    from plugins.workorders.portal import pending

    return await pending(person)


async def _decide(request: PortalDecisionRequest) -> PortalDecisionResult:
    from plugins.workorders.portal import decide

    return await decide(request)
