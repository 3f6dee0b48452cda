"""Business logic of cases and service cases, free of HTTP.

Every function takes the tenant id and filters on it; a record of another tenant is "not
found" (404), exactly like a record that does not exist.
"""

from __future__ import annotations

from typing import Any

from litestar.exceptions import ClientException

from core.db import atomic, contains_text, utcnow
from core.numbering import lock_numbers, next_number
from core.references import check_party
from core.tenancy import get_scoped
from core.validation import FieldError, normalize_email, normalize_phone
from plugins.cases.schemas import CaseIn, CasePatch
from plugins.cases.tables import Case

WHAT = "Case"
STATUSES = ("open", "closed")
KINDS = ("case", "service")


def _conflict(message: str) -> ClientException:
    return ClientException(message, status_code=409)


def _where_own(tenant_id: int, case_id: int) -> Any:
    return (Case.tenant_id == tenant_id) & (Case.id == case_id)


async def get_case(tenant_id: int, case_id: int) -> dict:
    return await get_scoped(Case, tenant_id, case_id, WHAT)


NUMBER_LOCK = 0x4A52  # advisory-lock class of this plugin's numbering (PostgreSQL)


async def _check_number_free(tenant_id: int, number: int, exclude_id: int | None = None) -> None:
    query = Case.exists().where((Case.tenant_id == tenant_id) & (Case.number == number))
    if exclude_id is not None:
        query = query.where(Case.id != exclude_id)
    if await query:
        raise FieldError("number", f"case number {number} is already used in this organization")


def _title(value: str) -> str:
    title = value.strip()
    if not title:
        raise FieldError("title", "a title is required")
    return title


def _writable(row: dict) -> None:
    """Deleted and anonymized cases are history: they can be read, not changed."""
    if row["anonymized_at"] is not None:
        raise _conflict(f"Case {row['number']} is anonymized and can no longer be changed.")
    if row["deleted_at"] is not None:
        raise _conflict(f"Case {row['number']} is deleted and can no longer be changed.")


async def list_cases(
    tenant_id: int,
    offset: int,
    limit: int,
    status: str | None = None,
    customer_id: int | None = None,
    kind: str | None = None,
    include_deleted: bool = False,
    q: str | None = None,
) -> tuple[int, list[dict]]:
    """``q`` matches a part of the title, or the case number exactly."""
    where = Case.tenant_id == tenant_id
    if q and q.strip():
        where = where & contains_text("title", q, number_column="number")
    if status is not None:
        if status not in STATUSES:
            raise FieldError("status", "must be open or closed")
        where = where & (Case.status == status)
    if kind is not None:
        if kind not in KINDS:
            raise FieldError("kind", "must be case or service")
        where = where & (Case.kind == kind)
    if customer_id is not None:
        where = where & (Case.customer_id == customer_id)
    if not include_deleted:
        where = where & Case.deleted_at.is_null()
    total = await Case.count().where(where)
    rows = (
        await Case.select()
        .where(where)
        .order_by(Case.number, ascending=False)
        .offset(offset)
        .limit(limit)
    )
    return total, rows


async def create_case(tenant_id: int, employee_id: int, data: CaseIn) -> dict:
    values = dict(
        tenant_id=tenant_id,
        kind=data.kind,
        title=_title(data.title),
        description=data.description,
        customer_id=data.customer_id,
        contact_person_id=data.contact_person_id,
        end_customer_name=data.end_customer_name.strip(),
        end_customer_address=data.end_customer_address.strip(),
        end_customer_phone=normalize_phone(data.end_customer_phone, "end_customer_phone"),
        end_customer_email=normalize_email(data.end_customer_email, "end_customer_email"),
        status="open",
        created_by=employee_id,
    )
    async with atomic():
        await check_party(tenant_id, data.customer_id, data.contact_person_id)
        await lock_numbers(NUMBER_LOCK, tenant_id)
        if data.number is not None:
            await _check_number_free(tenant_id, data.number)
            values["number"] = data.number
        else:
            values["number"] = await next_number(Case.number, tenant_id)
        rows = await Case.insert(Case(**values)).returning(*Case.all_columns())
    return rows[0]


async def edit_case(tenant_id: int, case_id: int, data: CasePatch) -> dict:
    changes: dict[Any, Any] = {}
    if data.title is not None:
        changes[Case.title] = _title(data.title)
    if data.kind is not None:
        changes[Case.kind] = data.kind
    if data.description is not None:
        changes[Case.description] = data.description
    if data.customer_id is not None:
        changes[Case.customer_id] = data.customer_id
    if data.contact_person_id is not None:
        changes[Case.contact_person_id] = data.contact_person_id
    if data.end_customer_name is not None:
        changes[Case.end_customer_name] = data.end_customer_name.strip()
    if data.end_customer_address is not None:
        changes[Case.end_customer_address] = data.end_customer_address.strip()
    if data.end_customer_phone is not None:
        changes[Case.end_customer_phone] = normalize_phone(
            data.end_customer_phone, "end_customer_phone"
        )
    if data.end_customer_email is not None:
        changes[Case.end_customer_email] = normalize_email(
            data.end_customer_email, "end_customer_email"
        )
    async with atomic():
        row = await get_case(tenant_id, case_id)
        _writable(row)
        await check_party(tenant_id, data.customer_id, data.contact_person_id, before=row)
        if data.number is not None and data.number != row["number"]:
            await _check_number_free(tenant_id, data.number, exclude_id=case_id)
            changes[Case.number] = data.number
        if changes:
            changes[Case.updated_at] = utcnow()
            await Case.update(changes).where(_where_own(tenant_id, case_id))
        return await get_case(tenant_id, case_id)


async def close_case(tenant_id: int, case_id: int) -> dict:
    """Closing starts the retention clock of the case's rule (M17, M21)."""
    async with atomic():
        row = await get_case(tenant_id, case_id)
        _writable(row)
        if row["status"] == "closed":
            raise _conflict(f"Case {row['number']} is already closed.")
        now = utcnow()
        await Case.update({Case.status: "closed", Case.closed_at: now, Case.updated_at: now}).where(
            _where_own(tenant_id, case_id)
        )
        return await get_case(tenant_id, case_id)


async def reopen_case(tenant_id: int, case_id: int) -> dict:
    """Reopening stops the clock: an open case is never anonymized for being closed."""
    async with atomic():
        row = await get_case(tenant_id, case_id)
        _writable(row)
        if row["status"] != "closed":
            raise _conflict(f"Case {row['number']} is not closed.")
        await Case.update(
            {Case.status: "open", Case.closed_at: None, Case.updated_at: utcnow()}
        ).where(_where_own(tenant_id, case_id))
        return await get_case(tenant_id, case_id)


async def delete_case(tenant_id: int, case_id: int) -> dict:
    """Soft delete; deleting starts the retention clock. Deleting again changes nothing."""
    from plugins.cases import gdpr

    async with atomic():
        row = await get_case(tenant_id, case_id)
        if row["deleted_at"] is None:
            now = utcnow()
            await Case.update({Case.deleted_at: now, Case.updated_at: now}).where(
                _where_own(tenant_id, case_id)
            )
            await gdpr.anonymize_now_if_immediate(
                tenant_id, gdpr.rule_key_for_kind(row["kind"]), case_id
            )
        return await get_case(tenant_id, case_id)
