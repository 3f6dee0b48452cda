"""Time reporting logic: validation, who may see and change what, totals.

Employees report for themselves; administrators for anyone. Everything is filtered on the
tenant, and an employee id must be an employee of the same organization.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from piccolo.table import Table

from core.auth import SessionUser
from core.db import atomic, raw, utcnow
from core.errors import Conflict, Forbidden
from core.references import check_party
from core.tables import Employee
from core.tenancy import get_scoped
from core.validation import FieldError
from plugins.time.tables import Deviation, Expense, Shift, TimeReport

CENT = Decimal("0.01")
MAX_HOURS = Decimal("24")
MAX_AMOUNT = Decimal("1000000000")
FIRST_DATE = date(2000, 1, 1)
LAST_DATE = date(2100, 12, 31)
MAX_SHIFT = timedelta(hours=24)


def decimal_field(value: Decimal, field: str, high: Decimal) -> Decimal:
    """More than 0, at most ``high``, at most two decimals."""
    try:
        if not value.is_finite():
            raise FieldError(field, "must be a number", code="not_a_number")
        if value <= 0 or value > high:
            raise FieldError(field, "must be more than 0 and at most %(high)s", code="out_of_range", high=str(high))
        if value != value.quantize(CENT):
            raise FieldError(field, "may have at most two decimals", code="too_many_decimals")
        return value.quantize(CENT)
    except InvalidOperation as exc:
        raise FieldError(field, "must be a number", code="not_a_number") from exc


def date_field(value: date, field: str = "date") -> date:
    if not (FIRST_DATE <= value <= LAST_DATE):
        raise FieldError(field, "must be between %(first)s and %(last)s", code="date_out_of_range",
                         first=str(FIRST_DATE), last=str(LAST_DATE))
    return value


def dated_at(value: date) -> datetime:
    """The retention clock of a dated record: its date at midnight UTC."""
    return datetime.combine(value, time.min, tzinfo=timezone.utc)


def aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise FieldError(field, "include the time zone, e.g. 2026-05-04T07:00:00+02:00", code="naive_time")
    return value.astimezone(timezone.utc)


async def check_employee(tenant_id: int, employee_id: int, field: str = "employee_id") -> None:
    """The id must be a current employee of this organization (never of another)."""
    found = await Employee.exists().where(
        (Employee.tenant_id == tenant_id) & (Employee.id == employee_id) & Employee.deleted_at.is_null()
    )
    if not found:
        raise FieldError(field, "there is no employee %(employee_id)s in this organization",
                         code="unknown_employee", employee_id=employee_id)


def check_own(user: SessionUser, employee_id: int) -> None:
    if not user.is_admin and employee_id != user.employee_id:
        raise Forbidden(
            "You can only see and change your own entries; an administrator can do it for others.",
            code="not_own",
        )


def check_range(date_from: date | None, date_to: date | None) -> None:
    if date_from is not None and date_to is not None and date_from > date_to:
        raise FieldError("date_to", "must not be before date_from", code="date_range")


def _col(table: type[Table], name: str) -> Any:
    return table._meta.get_column_by_name(name)


def _by_id(table: type[Table], tenant_id: int, record_id: int) -> Any:
    return (_col(table, "tenant_id") == tenant_id) & (table._meta.primary_key == record_id)


async def get_visible(table: type[Table], user: SessionUser, record_id: int, what: str) -> dict[str, Any]:
    row = await get_scoped(table, user.tenant_id, record_id, what)
    check_own(user, int(row["employee_id"]))
    return row


async def get_changeable(table: type[Table], user: SessionUser, record_id: int, what: str) -> dict[str, Any]:
    row = await get_visible(table, user, record_id, what)
    if row.get("deleted_at") is not None or row.get("anonymized_at") is not None:
        raise Conflict("This entry is deleted or anonymized and cannot be changed.", code="read_only")
    return row


def list_where(
    table: type[Table],
    user: SessionUser,
    *,
    employee_id: int | None,
    date_from: date | None,
    date_to: date | None,
    include_deleted: bool = False,
    extra: dict[str, Any] | None = None,
) -> Any:
    """The tenant's rows matching the filters; a non-administrator sees only their own."""
    check_range(date_from, date_to)
    if employee_id is not None:
        check_own(user, employee_id)
    elif not user.is_admin:
        employee_id = user.employee_id
    where = _col(table, "tenant_id") == user.tenant_id
    if employee_id is not None:
        where = where & (_col(table, "employee_id") == employee_id)
    if date_from is not None:
        where = where & (_col(table, "date") >= date_from)
    if date_to is not None:
        where = where & (_col(table, "date") <= date_to)
    if not include_deleted:
        where = where & _col(table, "deleted_at").is_null()
    for name, value in (extra or {}).items():
        if value is not None:
            where = where & (_col(table, name) == value)
    return where


