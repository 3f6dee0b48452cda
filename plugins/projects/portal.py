"""Payment plans in the customer portal: the sent plans of the customer's open projects,
and approving or declining one with the SMS code of the "payment_plans" context
(core/approvals.py). The e-mailed link approves the same plan; whichever comes first wins,
the other gets a clear 409.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from core import approvals
from core.approvals import PortalApproval, PortalApprovalLine, PortalDecisionRequest, PortalDecisionResult
from core.contracts import SignedItem
from plugins.projects.services import installments_of
from plugins.projects.tables import PaymentPlan, Project

KIND = "payment_plan"
CONTEXT = "payment_plans"
CHANGED = "This payment plan was answered or changed a moment ago; reload the page."


OPEN = Project.status == "open"


async def pending(person: approvals.PortalPerson) -> list[PortalApproval]:
    projects = await approvals.owned_parents(person, Project, Project.number, Project.title, where=OPEN)
    if not projects:
        return []
    plans = await PaymentPlan.select().where(
        (PaymentPlan.tenant_id == person.tenant_id)
        & PaymentPlan.project_id.is_in(list(projects))
        & (PaymentPlan.status == "sent")
    ).order_by(PaymentPlan.id)
    installments = await installments_of(person.tenant_id, [int(p["id"]) for p in plans])
    out = []
    for plan in plans:
        project = projects[int(plan["project_id"])]
        items = installments[int(plan["id"])]
        out.append(
            approvals.portal_approval(
                KIND,
                "projects",
                ("Betalplan, projekt", "Payment plan, project"),
                plan,
                title=f"{project['title']}: {plan['title']}"[:500],
                number=int(project["number"]),
                total=sum((i.amount for i in items), Decimal("0.00")),
                lines=tuple(
                    PortalApprovalLine(f"{i.due_date.isoformat()} {i.description}".strip(), i.amount) for i in items
                ),
                sent_at=plan["sent_at"],
            )
        )
    return out


async def signed_item(plan: dict[str, Any], project: dict[str, Any]) -> SignedItem:
    """What the SMS code approves: "Godkänn betalplan 30 000 kr för projekt 7"."""
    items = (await installments_of(int(plan["tenant_id"]), [int(plan["id"])]))[int(plan["id"])]
    return SignedItem("betalplan", "payment plan", amount=sum((i.amount for i in items), Decimal("0.00")),
                      of_sv="projekt", of_en="project", of_number=int(project["number"]))


async def decide(request: PortalDecisionRequest) -> PortalDecisionResult:
    person = request.person
    plan, project = await approvals.owned_item(
        person, PaymentPlan, request.item_id, Project, "project_id", where=OPEN
    )
    if plan is None or plan["status"] == "draft":
        return approvals.refused(approvals.NOT_FOUND, 404)
    if plan["status"] == "approved":
        return approvals.refused("This payment plan is already approved.")
    if plan["status"] == "declined":
        return approvals.refused("This payment plan is already declined.")
    stop, signature = await approvals.ask_signature(request, CONTEXT, item=await signed_item(plan, project))
    if stop is not None:
        return stop
    signed = approvals.signed_by(signature, request.signer_name)
    values: dict[Any, Any] = {
        PaymentPlan.status: "approved" if request.approve else "declined",
        **approvals.approver_values(PaymentPlan, signed, request.signer_email),
    }
    values[PaymentPlan.approved_at if request.approve else PaymentPlan.declined_at] = signed.at
    update = PaymentPlan.update(values).where(
        (PaymentPlan.tenant_id == person.tenant_id) & (PaymentPlan.id == plan["id"]) & (PaymentPlan.status == "sent")
    ).returning(PaymentPlan.id)
    return await approvals.decided(request, signed, update, CHANGED)
