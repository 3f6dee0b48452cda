"""/api/cases: cases and service cases (Ärenden, Serviceärenden)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from core.auth import SessionUser
from core.db import atomic
from core.eventlog import log_event
from core.listing import Limit, Offset
from core.web import AuthUser, client_ip
from plugins.cases import services
from plugins.cases.schemas import CaseIn, CaseOut, CasePage, CasePatch

RefFilter = Annotated[int | None, QueryParameter(ge=0, le=2_147_483_647)]
TextFilter = Annotated[str | None, QueryParameter(max_length=16)]


AnyRequest = Request[Any, Any, Any]


async def logged(
    request: AnyRequest, user: SessionUser, action: str, work: Awaitable[dict]
) -> dict:
    """Run a change and record who made it, in one transaction (never a typed value)."""
    async with atomic():
        row = await work
        await log_event(
            user.tenant_id, user, action, "cases", "case", int(row["id"]), ip=client_ip(request)
        )
    return row


def case_out(row: dict) -> CaseOut:
    return CaseOut(**{f: row[f] for f in CaseOut.__struct_fields__})


class CasesController(Controller):
    path = "/api/cases"
    tags = ["cases"]

    @get("/")
    async def list_cases(
        self,
        user: AuthUser,
        offset: Offset = 0,
        limit: Limit = 50,
        status: TextFilter = None,
        customer_id: RefFilter = None,
        kind: TextFilter = None,
        include_deleted: Annotated[bool, QueryParameter()] = False,
    ) -> CasePage:
        """Cases of the organization, newest first; filter by status, customer and kind."""
        total, rows = await services.list_cases(
            user.tenant_id, offset, limit, status, customer_id, kind, include_deleted
        )
        return CasePage(total=total, offset=offset, limit=limit, items=[case_out(r) for r in rows])

    @post("/", status_code=HTTP_201_CREATED)
    async def create(self, request: AnyRequest, user: AuthUser, data: JSONBody[CaseIn]) -> CaseOut:
        """Open a case; its number is the organization's highest plus one unless given."""
        work = services.create_case(user.tenant_id, user.employee_id, data)
        return case_out(await logged(request, user, "case.created", work))

    @get("/{case_id:int}")
    async def get_one(self, user: AuthUser, case_id: FromPath[int]) -> CaseOut:
        return case_out(await services.get_case(user.tenant_id, case_id))

    @patch("/{case_id:int}")
    async def edit(
        self, request: AnyRequest, user: AuthUser, case_id: FromPath[int], data: JSONBody[CasePatch]
    ) -> CaseOut:
        work = services.edit_case(user.tenant_id, case_id, data)
        return case_out(await logged(request, user, "case.edited", work))

    @post("/{case_id:int}/close", status_code=HTTP_200_OK)
    async def close(self, request: AnyRequest, user: AuthUser, case_id: FromPath[int]) -> CaseOut:
        work = services.close_case(user.tenant_id, case_id)
        return case_out(await logged(request, user, "case.closed", work))

    @post("/{case_id:int}/reopen", status_code=HTTP_200_OK)
    async def reopen(self, request: AnyRequest, user: AuthUser, case_id: FromPath[int]) -> CaseOut:
        work = services.reopen_case(user.tenant_id, case_id)
        return case_out(await logged(request, user, "case.reopened", work))

    @delete("/{case_id:int}", status_code=HTTP_200_OK)
    async def remove(self, request: AnyRequest, user: AuthUser, case_id: FromPath[int]) -> CaseOut:
        """Soft delete: the case stays readable until its retention rule anonymizes it."""
        work = services.delete_case(user.tenant_id, case_id)
        return case_out(await logged(request, user, "case.deleted", work))


def route_handlers() -> list[Any]:
    from core.gdpr.settings import module_settings_router

    return [CasesController, module_settings_router("cases")]
