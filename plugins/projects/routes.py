"""The projects API under /api/projects: the record layer's common routes (list, create,
get, edit, close, reopen, delete) answered with the project's parts, the parts' own routes,
the payment-plan approval link (no login) and the module's settings."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import JSONBody, PathParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from core.gdpr.routes import module_settings_router
from core.routes.records import record_router
from core.web import AuthUser
from plugins.projects import services
from plugins.projects.schemas import (
    ApproveIn,
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
    ProjectPatch,
    PublicPlanOut,
    SecondFactorOut,
    SendIn,
    SubProjectIn,
    SubProjectOut,
    SubProjectPatch,
)
from plugins.projects.tables import ExtraCost, Installment, PartnerInvitation, PaymentPlan, SubProject

Id = Annotated[int, PathParameter(ge=1, le=2_147_483_647)]
Token = Annotated[str, PathParameter(min_length=1, max_length=128)]
# Public routes: no session needed; the module guard leaves them to the handler, which
# refuses plans of tenants that turned the module off.
PUBLIC = {"public": True}


async def _create(user: Any, data: ProjectIn) -> dict[str, Any]:
    return await services.create_project(user.tenant_id, data)


async def _edit(user: Any, project_id: int, data: ProjectPatch) -> dict[str, Any]:
    return await services.update_project(user.tenant_id, project_id, data)


class ProjectsController(Controller):
    """A project's parts beside the record layer's routes: sub-projects, extra costs,
    partner invitations and payment plans (adding, reading, changing, deleting, sending)."""

    path = "/api/projects"
    tags = ("projects",)

    # -- sub-projects
    @post("/{project_id:int}/sub-projects", status_code=HTTP_201_CREATED)
    async def add_sub_project(self, user: AuthUser, project_id: Id, data: JSONBody[SubProjectIn]) -> SubProjectOut:
        return await services.add_sub_project(user.tenant_id, project_id, data)

    @get("/sub-projects/{sub_id:int}")
    async def get_sub_project(self, user: AuthUser, sub_id: Id) -> SubProjectOut:
        return services.sub_out(await services.get_scoped(SubProject, user.tenant_id, sub_id))

    @patch("/sub-projects/{sub_id:int}")
    async def edit_sub_project(self, user: AuthUser, sub_id: Id, data: JSONBody[SubProjectPatch]) -> SubProjectOut:
        return await services.update_sub_project(user.tenant_id, sub_id, data)

    @delete("/sub-projects/{sub_id:int}", status_code=HTTP_200_OK)
    async def remove_sub_project(self, user: AuthUser, sub_id: Id) -> ProjectDetailOut:
        return await services.delete_child(SubProject, user.tenant_id, sub_id)

    # -- extra costs
    @post("/{project_id:int}/extra-costs", status_code=HTTP_201_CREATED)
    async def add_extra_cost(self, user: AuthUser, project_id: Id, data: JSONBody[ExtraCostIn]) -> ExtraCostOut:
        return await services.add_extra_cost(user.tenant_id, project_id, data)

    @get("/extra-costs/{cost_id:int}")
    async def get_extra_cost(self, user: AuthUser, cost_id: Id) -> ExtraCostOut:
        return services.cost_out(await services.get_scoped(ExtraCost, user.tenant_id, cost_id))

    @patch("/extra-costs/{cost_id:int}")
    async def edit_extra_cost(self, user: AuthUser, cost_id: Id, data: JSONBody[ExtraCostPatch]) -> ExtraCostOut:
        return await services.update_extra_cost(user.tenant_id, cost_id, data)

    @delete("/extra-costs/{cost_id:int}", status_code=HTTP_200_OK)
    async def remove_extra_cost(self, user: AuthUser, cost_id: Id) -> ProjectDetailOut:
        return await services.delete_child(ExtraCost, user.tenant_id, cost_id)

    # -- partner invitations
    @post("/{project_id:int}/partner-invitations", status_code=HTTP_201_CREATED)
    async def add_invitation(self, user: AuthUser, project_id: Id, data: JSONBody[InvitationIn]) -> InvitationOut:
        return await services.add_invitation(user.tenant_id, project_id, data)

    @get("/partner-invitations/{invitation_id:int}")
    async def get_invitation(self, user: AuthUser, invitation_id: Id) -> InvitationOut:
        return services.invitation_out(await services.get_scoped(PartnerInvitation, user.tenant_id, invitation_id))

    @patch("/partner-invitations/{invitation_id:int}")
    async def edit_invitation(
        self, user: AuthUser, invitation_id: Id, data: JSONBody[InvitationPatch]
    ) -> InvitationOut:
        return await services.update_invitation(user.tenant_id, invitation_id, data)

    @delete("/partner-invitations/{invitation_id:int}", status_code=HTTP_200_OK)
    async def remove_invitation(self, user: AuthUser, invitation_id: Id) -> ProjectDetailOut:
        return await services.delete_child(PartnerInvitation, user.tenant_id, invitation_id)

    # -- payment plans
    @post("/{project_id:int}/payment-plans", status_code=HTTP_201_CREATED)
    async def add_plan(self, user: AuthUser, project_id: Id, data: JSONBody[PaymentPlanIn]) -> PaymentPlanOut:
        return await services.add_plan(user.tenant_id, project_id, data)

    @get("/payment-plans/{plan_id:int}")
    async def get_plan(self, user: AuthUser, plan_id: Id) -> PaymentPlanOut:
        return await services.load_plan(user.tenant_id, plan_id)

    @get("/installments/{installment_id:int}")
    async def get_installment_plan(self, user: AuthUser, installment_id: Id) -> PaymentPlanOut:
        """The payment plan an installment belongs to (person search links here)."""
        row = await services.get_scoped(Installment, user.tenant_id, installment_id)
        return await services.load_plan(user.tenant_id, int(row["payment_plan_id"]))

    @patch("/payment-plans/{plan_id:int}")
    async def edit_plan(self, user: AuthUser, plan_id: Id, data: JSONBody[PaymentPlanPatch]) -> PaymentPlanOut:
        """Change the title or replace the installments (not once the customer approved)."""
        return await services.update_plan(user.tenant_id, plan_id, data)

    @delete("/payment-plans/{plan_id:int}", status_code=HTTP_200_OK)
    async def remove_plan(self, user: AuthUser, plan_id: Id) -> ProjectDetailOut:
        return await services.delete_child(PaymentPlan, user.tenant_id, plan_id)

    @post("/payment-plans/{plan_id:int}/send", status_code=HTTP_200_OK)
    async def send_plan(self, user: AuthUser, plan_id: Id, data: JSONBody[SendIn]) -> PaymentPlanOut:
        """E-mail the customer a link to approve the plan; an earlier link stops working."""
        return await services.send_plan(user.tenant_id, plan_id, data.email, data.message)


class PublicPaymentPlansController(Controller):
    """The customer's side of a payment plan: no login, the token is the key."""

    path = "/api/projects/public/payment-plans"
    tags = ("projects",)

    @get("/{token:str}", opt=PUBLIC)
    async def show(self, token: Token) -> PublicPlanOut:
        """The payment plan behind a customer's link, without login (the token is the key)."""
        plan, project, organization, installments = await services.view_public_plan(token)
        out = services.plan_out(plan, installments)
        return PublicPlanOut(
            organization=organization,
            project_number=project["number"],
            title=out.title,
            status=out.status,
            total=out.total,
            installments=installments,
            approved_at=out.approved_at,
            can_approve=out.status == "sent",
        )

    @post("/{token:str}/approve", status_code=HTTP_200_OK, opt=PUBLIC)
    async def approve(
        self, request: Request[Any, Any, Any], token: Token, data: JSONBody[ApproveIn]
    ) -> Response[ApproveOut]:
        """Approve the plan. With SMS signing on, the first answer is 202 with a challenge;
        enter the code, then send the same request again with its challenge_id."""
        outcome, value = await services.approve_public_plan(
            token, data.name, data.email, data.challenge_id, request.headers.get("user-agent", "")
        )
        if outcome == "second_factor_required":
            return Response(
                ApproveOut(
                    status="second_factor_required",
                    second_factor=SecondFactorOut(
                        challenge_id=value.challenge_id, masked_phone=value.masked_phone, message=value.message
                    ),
                ),
                status_code=HTTP_202_ACCEPTED,
            )
        return Response(ApproveOut(status="approved", approved_at=value))


def route_handlers() -> list[Any]:
    return [
        record_router(services.PROJECTS, ProjectIn, ProjectPatch, ProjectDetailOut, create=_create, edit=_edit,
                      module=__name__, output=services.output),
        ProjectsController,
        PublicPaymentPlansController,
        module_settings_router(services.MODULE),
    ]