async def page(table: type[Table], where: Any, offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
    total = await table.count().where(where)
    rows = (
        await table.select()
        .where(where)
        .order_by(_col(table, "date"), ascending=False)
        .order_by(table._meta.primary_key, ascending=False)
        .offset(offset)
        .limit(limit)
    )
    return total, rows


async def total_of(
    table: type[Table],
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
    if employee_id is not None:
        check_own(user, employee_id)
    elif not user.is_admin:
        employee_id = user.employee_id
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
        f'FROM "{table._meta.tablename}" WHERE {" AND ".join(conds)}',
        *args,
    )
    return int(rows[0]["n"]), (Decimal(int(rows[0]["cents"])) / 100).quantize(CENT)


# --- create / edit / delete of the dated records ---------------------------------------


async def create(table: type[Table], user: SessionUser, values: dict[str, Any]) -> dict[str, Any]:
    """Insert a dated record after the employee and access checks."""
    check_own(user, values["employee_id"])
    values["dated_at"] = dated_at(values["date"])
    async with atomic():
        await check_employee(user.tenant_id, values["employee_id"])
        if "customer_id" in values:  # reports and expenses name a customer, 0 for none
            await check_party(user.tenant_id, values["customer_id"])
        rows = await table.insert(table(tenant_id=user.tenant_id, **values)).returning(*table.all_columns())
    return rows[0]


async def update(table: type[Table], user: SessionUser, record_id: int, what: str, values: dict[str, Any]) -> dict[str, Any]:
    async with atomic():
        row = await get_changeable(table, user, record_id, what)
        if "customer_id" in values:
            await check_party(user.tenant_id, values["customer_id"], before=row)
        if "employee_id" in values:
            check_own(user, values["employee_id"])
            await check_employee(user.tenant_id, values["employee_id"])
        if "date" in values:
            values["dated_at"] = dated_at(values["date"])
        if values:
            values["updated_at"] = utcnow()
            await table.update({_col(table, k): v for k, v in values.items()}).where(_by_id(table, user.tenant_id, record_id))
        return await get_scoped(table, user.tenant_id, record_id, what)


async def soft_delete(table: type[Table], user: SessionUser, record_id: int, what: str) -> dict[str, Any]:
    """Deleted records leave the totals; their retention rule anonymizes them N days later.

    The time rules do not offer "immediately" (see gdpr.py), so nothing is anonymized here.
    """
    async with atomic():
        row = await get_visible(table, user, record_id, what)
        if row["deleted_at"] is None:
            now = utcnow()
            await table.update({_col(table, "deleted_at"): now, _col(table, "updated_at"): now}).where(
                _by_id(table, user.tenant_id, record_id)
            )
        return await get_scoped(table, user.tenant_id, record_id, what)


def report_values(data: Any, partial: bool) -> dict[str, Any]:
    v: dict[str, Any] = {}
    for name in ("employee_id", "customer_id"):
        if not partial or getattr(data, name) is not None:
            v[name] = getattr(data, name)
    if not partial or data.date is not None:
        v["date"] = date_field(data.date)
    if not partial or data.hours is not None:
        v["hours"] = decimal_field(data.hours, "hours", MAX_HOURS)
    if not partial or data.work_reference is not None:
        v["work_reference"] = data.work_reference.strip()
    if not partial or data.comment is not None:
        v["comment"] = data.comment
    return v


def expense_values(data: Any, partial: bool) -> dict[str, Any]:
    v: dict[str, Any] = {}
    for name in ("employee_id", "customer_id"):
        if not partial or getattr(data, name) is not None:
            v[name] = getattr(data, name)
    if not partial or data.date is not None:
        v["date"] = date_field(data.date)
    if not partial or data.amount is not None:
        v["amount"] = decimal_field(data.amount, "amount", MAX_AMOUNT)
    if not partial or data.description is not None:
        v["description"] = data.description.strip()
    return v


def deviation_values(data: Any, partial: bool) -> dict[str, Any]:
    v: dict[str, Any] = {}
    if not partial or data.employee_id is not None:
        v["employee_id"] = data.employee_id
    if not partial or data.date is not None:
        v["date"] = date_field(data.date)
    if not partial or data.kind is not None:
        v["kind"] = data.kind
    if not partial or data.comment is not None:
        v["comment"] = data.comment
    return v


# --- the schedule -------------------------------------------------------------------


def _check_shift_times(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise FieldError("ends_at", "must be after starts_at", code="ends_before_start")
    if ends_at - starts_at > MAX_SHIFT:
        raise FieldError("ends_at", "a shift is at most 24 hours", code="shift_too_long")
    if not (dated_at(FIRST_DATE) <= starts_at <= dated_at(LAST_DATE)):
        raise FieldError("starts_at", "must be between %(first)s and %(last)s", code="date_out_of_range",
                         first=str(FIRST_DATE), last=str(LAST_DATE))


async def create_shift(tenant_id: int, data: Any) -> dict[str, Any]:
    starts_at = aware(data.starts_at, "starts_at")
    ends_at = aware(data.ends_at, "ends_at")
    _check_shift_times(starts_at, ends_at)
    async with atomic():
        await check_employee(tenant_id, data.employee_id)
        rows = await Shift.insert(
            Shift(tenant_id=tenant_id, employee_id=data.employee_id, starts_at=starts_at, ends_at=ends_at, note=data.note.strip())
        ).returning(*Shift.all_columns())
    return rows[0]


async def update_shift(tenant_id: int, shift_id: int, data: Any) -> dict[str, Any]:
    async with atomic():
        row = await get_scoped(Shift, tenant_id, shift_id, "Shift")
        starts_at = aware(data.starts_at, "starts_at") if data.starts_at is not None else row["starts_at"]
        ends_at = aware(data.ends_at, "ends_at") if data.ends_at is not None else row["ends_at"]
        _check_shift_times(starts_at, ends_at)
        changes: dict[Any, Any] = {Shift.starts_at: starts_at, Shift.ends_at: ends_at}
        if data.employee_id is not None:
            await check_employee(tenant_id, data.employee_id)
            changes[Shift.employee_id] = data.employee_id
        if data.note is not None:
            changes[Shift.note] = data.note.strip()
        await Shift.update(changes).where(_by_id(Shift, tenant_id, shift_id))
        return await get_scoped(Shift, tenant_id, shift_id, "Shift")


async def delete_shift(tenant_id: int, shift_id: int) -> dict[str, Any]:
    async with atomic():
        row = await get_scoped(Shift, tenant_id, shift_id, "Shift")
        await Shift.delete().where(_by_id(Shift, tenant_id, shift_id))
    return row


__all__ = ["Deviation", "Expense", "Shift", "TimeReport"]
