"""What is time reporting's own: who may report for whom, the employee check, the period a
list or a total covers, the shift's time rules and exact totals.

Everything else a time report, an expense, a deviation or a shift does (tenant scope,
read-only history, the customer check, soft delete, the event log) is the record layer's
(:class:`core.records.RecordService`). Employees report for themselves; administrators for
anyone; an employee id must be an employee of the same organization.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import reduce
from typing import Any

import msgspec

from core.auth import SessionUser
from core.db import atomic, raw
from core.errors import Forbidden
from core.errors import mark as _
from core.records import RecordService
from core.tables import Employee
from core.validation import FieldError, decimal_value
from plugins.time.records import DEVIATION, EXPENSE, SHIFT, TIME_REPORT
from plugins.time.tables import Shift

REPORTS = RecordService(TIME_REPORT, "time")
EXPENSES = RecordService(EXPENSE, "time")
DEVIATIONS = RecordService(DEVIATION, "time")
SHIFTS = RecordService(SHIFT, "time")

CENT = Decimal("0.01")
MAX_HOURS = Decimal("24")
MAX_AMOUNT = Decimal("1000000000")
FIRST_DATE = date(2000, 1, 1)
LAST_DATE = date(2100, 12, 31)
MAX_SHIFT = timedelta(hours=24)

NOT_OWN = _("You can only see and change your own entries; an administrator can do it for others.")
NOT_PLANNER = _("Only an administrator plans the schedule.")
DATE_OUT_OF_RANGE = _("must be between %(first)s and %(last)s")
DATE_RANGE = _("must not be before date_from")
UNKNOWN_EMPLOYEE = _("there is no employee %(employee_id)s in this organization")
NAIVE_TIME = _("include the time zone, e.g. 2026-05-04T07:00:00+02:00")
ENDS_BEFORE_START = _("must be after starts_at")
SHIFT_TOO_LONG = _("a shift is at most 24 hours")


# --- checks -----------------------------------------------------------------------------


def date_field(value: date, field: str = "date") -> date:
    if not (FIRST_DATE <= value <= LAST_DATE):
        raise FieldError(field, DATE_OUT_OF_RANGE, code="date_out_of_range",
                         first=str(FIRST_DATE), last=str(LAST_DATE))
    return value


def dated_at(value: date) -> datetime:
    """The retention clock of a dated record: its date at midnight UTC."""
    return datetime.combine(value, time.min, tzinfo=UTC)


def aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise FieldError(field, NAIVE_TIME, code="naive_time")
    return value.astimezone(UTC)


async def check_employee(tenant_id: int, employee_id: int, field: str = "employee_id") -> None:
    """The id must be a current employee of this organization (never of another)."""
    found = await Employee.exists().where(
        (Employee.tenant_id == tenant_id) & (Employee._meta.primary_key == employee_id) & Employee.deleted_at.is_null()
    )
    if not found:
        raise FieldError(field, UNKNOWN_EMPLOYEE, code="unknown_employee", employee_id=employee_id)


def check_own(user: SessionUser, employee_id: int) -> None:
    if not user.is_admin and employee_id != user.employee_id:
        raise Forbidden(NOT_OWN, code="not_own")


def check_planner(user: SessionUser) -> None:
    if not user.is_admin:
        raise Forbidden(NOT_PLANNER, code="shift.not_planner")


def own_entry(user: SessionUser, row: dict[str, Any], write: bool) -> None:
    """Time's refusal of another person's entry (403 saying why), asked before the spec's
    ``can_open`` by the API and the pages."""
    check_own(user, int(row["employee_id"]))


def planned(user: SessionUser, row: dict[str, Any], write: bool) -> None:
    """Everybody reads the schedule; changing it is the administrator's (403 saying why)."""
    if write:
        check_planner(user)


def check_range(date_from: date | None, date_to: date | None) -> None:
    if date_from is not None and date_to is not None and date_from > date_to:
        raise FieldError("date_to", DATE_RANGE, code="date_range")


