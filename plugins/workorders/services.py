"""What is the work orders module's own: its fields, extra costs and the customer's approval.

Everything else a work order does (tenant scope, numbering, read-only history, reference
checks, close/reopen, soft delete, the event log) is the record layer's
(:class:`core.records.RecordService`).
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

import phonenumbers

from core.contracts import SecondFactorDecision, SecondFactorRequest
from core.db import atomic, utcnow
from core.errors import Checks, Conflict, NotFound
from core.errors import mark as _
from core.eventlog import log_event
from core.plugins import await_me_maybe, get_host
from core.records import RecordService, child_of, children_of, where_child
from core.validation import FieldError, decimal_value, normalize_email, normalize_phone
from plugins.workorders.records import WORK_ORDER
from plugins.workorders.schemas import (
    ApproveIn,
    ExtraCostIn,
    ExtraCostPatch,
    WorkOrderIn,
    WorkOrderPatch,
)
from plugins.workorders.tables import ExtraCost

WORK_ORDERS = RecordService(WORK_ORDER, "workorders")
TWO_FACTOR_CONTEXT = "extra_costs"
MAX_AMOUNT = Decimal("1000000000")  # a billion kronor per line is plenty


TITLE_REQUIRED = _("a title is required")
DESCRIBE_COST = _("describe the extra cost")
APPROVER_REQUIRED = _("the name of the person approving is required")
COST_NOT_FOUND = _("Extra cost %(line)s of work order %(work_order)s was not found.")
COST_APPROVED = _("This extra cost is approved by the customer and can no longer be changed.")
ALREADY_APPROVED = _("This extra cost is already approved.")
APPROVAL_RACE = _("This extra cost was approved or changed a moment ago; reload and approve again.")


async def _log(tenant_id: int, action: str, work_order_id: int) -> None:
    await log_event(tenant_id, action=action, plugin="workorders", record_type="work_order",
                    record_id=work_order_id)


# --- money and phones -------------------------------------------------------------------


def to_minor(value: Decimal, field: str) -> int:
    """An amount in kronor, more than 0 and at most a billion, as whole öre."""
    return int(decimal_value(value, field, high=MAX_AMOUNT) * 100)


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
    return await WORK_ORDERS.get(tenant_id, work_order_id)


def _title(value: str) -> str:
    title = value.strip()
    if not title:
        raise FieldError("title", TITLE_REQUIRED, code="work_order.title_required")
    return title


def _values(data: WorkOrderIn | WorkOrderPatch) -> dict[str, Any]:
    """The given fields as column values, trimmed and in their stored formats."""
    given = {k: getattr(data, k) for k in data.__struct_fields__ if k != "number"}
    values = {k: v for k, v in given.items() if v is not None or isinstance(data, WorkOrderIn)}
    checks = Checks()  # every bad field refused together
    if "title" in values:
        values["title"] = checks(_title, values["title"])
    for k in ("customer_reference", "end_customer_name", "end_customer_address"):
        if values.get(k) is not None:
            values[k] = values[k].strip()
    for k in ("email", "end_customer_email"):
        if k in values:
            values[k] = checks(normalize_email, values[k], k)
    if "end_customer_phone" in values:
        values["end_customer_phone"] = checks(normalize_phone, values["end_customer_phone"], "end_customer_phone")
    checks.done()
    return values


@WORK_ORDERS.creates
async def create_work_order(tenant_id: int, employee_id: int, data: WorkOrderIn) -> dict:
    values = _values(data) | {"created_by": employee_id}
    return await WORK_ORDERS.create(tenant_id, values, number=data.number)


@WORK_ORDERS.edits
async def edit_work_order(tenant_id: int, work_order_id: int, data: WorkOrderPatch) -> dict:
    return await WORK_ORDERS.edit(tenant_id, work_order_id, _values(data), number=data.number)


# --- extra costs ---------------------------------------------------------------------


def _where_line(tenant_id: int, work_order_id: int, line_id: int) -> Any:
    return where_child(ExtraCost, "work_order_id", tenant_id, work_order_id, line_id)


async def get_extra_cost(tenant_id: int, work_order_id: int, line_id: int) -> dict:
    """A line of this work order of this tenant, or 404 (another order's line included)."""
    missing = NotFound(COST_NOT_FOUND, code="work_order.extra_cost_not_found", line=line_id,
                       work_order=work_order_id)
    return await child_of(ExtraCost, "work_order_id", tenant_id, work_order_id, line_id, missing)


async def list_extra_costs(tenant_id: int, work_order_id: int) -> list[dict]:
    await get_work_order(tenant_id, work_order_id)
    return (await children_of(ExtraCost, "work_order_id", tenant_id, [work_order_id], dict))[work_order_id]


def _line_text(value: str) -> str:
    text = value.strip()
    if not text:
        raise FieldError("description", DESCRIBE_COST, code="work_order.extra_cost_description_required")
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
        await WORK_ORDERS.get_writable(tenant_id, work_order_id)
        rows = await ExtraCost.insert(ExtraCost(**values)).returning(*ExtraCost.all_columns())
        await _log(tenant_id, "work_order.extra_cost_added", work_order_id)
    return rows[0]


def _unapproved(line: dict) -> None:
    if line["approved_at"] is not None:
        raise Conflict(COST_APPROVED, code="work_order.extra_cost_approved")


async def edit_extra_cost(
    tenant_id: int, work_order_id: int, line_id: int, data: ExtraCostPatch
) -> dict:
    changes: dict[Any, Any] = {}
    if data.description is not None:
        changes[ExtraCost.description] = _line_text(data.description)
    if data.amount is not None:
        changes[ExtraCost.amount_minor] = to_minor(data.amount, "amount")
    async with atomic():
        await WORK_ORDERS.get_writable(tenant_id, work_order_id)
        _unapproved(await get_extra_cost(tenant_id, work_order_id, line_id))
        if changes:
            # A cost the customer declined is offered again once it is changed.
            changes[ExtraCost.declined_at] = None
            await ExtraCost.update(changes).where(_where_line(tenant_id, work_order_id, line_id))
        await _log(tenant_id, "work_order.extra_cost_edited", work_order_id)
        return await get_extra_cost(tenant_id, work_order_id, line_id)


async def delete_extra_cost(tenant_id: int, work_order_id: int, line_id: int) -> dict:
    async with atomic():
        await WORK_ORDERS.get_writable(tenant_id, work_order_id)
        line = await get_extra_cost(tenant_id, work_order_id, line_id)
        _unapproved(line)
        await ExtraCost.delete().where(_where_line(tenant_id, work_order_id, line_id))
        await _log(tenant_id, "work_order.extra_cost_deleted", work_order_id)
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
        raise FieldError("approver_name", APPROVER_REQUIRED, code="work_order.approver_required")
    phone = normalize_phone(data.approver_phone, "approver_phone")
    masked = mask_phone(phone) if phone else ""
    work_order = await WORK_ORDERS.get_writable(tenant_id, work_order_id)
    line = await get_extra_cost(tenant_id, work_order_id, line_id)
    if line["approved_at"] is not None:
        raise Conflict(ALREADY_APPROVED, code="work_order.extra_cost_already_approved")
    decision = await _second_factor(
        tenant_id, work_order, data.challenge_id, user_agent, line, employee_id
    )
    if decision is not None and decision.error:
        # 409 missing phone, 429 throttled, 423 locked: the plugin says which (if it does).
        status = getattr(decision, "status", 409) or 409
        refusal = decision.refusal()
        refusal.status = status if 400 <= status < 500 else 409
        raise refusal
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
        await WORK_ORDERS.get_writable(tenant_id, work_order_id)
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
            raise Conflict(APPROVAL_RACE, code="work_order.extra_cost_changed")
        await _log(tenant_id, "work_order.extra_cost_approved", work_order_id)
        return await get_extra_cost(tenant_id, work_order_id, line_id), None
