"""/api/contracts: the record layer's routes for contracts (list, create, get, edit, end,
delete), and /api/contracts/settings for the gear icon."""

from __future__ import annotations

from typing import Any

from core.gdpr.routes import module_settings_router
from core.routes.records import record_router
from gallra_contracts import services
from gallra_contracts.schemas import ContractIn, ContractOut, ContractPatch


async def _create(user: Any, data: ContractIn) -> dict[str, Any]:
    return await services.create_contract(user.tenant_id, user.employee_id, data)


async def _edit(user: Any, contract_id: int, data: ContractPatch) -> dict[str, Any]:
    return await services.edit_contract(user.tenant_id, contract_id, data)


def route_handlers() -> list[Any]:
    return [
        record_router(services.CONTRACTS, ContractIn, ContractPatch, ContractOut,
                      create=_create, edit=_edit, module=__name__),
        module_settings_router("contracts"),
    ]
