"""/api/cases: cases and service cases (Ärenden, Serviceärenden), the record layer's
common routes (list, create, get, edit, close, reopen, delete) and the module's settings."""

from __future__ import annotations

from typing import Any

from core.gdpr.routes import module_settings_router
from core.routes.records import record_router
from plugins.cases import services
from plugins.cases.schemas import CaseIn, CaseOut, CasePatch


async def _create(user: Any, data: CaseIn) -> dict[str, Any]:
    return await services.create_case(user.tenant_id, user.employee_id, data)


async def _edit(user: Any, case_id: int, data: CasePatch) -> dict[str, Any]:
    return await services.edit_case(user.tenant_id, case_id, data)


def route_handlers() -> list[Any]:
    return [
        record_router(services.CASES, CaseIn, CasePatch, CaseOut, create=_create, edit=_edit,
                      module=__name__),
        module_settings_router("cases"),
    ]