def _all(conditions: list[Any]) -> Any:
    return reduce(lambda a, b: a & b, conditions) if conditions else None


def whose(user: SessionUser, employee_id: int | None) -> int | None:
    """The employee a list or a total is about: the one asked for (one's own unless an
    administrator), else one's own for an employee and everyone for an administrator."""
    if employee_id is not None:
        check_own(user, employee_id)
        return employee_id
    return None if user.is_admin else user.employee_id


def period(service: RecordService, user: SessionUser, params: dict[str, Any]) -> Any:
    """The list's own condition (``scope`` of the record router): the dates asked for and
    the entries the person may see."""
    date_from, date_to = params.get("date_from"), params.get("date_to")
    check_range(date_from, date_to)
    employee_id = whose(user, params.get("employee_id"))
    conditions = []
    if employee_id is not None:
        conditions.append(service.col("employee_id") == employee_id)
    if date_from is not None:
        conditions.append(service.col("date") >= date_from)
    if date_to is not None:
        conditions.append(service.col("date") <= date_to)
    return _all(conditions)


def shift_period(user: SessionUser, params: dict[str, Any]) -> Any:
    """The shifts that overlap the days asked for (everyone sees the schedule)."""
    date_from, date_to = params.get("date_from"), params.get("date_to")
    check_range(date_from, date_to)
    conditions = []
    if date_from is not None:
        conditions.append(Shift.ends_at > dated_at(date_from))
    if date_to is not None:
        conditions.append(Shift.starts_at < dated_at(date_to) + timedelta(days=1))
    return _all(conditions)


async def total_of(
    service: RecordService,
    column: str,
    user: SessionUser,
    *,
    employee_id: int | None,
    customer_id: int | None,
    date_from: date | None,
    date_to: date | None,
) -> tuple[int, Decimal]:
    """Count and exact sum (in hundredths, so SQLite's floats do not round it) of a period.

    Anonymized rows count: only their links and texts are gone, never their hours or
    amounts. Deleted rows do not count.
    """
    check_range(date_from, date_to)
    employee_id = whose(user, employee_id)
    conds = ['"tenant_id" = {}', '"deleted_at" IS NULL']
    args: list[Any] = [user.tenant_id]
    for sql, value in (
        ('"employee_id" = {}', employee_id),
        ('"customer_id" = {}', customer_id),
        ('"date" >= {}', date_from),
        ('"date" <= {}', date_to),
    ):
        if value is not None:
            conds.append(sql)
            args.append(value)
    rows = await raw(
        f'SELECT COUNT(*) AS n, COALESCE(SUM(CAST(ROUND("{column}" * 100) AS BIGINT)), 0) AS cents '
        f'FROM "{service.table._meta.tablename}" WHERE {" AND ".join(conds)}',
        *args,
    )
    return int(rows[0]["n"]), (Decimal(int(rows[0]["cents"])) / 100).quantize(CENT)


# --- the dated records: time reports, expenses, deviations ------------------------------


def values_of(data: msgspec.Struct, partial: bool) -> dict[str, Any]:
    """The given fields of a time report, an expense or a deviation as column values,
    checked and trimmed (in a patch, an absent or null field stays as it is)."""
    given = {k: getattr(data, k) for k in data.__struct_fields__}
    values = {k: v for k, v in given.items() if v is not None or not partial}
    if "date" in values:
        values["date"] = date_field(values["date"])
    if "hours" in values:
        values["hours"] = decimal_value(values["hours"], "hours", high=MAX_HOURS)
    if "amount" in values:
        values["amount"] = decimal_value(values["amount"], "amount", high=MAX_AMOUNT)
    for k in ("work_reference", "description"):
        if k in values:
            values[k] = values[k].strip()
    return values


async def open_entry(service: RecordService, user: SessionUser, record_id: int, write: bool) -> dict[str, Any]:
    """The tenant's entry if it is the person's own (or they are an administrator); to
    change it, it must be neither deleted nor anonymized."""
    row = await service.get(user.tenant_id, record_id)
    check_own(user, int(row["employee_id"]))
    if write:
        service.writable(row)
    return row


