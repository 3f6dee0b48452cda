"""Payment plans in the customer portal: the sent plans of the customer's open projects,
and approving or declining one with the SMS code of the "payment_plans" context
(core/approvals.py). The e-mailed link approves the same plan; whichever comes first wins,
the other gets a clear 409.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from core.approvals import (
    NOT_FOUND,
    PortalApproval,
    PortalApprovalLine,
    PortalDecisionRequest,
    PortalDecisionResult,
    PortalPerson,
    approver_values,
    ask_signature,
    decided,
    owned_where,
    owns,
    refused,
    signed_by,
)
from plugins.projects.services import installments_of
from plugins.projects.tables import PaymentPlan, Project

KIND = "payment_plan"
CONTEXT = "payment_plans"
CHANGED = "This payment plan was answered or changed a moment ago; reload the page."


def _projects(person: PortalPerson) -> Any:
    return owned_where(Project, person) & (Project.status == "open")


async def pending(person: PortalPerson) -> list[PortalApproval]:
    projects = {
        int(p["id"]): p
        for p in await Project.select(Project.id, Project.number, Project.title).where(_projects(person))
    }
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
            PortalApproval(
                kind=KIND,
                item_id=int(plan["id"]),
                module="projects",
                label_sv="Betalplan, projekt",
                label_en="Payment plan, project",
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


async def decide(request: PortalDecisionRequest) -> PortalDecisionResult:
    person = request.person
    plan = await PaymentPlan.select().where(
        (PaymentPlan.tenant_id == person.tenant_id) & (PaymentPlan.id == request.item_id)
    ).first()
    project = None
    if plan is not None:
        project = await Project.select().where(_projects(person) & (Project.id == plan["project_id"])).first()
    if (
        plan is None
        or project is None
        or plan["status"] == "draft"
        or not owns(person, int(project["customer_id"]), int(project["contact_person_id"]))
    ):
        return refused(NOT_FOUND, 404)
    if plan["status"] == "approved":
        return refused("This payment plan is already approved.")
    if plan["status"] == "declined":
        return refused("This payment plan is already declined.")
    stop, signature = await ask_signature(request, CONTEXT)
    if stop is not None:
        return stop
    signed = signed_by(signature, request.signer_name)
    values: dict[Any, Any] = {
        PaymentPlan.status: "approved" if request.approve else "declined",
        **approver_values(PaymentPlan, signed, request.signer_email),
    }
    values[PaymentPlan.approved_at if request.approve else PaymentPlan.declined_at] = signed.at
    update = PaymentPlan.update(values).where(
        (PaymentPlan.tenant_id == person.tenant_id) & (PaymentPlan.id == plan["id"]) & (PaymentPlan.status == "sent")
    ).returning(PaymentPlan.id)
    return await decided(request, signed, update, CHANGED)
