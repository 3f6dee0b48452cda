"""The projects API under /api/projects: the record layer's common routes (list, create,
get, edit, close, reopen, delete) answered with the project's parts, the parts' own routes,
the payment-plan approval link (no login) and the module's settings.

No ``from __future__ import annotations`` here: the parts' handlers are made by
:func:`part_routes`, and Litestar reads their annotations as real types."""

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from core.records.shapes import out_of
from core.routes.records import record_router
from core.routes.schemas import Id
from core.routes.signing import LinkSendIn, link_sign_routes
from core.web import AuthUser
from plugins.projects import services
from plugins.projects.schemas import (
    ApproveOut,
    ExtraCostIn,
    ExtraCostOut,
    ExtraCostPatch,
    InvitationIn,
    InvitationOut,
    InvitationPatch,
    PaymentPlanIn,
    PaymentPlanOut,
    PaymentPlanPatch,
    ProjectDetailOut,
    ProjectIn,
    ProjectOut,
    ProjectPatch,
    PublicPlanOut,
    SubProjectIn,
    SubProjectOut,
    SubProjectPatch,
)
from plugins.projects.tables import ExtraCost, Installment, PartnerInvitation, PaymentPlan, SubProject

# Public routes: no session needed; the module guard leaves them to the handler, which
# refuses plans of tenants that turned the module off.
TAGS = ["projects"]


def _reader(table: type, out: Callable[[dict[str, Any]], Any]) -> Callable[[int, int], Awaitable[Any]]:
    async def read(tenant_id: int, part_id: int) -> Any:
        return out(await services.get_scoped(table, tenant_id, part_id))

    return read


def part_routes(
    segment: str,
    table: type,
    schema_in: type,
    schema_patch: type,
    schema_out: type,
    add: Callable[[int, int, Any], Awaitable[Any]],
    read: Callable[[int, int], Awaitable[Any]],
    update: Callable[[int, int, Any], Awaitable[Any]],
    what: str,
) -> list[Any]:
    """A part of a project (``/api/projects/<segment>``): add it to an open project, read it
    by its own id (where person search links a hit in it), change it, delete it (the answer
    is the project as it is after)."""

    async def add_part(user: AuthUser, project_id: Id, data: JSONBody[schema_in]) -> schema_out:  # type: ignore[valid-type]
        return await add(user.tenant_id, project_id, data)

    async def get_part(user: AuthUser, part_id: Id) -> schema_out:  # type: ignore[valid-type]
        return await read(user.tenant_id, part_id)

    async def edit_part(user: AuthUser, part_id: Id, data: JSONBody[schema_patch]) -> schema_out:  # type: ignore[valid-type]
        return await update(user.tenant_id, part_id, data)

    async def remove_part(user: AuthUser, part_id: Id) -> ProjectDetailOut:
        return await services.delete_child(table, user.tenant_id, part_id)

    name = segment.replace("-", "_")
    docs = {add_part: f"Add a {what} to an open project.", get_part: f"One {what}.",
            edit_part: f"Change a {what}; fields left out stay as they are.",
            remove_part: f"Delete a {what}; the answer is the project."}
    for fn, doc in docs.items():
        fn.__doc__ = doc
        fn.__qualname__ = fn.__name__ = f"{fn.__name__}_{name}"
    return [
        post(f"/api/projects/{{project_id:int}}/{segment}", status_code=HTTP_201_CREATED, tags=TAGS)(add_part),
        get(f"/api/projects/{segment}/{{part_id:int}}", tags=TAGS)(get_part),
        patch(f"/api/projects/{segment}/{{part_id:int}}", tags=TAGS)(edit_part),
        delete(f"/api/projects/{segment}/{{part_id:int}}", status_code=HTTP_200_OK, tags=TAGS)(remove_part),
    ]


PARTS = (
    ("sub-projects", SubProject, SubProjectIn, SubProjectPatch, SubProjectOut, services.add_sub_project,
     _reader(SubProject, services.sub_out), services.update_sub_project, "sub-project"),
    ("extra-costs", ExtraCost, ExtraCostIn, ExtraCostPatch, ExtraCostOut, services.add_extra_cost,
     _reader(ExtraCost, services.cost_out), services.update_extra_cost, "extra cost"),
    ("partner-invitations", PartnerInvitation, InvitationIn, InvitationPatch, InvitationOut,
     services.add_invitation, _reader(PartnerInvitation, services.invitation_out), services.update_invitation,
     "partner invitation"),
    ("payment-plans", PaymentPlan, PaymentPlanIn, PaymentPlanPatch, PaymentPlanOut, services.add_plan,
     services.load_plan, services.update_plan, "payment plan (the installments replaced as given; not once approved)"),
)


class PaymentPlansController(Controller):
    """What a payment plan has beside the other parts: sending it, and the plan an
    installment is in."""

    path = "/api/projects"
    tags = TAGS

    @get("/installments/{installment_id:int}")
    async def get_installment_plan(self, user: AuthUser, installment_id: Id) -> PaymentPlanOut:
        """The payment plan an installment belongs to (person search links here)."""
        row = await services.get_scoped(Installment, user.tenant_id, installment_id)
        return await services.load_plan(user.tenant_id, int(row["payment_plan_id"]))

    @post("/payment-plans/{plan_id:int}/send", status_code=HTTP_200_OK)
    async def send_plan(self, user: AuthUser, plan_id: Id, data: JSONBody[LinkSendIn]) -> PaymentPlanOut:
        """E-mail the customer a link to approve the plan; an earlier link stops working."""
        return await services.send_plan(user.tenant_id, plan_id, data.email, data.message)


async def _public(request: Request[Any, Any, Any], token: str) -> PublicPlanOut:
    """What the customer sees through the link: the plan, not the project's internals."""
    plan, project, organization, installments = await services.view_public_plan(token)
    out = services.plan_out(plan, installments)
    return out_of(
        PublicPlanOut, out, organization=organization, project_number=project["number"],
        can_approve=out.status == "sent",
    )


def route_handlers() -> list[Any]:
    return [
        # a list's items are the projects without their parts (ProjectOut), one its detail
        record_router(services.PROJECTS, ProjectIn, ProjectPatch, ProjectDetailOut,
                      module=__name__, output=services.output, summary=ProjectOut),
        *(handler for part in PARTS for handler in part_routes(*part)),
        PaymentPlansController,
        *link_sign_routes("/api/projects/public/payment-plans", "approve", services.approve_public_plan, _public,
                          PublicPlanOut, ApproveOut, lambda at: ApproveOut(status="approved", approved_at=at),
                          what="plan", tags=TAGS, module=__name__),
    ]