async def create_entry(service: RecordService, user: SessionUser, data: msgspec.Struct) -> dict[str, Any]:
    """A new entry, for oneself (an administrator: for any employee of the organization)."""
    values = values_of(data, partial=False)
    if values["employee_id"] is None:
        values["employee_id"] = user.employee_id
    check_own(user, values["employee_id"])
    values["dated_at"] = dated_at(values["date"])
    async with atomic():
        await check_employee(user.tenant_id, values["employee_id"])
        return await service.create(user.tenant_id, values)


async def edit_entry(service: RecordService, user: SessionUser, record_id: int, data: msgspec.Struct) -> dict[str, Any]:
    values = values_of(data, partial=True)
    async with atomic():
        row = await open_entry(service, user, record_id, write=True)
        if "employee_id" in values:
            check_own(user, values["employee_id"])
            await check_employee(user.tenant_id, values["employee_id"])
        if "date" in values:
            values["dated_at"] = dated_at(values["date"])
        return await service.edit(user.tenant_id, record_id, values, row=row)


async def delete_entry(service: RecordService, user: SessionUser, record_id: int) -> dict[str, Any]:
    """Deleted entries leave the totals; their retention rule anonymizes them N days later
    (the time rules do not offer "immediately", see records.py)."""
    async with atomic():
        await open_entry(service, user, record_id, write=False)
        return await service.delete(user.tenant_id, record_id)


# --- the schedule -----------------------------------------------------------------------


def _check_shift_times(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise FieldError("ends_at", ENDS_BEFORE_START, code="ends_before_start")
    if ends_at - starts_at > MAX_SHIFT:
        raise FieldError("ends_at", SHIFT_TOO_LONG, code="shift_too_long")
    if not (dated_at(FIRST_DATE) <= starts_at <= dated_at(LAST_DATE)):
        raise FieldError("starts_at", DATE_OUT_OF_RANGE, code="date_out_of_range",
                         first=str(FIRST_DATE), last=str(LAST_DATE))


async def create_shift(user: SessionUser, data: Any) -> dict[str, Any]:
    check_planner(user)
    starts_at = aware(data.starts_at, "starts_at")
    ends_at = aware(data.ends_at, "ends_at")
    _check_shift_times(starts_at, ends_at)
    async with atomic():
        await check_employee(user.tenant_id, data.employee_id)
        return await SHIFTS.create(user.tenant_id, {
            "employee_id": data.employee_id, "starts_at": starts_at, "ends_at": ends_at, "note": data.note.strip(),
        })


async def edit_shift(user: SessionUser, shift_id: int, data: Any) -> dict[str, Any]:
    check_planner(user)
    async with atomic():
        row = await SHIFTS.get(user.tenant_id, shift_id)
        starts_at = aware(data.starts_at, "starts_at") if data.starts_at is not None else row["starts_at"]
        ends_at = aware(data.ends_at, "ends_at") if data.ends_at is not None else row["ends_at"]
        _check_shift_times(starts_at, ends_at)
        changes: dict[str, Any] = {"starts_at": starts_at, "ends_at": ends_at}
        if data.employee_id is not None:
            await check_employee(user.tenant_id, data.employee_id)
            changes["employee_id"] = data.employee_id
        if data.note is not None:
            changes["note"] = data.note.strip()
        return await SHIFTS.edit(user.tenant_id, shift_id, changes, row=row)


async def delete_shift(user: SessionUser, shift_id: int) -> dict[str, Any]:
    """A shift is planning, not history: deleting it removes it (and is logged)."""
    check_planner(user)
    async with atomic():
        row = await SHIFTS.get(user.tenant_id, shift_id)
        await Shift.delete().where(SHIFTS.where_own(user.tenant_id, shift_id))
        await SHIFTS.log(user.tenant_id, "deleted", shift_id)
    return row

