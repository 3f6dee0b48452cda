"""/api/contracts: contracts (Avtal), and /api/contracts/settings for the gear icon."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from core.auth import SessionUser
from core.db import atomic
from core.eventlog import log_event
from core.gdpr.routes import module_settings_router
from core.web import AuthUser, client_ip
from gallra_contracts import services
from gallra_contracts.gdpr import PLUGIN, RECORD_TYPE
from gallra_contracts.schemas import ContractIn, ContractOut, ContractPage, ContractPatch

Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000)]
Limit = Annotated[int, QueryParameter(ge=1, le=200)]
RefFilter = Annotated[int | None, QueryParameter(ge=0, le=2_147_483_647)]
StatusFilter = Annotated[str | None, QueryParameter(max_length=16)]
AnyRequest = Request[Any, Any, Any]


async def logged(request: AnyRequest, user: SessionUser, action: str, work: Awaitable[dict]) -> dict:
    """Run a change and record who made it, in one transaction (never a typed value)."""
    async with atomic():
        row = await work
        await log_event(
            user.tenant_id, user, action, PLUGIN, RECORD_TYPE, int(row["id"]),
            ip=client_ip(request),
        )
    return row


def contract_out(row: dict) -> ContractOut:
    return ContractOut(**{f: row[f] for f in ContractOut.__struct_fields__})


class ContractsController(Controller):
    path = "/api/contracts"
    tags = ["contracts"]

    @get("/")
    async def list_contracts(
        self,
        user: AuthUser,
        offset: Offset = 0,
        limit: Limit = 50,
        status: StatusFilter = None,
        customer_id: RefFilter = None,
        include_deleted: Annotated[bool, QueryParameter()] = False,
    ) -> ContractPage:
        """Contracts of the organization, highest number first; filter by status and customer."""
        total, rows = await services.list_contracts(
            user.tenant_id, offset, limit, status, customer_id, include_deleted
        )
        return ContractPage(
            total=total, offset=offset, limit=limit, items=[contract_out(r) for r in rows]
        )

    @post("/", status_code=HTTP_201_CREATED)
    async def create(
        self, request: AnyRequest, user: AuthUser, data: JSONBody[ContractIn]
    ) -> ContractOut:
        """Register a contract; its number is the organization's highest plus one unless given."""
        work = services.create_contract(user.tenant_id, user.employee_id, data)
        return contract_out(await logged(request, user, "contract.created", work))

    @get("/{contract_id:int}")
    async def get_one(self, user: AuthUser, contract_id: FromPath[int]) -> ContractOut:
        return contract_out(await services.get_contract(user.tenant_id, contract_id))

    @patch("/{contract_id:int}")
    async def edit(
        self,
        request: AnyRequest,
        user: AuthUser,
        contract_id: FromPath[int],
        data: JSONBody[ContractPatch],
    ) -> ContractOut:
        work = services.edit_contract(user.tenant_id, contract_id, data)
        return contract_out(await logged(request, user, "contract.edited", work))

    @post("/{contract_id:int}/end", status_code=HTTP_200_OK)
    async def end(self, request: AnyRequest, user: AuthUser, contract_id: FromPath[int]) -> ContractOut:
        """End the contract: starts the clock of the retention rule."""
        work = services.end_contract(user.tenant_id, contract_id)
        return contract_out(await logged(request, user, "contract.ended", work))

    @delete("/{contract_id:int}", status_code=HTTP_200_OK)
    async def remove(
        self, request: AnyRequest, user: AuthUser, contract_id: FromPath[int]
    ) -> ContractOut:
        """Soft delete: readable until the retention rule anonymizes it (at once when the
        organization chose "immediately")."""
        work = services.delete_contract(user.tenant_id, contract_id)
        return contract_out(await logged(request, user, "contract.deleted", work))


def route_handlers() -> list[Any]:
    return [ContractsController, module_settings_router(PLUGIN)]
