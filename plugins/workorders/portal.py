"""Extra costs in the customer portal: the lines of the customer's work orders that wait
for approval, and approving or declining one with the SMS code of the "extra_costs"
context (core/approvals.py). An employee can still record an approval on the work order's
page; whichever comes first wins, the other gets a clear 409.
"""

from __future__ import annotations

from typing import Any

from core.approvals import (
    NOT_FOUND,
    PortalApproval,
    PortalApprovalLine,
    PortalDecisionRequest,
    PortalDecisionResult,
    PortalPerson,
    ask_signature,
    owned_where,
    owns,
    refused,
)
from core.db import atomic, utcnow
from plugins.workorders.services import from_minor, line_detail
from plugins.workorders.tables import ExtraCost, WorkOrder

KIND = "extra_cost"
CONTEXT = "extra_costs"


def _orders(person: PortalPerson) -> Any:
    return owned_where(WorkOrder, person)


async def pending(person: PortalPerson) -> list[PortalApproval]:
    orders = {
        int(o["id"]): o
        for o in await WorkOrder.select(WorkOrder.id, WorkOrder.number, WorkOrder.title).where(_orders(person))
    }
    if not orders:
        return []
    rows = await ExtraCost.select().where(
        (ExtraCost.tenant_id == person.tenant_id)
        & ExtraCost.work_order_id.is_in(list(orders))
        & ExtraCost.approved_at.is_null()
        & ExtraCost.declined_at.is_null()
    ).order_by(ExtraCost.id)
    out = []
    for row in rows:
        order = orders[int(row["work_order_id"])]
        amount = from_minor(int(row["amount_minor"]))
        out.append(
            PortalApproval(
                kind=KIND,
                item_id=int(row["id"]),
                module="workorders",
                label_sv="Extrakostnad, arbetsorder",
                label_en="Extra cost, work order",
                title=f"{order['title']}: {row['description']}"[:500],
                number=int(order["number"]),
                total=amount,
                lines=(PortalApprovalLine(row["description"], amount),),
                sent_at=row["created_at"],
            )
        )
    return out


async def decide(request: PortalDecisionRequest) -> PortalDecisionResult:
    person = request.person
    line = await ExtraCost.select().where(
        (ExtraCost.tenant_id == person.tenant_id) & (ExtraCost.id == request.item_id)
    ).first()
    order = None
    if line is not None:
        order = await WorkOrder.select().where(_orders(person) & (WorkOrder.id == line["work_order_id"])).first()
    if line is None or order is None or not owns(person, int(order["customer_id"]), int(order["contact_person_id"])):
        return refused(NOT_FOUND, 404)
    if line["approved_at"] is not None:
        return refused("This extra cost is already approved.")
    if line["declined_at"] is not None:
        return refused("This extra cost is already declined.")
    # The code signs this line as it stands: its amount and text are part of the subject.
    stop, signature = await ask_signature(request, CONTEXT, detail=line_detail(line))
    if stop is not None:
        return stop
    masked = (signature.masked_phone or "") if signature else ""
    signer = ((signature.signer_name if signature else None) or request.signer_name)[:200]
    at = (signature.signed_at if signature else None) or utcnow()
    values: dict[Any, Any] = {ExtraCost.approver_name: signer, ExtraCost.approver_phone: masked[:40]}
    values[ExtraCost.approved_at if request.approve else ExtraCost.declined_at] = at
    async with atomic():
        done = await ExtraCost.update(values).where(
            (ExtraCost.tenant_id == person.tenant_id)
            & (ExtraCost.id == line["id"])
            & ExtraCost.approved_at.is_null()
            & ExtraCost.declined_at.is_null()
            & (ExtraCost.amount_minor == int(line["amount_minor"]))
            & (ExtraCost.description == line["description"])
        ).returning(ExtraCost.id)
    if not done:
        return refused("This extra cost was answered a moment ago; reload the page.")
    return PortalDecisionResult(status="approved" if request.approve else "declined", decided_at=at)
