"""Business logic of contracts, free of HTTP.

Every function takes the tenant id and filters on it: a contract of another organization is
"not found" (404), exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Any

from litestar.exceptions import ClientException
from piccolo.query.functions.aggregate import Max

from core.db import atomic, is_sqlite, raw, utcnow
from core.gdpr.engine import anonymize_if_immediate
from core.tenancy import get_scoped
from core.validation import FieldError, normalize_email
from gallra_contracts.gdpr import PLUGIN, RULE
from gallra_contracts.schemas import ContractIn, ContractPatch
from gallra_contracts.tables import Contract

WHAT = "Contract"
STATUSES = ("active", "ended")
NUMBER_LOCK = 0x4354  # advisory-lock class of this plugin's numbering (PostgreSQL)


def _conflict(message: str) -> ClientException:
    return ClientException(message, status_code=409)


def _own(tenant_id: int, contract_id: int) -> Any:
    return (Contract.tenant_id == tenant_id) & (Contract.id == contract_id)


async def get_contract(tenant_id: int, contract_id: int) -> dict:
    return await get_scoped(Contract, tenant_id, contract_id, WHAT)


async def _next_number(tenant_id: int) -> int:
    if not is_sqlite():  # SQLite writers already queue (transactions start IMMEDIATE)
        await raw("SELECT pg_advisory_xact_lock({}, {})", NUMBER_LOCK, tenant_id)
    row = await Contract.select(Max(Contract.number, alias="top")).where(
        Contract.tenant_id == tenant_id
    ).first()
    return int((row or {}).get("top") or 0) + 1


async def _check_number_free(tenant_id: int, number: int, exclude_id: int | None = None) -> None:
    query = Contract.exists().where(
        (Contract.tenant_id == tenant_id) & (Contract.number == number)
    )
    if exclude_id is not None:
        query = query.where(Contract.id != exclude_id)
    if await query:
        raise FieldError("number", f"contract number {number} is already used in this organization")


def _title(value: str) -> str:
    title = value.strip()
    if not title:
        raise FieldError("title", "a title is required")
    return title


def _writable(row: dict) -> None:
    """Deleted and anonymized contracts are history: they can be read, not changed."""
    if row["anonymized_at"] is not None:
        raise _conflict(f"Contract {row['number']} is anonymized and can no longer be changed.")
    if row["deleted_at"] is not None:
        raise _conflict(f"Contract {row['number']} is deleted and can no longer be changed.")


async def list_contracts(
    tenant_id: int,
    offset: int,
    limit: int,
    status: str | None = None,
    customer_id: int | None = None,
    include_deleted: bool = False,
) -> tuple[int, list[dict]]:
    where = Contract.tenant_id == tenant_id
    if status is not None:
        if status not in STATUSES:
            raise FieldError("status", "must be active or ended")
        where = where & (Contract.status == status)
    if customer_id is not None:
        where = where & (Contract.customer_id == customer_id)
    if not include_deleted:
        where = where & Contract.deleted_at.is_null()
    total = await Contract.count().where(where)
    rows = (
        await Contract.select()
        .where(where)
        .order_by(Contract.number, ascending=False)
        .offset(offset)
        .limit(limit)
    )
    return total, rows


async def create_contract(tenant_id: int, employee_id: int, data: ContractIn) -> dict:
    values: dict[str, Any] = dict(
        tenant_id=tenant_id,
        title=_title(data.title),
        customer_id=data.customer_id,
        contact_person_id=data.contact_person_id,
        signer_name=data.signer_name.strip(),
        signer_email=normalize_email(data.signer_email, "signer_email"),
        signed_on=data.signed_on,
        terms=data.terms,
        status="active",
        created_by=employee_id,
    )
    async with atomic():
        if data.number is not None:
            await _check_number_free(tenant_id, data.number)
            values["number"] = data.number
        else:
            values["number"] = await _next_number(tenant_id)
        rows = await Contract.insert(Contract(**values)).returning(*Contract.all_columns())
    return rows[0]


async def edit_contract(tenant_id: int, contract_id: int, data: ContractPatch) -> dict:
    changes: dict[Any, Any] = {}
    if data.title is not None:
        changes[Contract.title] = _title(data.title)
    if data.customer_id is not None:
        changes[Contract.customer_id] = data.customer_id
    if data.contact_person_id is not None:
        changes[Contract.contact_person_id] = data.contact_person_id
    if data.signer_name is not None:
        changes[Contract.signer_name] = data.signer_name.strip()
    if data.signer_email is not None:
        changes[Contract.signer_email] = normalize_email(data.signer_email, "signer_email")
    if data.signed_on is not None:
        changes[Contract.signed_on] = data.signed_on
    if data.terms is not None:
        changes[Contract.terms] = data.terms
    async with atomic():
        row = await get_contract(tenant_id, contract_id)
        _writable(row)
        if data.number is not None and data.number != row["number"]:
            await _check_number_free(tenant_id, data.number, exclude_id=contract_id)
            changes[Contract.number] = data.number
        if changes:
            changes[Contract.updated_at] = utcnow()
            await Contract.update(changes).where(_own(tenant_id, contract_id))
        return await get_contract(tenant_id, contract_id)


async def end_contract(tenant_id: int, contract_id: int) -> dict:
    """Ending starts the retention clock of rule contracts.ended."""
    async with atomic():
        row = await get_contract(tenant_id, contract_id)
        _writable(row)
        if row["status"] == "ended":
            raise _conflict(f"Contract {row['number']} has already ended.")
        now = utcnow()
        await Contract.update(
            {Contract.status: "ended", Contract.ended_at: now, Contract.updated_at: now}
        ).where(_own(tenant_id, contract_id))
        return await get_contract(tenant_id, contract_id)


async def delete_contract(tenant_id: int, contract_id: int) -> dict:
    """Soft delete; anonymized at once, in this transaction, when the organization chose
    "immediately" for the rule (otherwise the sweep does it after N days)."""
    async with atomic():
        row = await get_contract(tenant_id, contract_id)
        if row["deleted_at"] is not None:
            raise _conflict(f"Contract {row['number']} is already deleted.")
        now = utcnow()
        await Contract.update({Contract.deleted_at: now, Contract.updated_at: now}).where(
            _own(tenant_id, contract_id)
        )
        await anonymize_if_immediate(tenant_id, PLUGIN, RULE, [contract_id])
        return await get_contract(tenant_id, contract_id)
