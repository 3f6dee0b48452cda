"""/api/cases: cases and service cases (Ärenden, Serviceärenden)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from core.web import AuthUser
from plugins.cases import services
from plugins.cases.schemas import CaseIn, CaseOut, CasePage, CasePatch

Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000)]
Limit = Annotated[int, QueryParameter(ge=1, le=200)]
RefFilter = Annotated[int | None, QueryParameter(ge=0, le=2_147_483_647)]
TextFilter = Annotated[str | None, QueryParameter(max_length=16)]


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
    async def create(self, user: AuthUser, data: JSONBody[CaseIn]) -> CaseOut:
        """Open a case; its number is the organization's highest plus one unless given."""
        return case_out(await services.create_case(user.tenant_id, user.employee_id, data))

    @get("/{case_id:int}")
    async def get_one(self, user: AuthUser, case_id: FromPath[int]) -> CaseOut:
        return case_out(await services.get_case(user.tenant_id, case_id))

    @patch("/{case_id:int}")
    async def edit(self, user: AuthUser, case_id: FromPath[int], data: JSONBody[CasePatch]) -> CaseOut:
        return case_out(await services.edit_case(user.tenant_id, case_id, data))

    @post("/{case_id:int}/close", status_code=HTTP_200_OK)
    async def close(self, user: AuthUser, case_id: FromPath[int]) -> CaseOut:
        return case_out(await services.close_case(user.tenant_id, case_id))

    @post("/{case_id:int}/reopen", status_code=HTTP_200_OK)
    async def reopen(self, user: AuthUser, case_id: FromPath[int]) -> CaseOut:
        return case_out(await services.reopen_case(user.tenant_id, case_id))

    @delete("/{case_id:int}", status_code=HTTP_200_OK)
    async def remove(self, user: AuthUser, case_id: FromPath[int]) -> CaseOut:
        """Soft delete: the case stays readable until its retention rule anonymizes it."""
        return case_out(await services.delete_case(user.tenant_id, case_id))


def route_handlers() -> list[Any]:
    from core.gdpr.settings import module_settings_router

    return [CasesController, module_settings_router("cases")]
