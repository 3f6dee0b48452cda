"""Business logic of work orders and their extra costs, free of HTTP.

Every function takes the tenant id and filters on it; a record of another tenant is "not
found" (404), exactly like a record that does not exist.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
from litestar.exceptions import ClientException, NotFoundException

from core.contracts import SecondFactorDecision, SecondFactorRequest
from core.db import atomic, contains_text, utcnow
from core.numbering import lock_numbers, next_number
from core.references import check_party
from core.plugins import await_me_maybe, get_host
from core.tenancy import get_scoped
from core.validation import FieldError, normalize_email, normalize_phone
from plugins.workorders.schemas import (
    ApproveIn,
    ExtraCostIn,
    ExtraCostPatch,
    WorkOrderIn,
    WorkOrderPatch,
)
from plugins.workorders.tables import ExtraCost, WorkOrder

WHAT = "Work order"
STATUSES = ("open", "closed")
TWO_FACTOR_CONTEXT = "extra_costs"
MAX_AMOUNT = Decimal("1000000000")  # a billion kronor per line is plenty


def _conflict(message: str) -> ClientException:
    return ClientException(message, status_code=409)


def _where_own(tenant_id: int, work_order_id: int) -> Any:
    return (WorkOrder.tenant_id == tenant_id) & (WorkOrder.id == work_order_id)


# --- money and phones -------------------------------------------------------------------


def to_minor(value: Decimal, field: str) -> int:
    """A positive amount in kronor as whole öre; at most two decimals, finite, bounded."""
    try:
        if not value.is_finite():
            raise FieldError(field, "must be a number")
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2:
            raise FieldError(field, "at most two decimals")
        if value <= 0:
            raise FieldError(field, "an extra cost must be more than 0")
        if value > MAX_AMOUNT:
            raise FieldError(field, f"must be at most {MAX_AMOUNT}")
        return int(value * 100)
    except InvalidOperation as exc:  # pragma: no cover - msgspec already parsed it
        raise FieldError(field, "must be a number") from exc


def from_minor(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(Decimal("0.01"))


def mask_phone(e164: str) -> str:
    """+46701234567 -> "+46 70•••••67": recognisable to its owner, useless to anyone else."""
    number = phonenumbers.parse(e164, None)
    national = str(number.national_number)
    hidden = max(len(national) - 4, 0)
    return f"+{number.country_code} {national[:2]}{'•' * hidden}{national[-2:]}"


# --- work orders ---------------------------------------------------------------------


async def get_work_order(tenant_id: int, work_order_id: int) -> dict:
    return await get_scoped(WorkOrder, tenant_id, work_order_id, WHAT)


NUMBER_LOCK = 0x4152  # advisory-lock class of this plugin's numbering (PostgreSQL)


async def _check_number_free(tenant_id: int, number: int, exclude_id: int | None = None) -> None:
    query = WorkOrder.exists().where(
        (WorkOrder.tenant_id == tenant_id) & (WorkOrder.number == number)
    )
    if exclude_id is not None:
        query = query.where(WorkOrder.id != exclude_id)
    if await query:
        raise FieldError(
            "number", f"work order number {number} is already used in this organization"
        )


def _title(value: str) -> str:
    title = value.strip()
    if not title:
        raise FieldError("title", "a title is required")
    return title


def _writable(row: dict) -> None:
    """Deleted and anonymized work orders are history: they can be read, not changed."""
    if row["anonymized_at"] is not None:
        raise _conflict(f"Work order {row['number']} is anonymized and can no longer be changed.")
    if row["deleted_at"] is not None:
        raise _conflict(f"Work order {row['number']} is deleted and can no longer be changed.")


async def list_work_orders(
    tenant_id: int,
    offset: int,
    limit: int,
    status: str | None = None,
    customer_id: int | None = None,
    include_deleted: bool = False,
    q: str | None = None,
) -> tuple[int, list[dict]]:
    """``q`` matches a part of the title, or the work order number exactly."""
    where = WorkOrder.tenant_id == tenant_id
    if q and q.strip():
        where = where & contains_text("title", q, number_column="number")
    if status is not None:
        if status not in STATUSES:
            raise FieldError("status", "must be open or closed")
        where = where & (WorkOrder.status == status)
    if customer_id is not None:
        where = where & (WorkOrder.customer_id == customer_id)
    if not include_deleted:
        where = where & WorkOrder.deleted_at.is_null()
    total = await WorkOrder.count().where(where)
    rows = (
        await WorkOrder.select()
        .where(where)
        .order_by(WorkOrder.number, ascending=False)
        .offset(offset)
        .limit(limit)
    )
    return total, rows


async def create_work_order(tenant_id: int, employee_id: int, data: WorkOrderIn) -> dict:
    values = dict(
        tenant_id=tenant_id,
        title=_title(data.title),
        description=data.description,
        customer_id=data.customer_id,
        contact_person_id=data.contact_person_id,
        email=normalize_email(data.email, "email"),
        customer_reference=data.customer_reference.strip(),
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
            values["number"] = await next_number(WorkOrder.number, tenant_id)
        rows = await WorkOrder.insert(WorkOrder(**values)).returning(*WorkOrder.all_columns())
    return rows[0]


async def edit_work_order(tenant_id: int, work_order_id: int, data: WorkOrderPatch) -> dict:
    changes: dict[Any, Any] = {}
    if data.title is not None:
        changes[WorkOrder.title] = _title(data.title)
    if data.description is not None:
        changes[WorkOrder.description] = data.description
    if data.customer_id is not None:
        changes[WorkOrder.customer_id] = data.customer_id
    if data.contact_person_id is not None:
        changes[WorkOrder.contact_person_id] = data.contact_person_id
    if data.email is not None:
        changes[WorkOrder.email] = normalize_email(data.email, "email")
    if data.customer_reference is not None:
        changes[WorkOrder.customer_reference] = data.customer_reference.strip()
    if data.end_customer_name is not None:
        changes[WorkOrder.end_customer_name] = data.end_customer_name.strip()
    if data.end_customer_address is not None:
        changes[WorkOrder.end_customer_address] = data.end_customer_address.strip()
    if data.end_customer_phone is not None:
        changes[WorkOrder.end_customer_phone] = normalize_phone(
            data.end_customer_phone, "end_customer_phone"
        )
    if data.end_customer_email is not None:
        changes[WorkOrder.end_customer_email] = normalize_email(
            data.end_customer_email, "end_customer_email"
        )
    async with atomic():
        row = await get_work_order(tenant_id, work_order_id)
        _writable(row)
        await check_party(tenant_id, data.customer_id, data.contact_person_id, before=row)
        if data.number is not None and data.number != row["number"]:
            await _check_number_free(tenant_id, data.number, exclude_id=work_order_id)
            changes[WorkOrder.number] = data.number
        if changes:
            changes[WorkOrder.updated_at] = utcnow()
            await WorkOrder.update(changes).where(_where_own(tenant_id, work_order_id))
        return await get_work_order(tenant_id, work_order_id)


async def close_work_order(tenant_id: int, work_order_id: int) -> dict:
    """Closing starts the retention clock of M18."""
    async with atomic():
        row = await get_work_order(tenant_id, work_order_id)
        _writable(row)
        if row["status"] == "closed":
            raise _conflict(f"Work order {row['number']} is already closed.")
        now = utcnow()
        await WorkOrder.update(
            {WorkOrder.status: "closed", WorkOrder.closed_at: now, WorkOrder.updated_at: now}
        ).where(_where_own(tenant_id, work_order_id))
        return await get_work_order(tenant_id, work_order_id)


async def reopen_work_order(tenant_id: int, work_order_id: int) -> dict:
    async with atomic():
        row = await get_work_order(tenant_id, work_order_id)
        _writable(row)
        if row["status"] != "closed":
            raise _conflict(f"Work order {row['number']} is not closed.")
        await WorkOrder.update(
            {WorkOrder.status: "open", WorkOrder.closed_at: None, WorkOrder.updated_at: utcnow()}
        ).where(_where_own(tenant_id, work_order_id))
        return await get_work_order(tenant_id, work_order_id)


async def delete_work_order(tenant_id: int, work_order_id: int) -> dict:
    """Soft delete; deleting starts the retention clock. Deleting again changes nothing."""
    from plugins.workorders import gdpr

    async with atomic():
        row = await get_work_order(tenant_id, work_order_id)
        if row["deleted_at"] is None:
            now = utcnow()
            await WorkOrder.update({WorkOrder.deleted_at: now, WorkOrder.updated_at: now}).where(
                _where_own(tenant_id, work_order_id)
            )
            await gdpr.anonymize_now_if_immediate(tenant_id, work_order_id)
        return await get_work_order(tenant_id, work_order_id)


# --- extra costs ---------------------------------------------------------------------


def _where_line(tenant_id: int, work_order_id: int, line_id: int) -> Any:
    return (
        (ExtraCost.tenant_id == tenant_id)
        & (ExtraCost.work_order_id == work_order_id)
        & (ExtraCost.id == line_id)
    )


async def get_extra_cost(tenant_id: int, work_order_id: int, line_id: int) -> dict:
    """A line of this work order of this tenant, or 404 (another order's line included)."""
    row = await ExtraCost.select().where(_where_line(tenant_id, work_order_id, line_id)).first()
    if row is None:
        raise NotFoundException(f"Extra cost {line_id} of work order {work_order_id} was not found")
    return row


async def list_extra_costs(tenant_id: int, work_order_id: int) -> list[dict]:
    await get_work_order(tenant_id, work_order_id)
    return (
        await ExtraCost.select()
        .where((ExtraCost.tenant_id == tenant_id) & (ExtraCost.work_order_id == work_order_id))
        .order_by(ExtraCost.id)
    )


def _line_text(value: str) -> str:
    text = value.strip()
    if not text:
        raise FieldError("description", "describe the extra cost")
    return text


async def add_extra_cost(
    tenant_id: int, employee_id: int, work_order_id: int, data: ExtraCostIn
) -> dict:
    values = dict(
        tenant_id=tenant_id,
        work_order_id=work_order_id,
        description=_line_text(data.description),
        amount_minor=to_minor(data.amount, "amount"),
        created_by=employee_id,
    )
    async with atomic():
        _writable(await get_work_order(tenant_id, work_order_id))
        rows = await ExtraCost.insert(ExtraCost(**values)).returning(*ExtraCost.all_columns())
    return rows[0]


def _unapproved(line: dict) -> None:
    if line["approved_at"] is not None:
        raise _conflict("This extra cost is approved by the customer and can no longer be changed.")


async def edit_extra_cost(
    tenant_id: int, work_order_id: int, line_id: int, data: ExtraCostPatch
) -> dict:
    changes: dict[Any, Any] = {}
    if data.description is not None:
        changes[ExtraCost.description] = _line_text(data.description)
    if data.amount is not None:
        changes[ExtraCost.amount_minor] = to_minor(data.amount, "amount")
    async with atomic():
        _writable(await get_work_order(tenant_id, work_order_id))
        _unapproved(await get_extra_cost(tenant_id, work_order_id, line_id))
        if changes:
            # A cost the customer declined is offered again once it is changed.
            changes[ExtraCost.declined_at] = None
            await ExtraCost.update(changes).where(_where_line(tenant_id, work_order_id, line_id))
        return await get_extra_cost(tenant_id, work_order_id, line_id)


async def delete_extra_cost(tenant_id: int, work_order_id: int, line_id: int) -> dict:
    async with atomic():
        _writable(await get_work_order(tenant_id, work_order_id))
        line = await get_extra_cost(tenant_id, work_order_id, line_id)
        _unapproved(line)
        await ExtraCost.delete().where(_where_line(tenant_id, work_order_id, line_id))
    return line


def line_detail(line: dict) -> str:
    """What of an extra cost a customer's code signs besides its id: the amount and the
    text, so a line changed after the code was sent needs a new code."""
    text = hashlib.sha256(str(line["description"]).encode()).hexdigest()
    return f"{int(line['amount_minor'])}:{text}"


def approval_subject(line: dict, approve: bool = True) -> str:
    """The subject an SMS code for one extra cost is bound to (as the portal's
    ``extra_cost:<id>:<answer>`` with the line's detail): a code sent for one line, answer,
    amount or text is refused for any other."""
    answer = "approve" if approve else "decline"
    return f"extra_cost:{int(line['id'])}:{answer}:{line_detail(line)}"


def _same_line(line: dict) -> Any:
    """The line as it was when it was signed (amount and text unchanged)."""
    return (ExtraCost.amount_minor == int(line["amount_minor"])) & (
        ExtraCost.description == line["description"]
    )


async def _second_factor(
    tenant_id: int,
    work_order: dict,
    challenge_id: str | None,
    user_agent: str,
    line: dict,
    employee_id: int = 0,
) -> SecondFactorDecision | None:
    """Ask the two-factor plugin, if any, whether this approval needs an SMS code.

    The customer signs: the work order's contact person when there is one, else the
    customer. With no plugin answering (none installed, or the context is off) the
    approval needs no code. The code is bound to this line, its amount and text
    (:func:`approval_subject`); the employee recording the approval is its requester, so
    wrong codes typed here count against them, not against the customer.
    """
    if work_order["contact_person_id"]:
        kind, person_id = "contact", int(work_order["contact_person_id"])
    else:
        kind, person_id = "customer", int(work_order["customer_id"])
    hooks = await get_host().for_tenant(tenant_id)
    decision = await await_me_maybe(
        hooks.challenge_second_factor(
            request=SecondFactorRequest(
                tenant_id=tenant_id,
                person_kind=kind,  # type: ignore[arg-type]
                person_id=person_id,
                context=TWO_FACTOR_CONTEXT,
                device_token=None,
                user_agent=user_agent[:200],
                challenge_id=challenge_id,
                subject=approval_subject(line),
                requested_by=employee_id,
            )
        )
    )
    return decision  # type: ignore[no-any-return]


async def approve_extra_cost(
    tenant_id: int,
    work_order_id: int,
    line_id: int,
    data: ApproveIn,
    user_agent: str = "",
    employee_id: int = 0,
) -> tuple[dict | None, SecondFactorDecision | None]:
    """Record the customer's approval, or return the SMS challenge that must come first.

    Returns ``(line, None)`` when the approval was recorded, ``(None, decision)`` when a
    second factor is required (nothing is recorded until the step is re-submitted with the
    challenge id and the plugin answers that it was verified).
    """
    name = data.approver_name.strip()
    if not name:
        raise FieldError("approver_name", "the name of the person approving is required")
    phone = normalize_phone(data.approver_phone, "approver_phone")
    masked = mask_phone(phone) if phone else ""
    work_order = await get_work_order(tenant_id, work_order_id)
    _writable(work_order)
    line = await get_extra_cost(tenant_id, work_order_id, line_id)
    if line["approved_at"] is not None:
        raise _conflict("This extra cost is already approved.")
    decision = await _second_factor(
        tenant_id, work_order, data.challenge_id, user_agent, line, employee_id
    )
    if decision is not None and decision.error:
        # 409 missing phone, 429 throttled, 423 locked: the plugin says which (if it does).
        status = getattr(decision, "status", 409)
        raise ClientException(decision.error, status_code=status if 400 <= status < 500 else 409)
    if decision is not None and decision.required:
        return None, decision
    signed_at = None
    if decision is not None:
        # A verified signature: the number the code went to, and (when the plugin says)
        # who signed and when.
        masked = decision.masked_phone or masked
        name = (getattr(decision, "signer_name", None) or name)[:200]
        signed_at = getattr(decision, "signed_at", None)
    async with atomic():
        _writable(await get_work_order(tenant_id, work_order_id))
        done = (
            await ExtraCost.update(
                {
                    ExtraCost.approved_at: signed_at or utcnow(),
                    ExtraCost.declined_at: None,
                    ExtraCost.approver_name: name,
                    ExtraCost.approver_phone: masked,
                }
            )
            .where(
                _where_line(tenant_id, work_order_id, line_id)
                & ExtraCost.approved_at.is_null()
                & _same_line(line)
            )
            .returning(ExtraCost.id)
        )
        if not done:
            raise _conflict(
                "This extra cost was approved or changed a moment ago; reload and approve again."
            )
        return await get_extra_cost(tenant_id, work_order_id, line_id), None
