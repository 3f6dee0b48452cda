"""Extra costs in the customer portal: the lines of the customer's work orders that wait
for approval, and approving or declining one with the SMS code of the "extra_costs"
context (core/approvals.py). An employee can still record an approval on the work order's
page; whichever comes first wins, the other gets a clear 409.
"""

from __future__ import annotations

from typing import Any

from core import approvals
from core.approvals import PortalApproval, PortalApprovalLine, PortalDecisionRequest, PortalDecisionResult
from core.contracts import SignedItem
from plugins.workorders.services import from_minor, line_detail
from plugins.workorders.tables import ExtraCost, WorkOrder

KIND = "extra_cost"
CONTEXT = "extra_costs"
CHANGED = "This extra cost was answered a moment ago; reload the page."


async def pending(person: approvals.PortalPerson) -> list[PortalApproval]:
    orders = await approvals.owned_parents(person, WorkOrder, WorkOrder.number, WorkOrder.title)
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
            approvals.portal_approval(
                KIND,
                "workorders",
                ("Extrakostnad, arbetsorder", "Extra cost, work order"),
                row,
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
    line, order = await approvals.owned_item(person, ExtraCost, request.item_id, WorkOrder, "work_order_id")
    if line is None:
        return approvals.refused(approvals.NOT_FOUND, 404)
    if line["approved_at"] is not None:
        return approvals.refused("This extra cost is already approved.")
    if line["declined_at"] is not None:
        return approvals.refused("This extra cost is already declined.")
    # The code signs this line as it stands: its amount and text are part of the subject.
    # The SMS names it: "Godkänn extrakostnad 2 500 kr för arbetsorder 1042".
    item = SignedItem("extrakostnad", "extra cost", amount=from_minor(int(line["amount_minor"])),
                      of_sv="arbetsorder", of_en="work order", of_number=int(order["number"]))
    stop, signature = await approvals.ask_signature(request, CONTEXT, detail=line_detail(line), item=item)
    if stop is not None:
        return stop
    signed = approvals.signed_by(signature, request.signer_name)
    values: dict[Any, Any] = {ExtraCost.approver_name: signed.name, ExtraCost.approver_phone: signed.phone}
    values[ExtraCost.approved_at if request.approve else ExtraCost.declined_at] = signed.at
    update = ExtraCost.update(values).where(
        (ExtraCost.tenant_id == person.tenant_id)
        & (ExtraCost.id == line["id"])
        & ExtraCost.approved_at.is_null()
        & ExtraCost.declined_at.is_null()
        & (ExtraCost.amount_minor == int(line["amount_minor"]))
        & (ExtraCost.description == line["description"])
    ).returning(ExtraCost.id)
    return await approvals.decided(request, signed, update, CHANGED)
