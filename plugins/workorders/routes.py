"""/api/workorders: work orders (Arbetsordrar), the record layer's common routes (list,
create, get, edit, close, reopen, delete), and the module's own: extra costs and the
customer's approval of them."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from core.routes.records import record_router
from core.routes.signing import second_factor_required
from core.tenancy import get_scoped
from core.web import AuthUser
from plugins.workorders import services
from plugins.workorders.schemas import (
    ApprovalOut,
    ApproveIn,
    ExtraCostIn,
    ExtraCostOut,
    ExtraCostPatch,
    WorkOrderIn,
    WorkOrderOut,
    WorkOrderPatch,
)
from plugins.workorders.tables import ExtraCost


def extra_cost_out(row: dict) -> ExtraCostOut:
    return ExtraCostOut(
        id=row["id"],
        work_order_id=row["work_order_id"],
        description=row["description"],
        amount=services.from_minor(int(row["amount_minor"])),
        approved_at=row["approved_at"],
        approver_name=row["approver_name"],
        approver_phone=row["approver_phone"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        declined_at=row.get("declined_at"),
    )


class WorkOrdersController(Controller):
    path = "/api/workorders"
    tags = ("workorders",)

    # --- extra costs -------------------------------------------------------------------

    @get("/{work_order_id:int}/extra-costs")
    async def list_extra_costs(
        self, user: AuthUser, work_order_id: FromPath[int]
    ) -> list[ExtraCostOut]:
        return [
            extra_cost_out(r)
            for r in await services.list_extra_costs(user.tenant_id, work_order_id)
        ]

    @post("/{work_order_id:int}/extra-costs", status_code=HTTP_201_CREATED)
    async def add_extra_cost(
        self,
        user: AuthUser,
        work_order_id: FromPath[int],
        data: JSONBody[ExtraCostIn],
    ) -> ExtraCostOut:
        return extra_cost_out(await services.add_extra_cost(user.tenant_id, user.employee_id, work_order_id, data))

    @patch("/{work_order_id:int}/extra-costs/{line_id:int}")
    async def edit_extra_cost(
        self,
        user: AuthUser,
        work_order_id: FromPath[int],
        line_id: FromPath[int],
        data: JSONBody[ExtraCostPatch],
    ) -> ExtraCostOut:
        """Change a line the customer has not approved yet."""
        return extra_cost_out(await services.edit_extra_cost(user.tenant_id, work_order_id, line_id, data))

    @delete("/{work_order_id:int}/extra-costs/{line_id:int}", status_code=HTTP_200_OK)
    async def delete_extra_cost(
        self,
        user: AuthUser,
        work_order_id: FromPath[int],
        line_id: FromPath[int],
    ) -> ExtraCostOut:
        """Remove a line the customer has not approved yet."""
        return extra_cost_out(await services.delete_extra_cost(user.tenant_id, work_order_id, line_id))

    @post("/{work_order_id:int}/extra-costs/{line_id:int}/approve", status_code=HTTP_200_OK)
    async def approve_extra_cost(
        self,
        request: Request[Any, Any, Any],
        user: AuthUser,
        work_order_id: FromPath[int],
        line_id: FromPath[int],
        data: JSONBody[ApproveIn],
    ) -> Response[ApprovalOut]:
        """Record the customer's approval of an extra cost.

        When the organization has SMS signing of extra costs on, the first call answers
        202 with a challenge and records nothing; after the customer entered the code,
        call again with the same body plus ``challenge_id`` and the approval is recorded
        with the masked phone the code went to.
        """
        line, decision = await services.approve_extra_cost(
            user.tenant_id,
            work_order_id,
            line_id,
            data,
            request.headers.get("user-agent", ""),
            employee_id=user.employee_id,
        )
        if line is None:
            return second_factor_required(ApprovalOut, decision, request=request)
        return Response(
            ApprovalOut(status="approved", extra_cost=extra_cost_out(line)), status_code=HTTP_200_OK
        )

    @get("/extra-costs/{line_id:int}")
    async def get_extra_cost(self, user: AuthUser, line_id: FromPath[int]) -> ExtraCostOut:
        """One line by its own id (where person search links an extra-cost hit)."""
        return extra_cost_out(await get_scoped(ExtraCost, user.tenant_id, line_id, "Extra cost"))


def route_handlers() -> list[Any]:
    return [
        record_router(services.WORK_ORDERS, WorkOrderIn, WorkOrderPatch, WorkOrderOut,
                      module=__name__),
        WorkOrdersController,
    ]
