"""What is the contracts module's own: a contract's fields and how they are cleaned. The
rest (tenant scope, numbering, reference checks, read-only history, ending, soft delete with
immediate anonymization, the event log) is Gallra's record layer."""

from __future__ import annotations

from typing import Any

from core.errors import REQUIRED, Invalid
from core.records import RecordService
from core.validation import normalize_email
from gallra_contracts.records import CONTRACT
from gallra_contracts.schemas import ContractIn, ContractPatch

CONTRACTS = RecordService(CONTRACT, "contracts")


def _values(data: ContractIn | ContractPatch) -> dict[str, Any]:
    values = {k: getattr(data, k) for k in data.__struct_fields__ if k != "number"}
    if isinstance(data, ContractPatch):
        values = {k: v for k, v in values.items() if v is not None}
    if "title" in values:
        values["title"] = values["title"].strip()
        if not values["title"]:
            raise Invalid("title", REQUIRED, code="contract.title_required")
    if "signer_name" in values:
        values["signer_name"] = values["signer_name"].strip()
    if "signer_email" in values:
        values["signer_email"] = normalize_email(values["signer_email"], "signer_email")
    return values


async def create_contract(tenant_id: int, employee_id: int, data: ContractIn) -> dict[str, Any]:
    return await CONTRACTS.create(tenant_id, _values(data) | {"created_by": employee_id},
                                  number=data.number)


async def edit_contract(tenant_id: int, contract_id: int, data: ContractPatch) -> dict[str, Any]:
    return await CONTRACTS.edit(tenant_id, contract_id, _values(data), number=data.number)
