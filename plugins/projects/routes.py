"""The projects API under /api/projects, and the payment-plan approval link (no login)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from core.web import AuthUser
from core.routes.records import Limit, Offset
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
    ProjectPage,
    ProjectPatch,
    PublicPlanOut,
    SecondFactorOut,
    SendIn,
    Status,
    SubProjectIn,
    SubProjectOut,
    SubProjectPatch,
)
from plugins.projects.tables import ExtraCost, Installment, PartnerInvitation, PaymentPlan, SubProject

Id = Annotated[int, PathParameter(ge=1, le=2_147_483_647)]
RefFilter = Annotated[int | None, QueryParameter(ge=0, le=2_147_483_647)]
SearchText = Annotated[str | None, QueryParameter(max_length=200)]
Token = Annotated[str, PathParameter(min_length=1, max_length=128)]
# Public routes: no session needed; the module guard leaves them to the handler, which
# refuses plans of tenants that turned the module off.
PUBLIC = {"public": True}


class ProjectsController(Controller):
    path = "/api/projects"
    tags = ["projects"]

    @get("/")
    async def list_projects(
        self,
        user: AuthUser,
        offset: Offset = 0,
        limit: Limit = 50,
        status: FromQuery[Status | None] = None,
        customer_id: RefFilter = None,
        q: SearchText = None,
        include_deleted: FromQuery[bool] = False,
    ) -> ProjectPage:
        """Projects of the organization, newest first; deleted ones only when asked for."""
        total, rows = await services.PROJECTS.list(
            user.tenant_id, offset, limit, q=q, filters={"status": status, "customer_id": customer_id},
            include_deleted=include_deleted,
        )
        return ProjectPage(total=total, offset=offset, limit=limit, items=[services.project_out(r) for r in rows])

    @post("/", status_code=HTTP_201_CREATED)
    async def create(self, user: AuthUser, data: JSONBody[ProjectIn]) -> ProjectDetailOut:
        return await services.create_project(user.tenant_id, data)

    @get("/{project_id:int}")
    async def get_one(self, user: AuthUser, project_id: Id) -> ProjectDetailOut:
        """The project with its sub-projects, extra costs, payment plans and invitations."""
        return await services.load_detail(user.tenant_id, project_id)

    @patch("/{project_id:int}")
    async def edit(self, user: AuthUser, project_id: Id, data: JSONBody[ProjectPatch]) -> ProjectDetailOut:
        return await services.update_project(user.tenant_id, project_id, data)

    @delete("/{project_id:int}", status_code=HTTP_200_OK)
    async def remove(self, user: AuthUser, project_id: Id) -> ProjectDetailOut:
        return await services.delete_project(user.tenant_id, project_id)

    @post("/{project_id:int}/close", status_code=HTTP_200_OK)
    async def close(self, user: AuthUser, project_id: Id) -> ProjectDetailOut:
        return await services.close_project(user.tenant_id, project_id)

    @post("/{project_id:int}/reopen", status_code=HTTP_200_OK)
    async def reopen(self, user: AuthUser, project_id: Id) -> ProjectDetailOut:
        return await services.reopen_project(user.tenant_id, project_id)

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
        row = await services.get_scoped(SubProject, user.tenant_id, sub_id)
        await services.delete_child(SubProject, user.tenant_id, sub_id, "Sub-project")
        return await services.load_detail(user.tenant_id, int(row["project_id"]))

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
        row = await services.get_scoped(ExtraCost, user.tenant_id, cost_id)
        await services.delete_child(ExtraCost, user.tenant_id, cost_id, "Extra cost")
        return await services.load_detail(user.tenant_id, int(row["project_id"]))

    # -- partner invitations
    @post("/{project_id:int}/partner-invitations", status_code=HTTP_201_CREATED)
    async def add_invitation(self, user: AuthUser, project_id: Id, data: JSONBody[InvitationIn]) -> InvitationOut:
        return await services.add_invitation(user.tenant_id, project_id, data)

    @get("/partner-invitations/{invitation_id:int}")
    async def get_invitation(self, user: AuthUser, invitation_id: Id) -> InvitationOut:
        return services.invitation_out(await services.get_scoped(PartnerInvitation, user.tenant_id, invitation_id))

    @patch("/partner-invitations/{invitation_id:int}")
    async def edit_invitation(self, user: AuthUser, invitation_id: Id, data: JSONBody[InvitationPatch]) -> InvitationOut:
        return await services.update_invitation(user.tenant_id, invitation_id, data)

    @delete("/partner-invitations/{invitation_id:int}", status_code=HTTP_200_OK)
    async def remove_invitation(self, user: AuthUser, invitation_id: Id) -> ProjectDetailOut:
        row = await services.get_scoped(PartnerInvitation, user.tenant_id, invitation_id)
        await services.delete_child(PartnerInvitation, user.tenant_id, invitation_id, "Partner invitation")
        return await services.load_detail(user.tenant_id, int(row["project_id"]))

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
        row = await services.get_scoped(PaymentPlan, user.tenant_id, plan_id)
        await services.delete_child(PaymentPlan, user.tenant_id, plan_id, "Payment plan")
        return await services.load_detail(user.tenant_id, int(row["project_id"]))

    @post("/payment-plans/{plan_id:int}/send", status_code=HTTP_200_OK)
    async def send_plan(self, user: AuthUser, plan_id: Id, data: JSONBody[SendIn]) -> PaymentPlanOut:
        """E-mail the customer a link to approve the plan; an earlier link stops working."""
        return await services.send_plan(user.tenant_id, plan_id, data.email, data.message)


class PublicPaymentPlansController(Controller):
    """The customer's side of a payment plan: no login, the token is the key."""

    path = "/api/projects/public/payment-plans"
    tags = ["projects"]

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
    async def approve(self, request: Request[Any, Any, Any], token: Token, data: JSONBody[ApproveIn]) -> Response[ApproveOut]:
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
                        challenge_id=value.challenge_id, masked_phone=value.masked_phone, message=value.message_text()
                    ),
                ),
                status_code=HTTP_202_ACCEPTED,
            )
        return Response(ApproveOut(status="approved", approved_at=value))
