"""The time API: /api/time/reports, /expenses, /deviations and /shifts.

Employees see and change their own entries; administrators everyone's. The schedule is
read by everyone and planned by administrators.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any

from litestar import Controller, delete, get, patch, post
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from core.auth import SessionUser
from core.listing import Limit, Offset
from core.tenancy import get_scoped
from core.web import AuthUser
from plugins.time import services
from plugins.time.schemas import (
    AmountTotal,
    DeviationIn,
    DeviationKind,
    DeviationOut,
    DeviationPage,
    DeviationPatch,
    ExpenseIn,
    ExpenseOut,
    ExpensePage,
    ExpensePatch,
    HoursTotal,
    ShiftIn,
    ShiftOut,
    ShiftPage,
    ShiftPatch,
    TimeReportIn,
    TimeReportOut,
    TimeReportPage,
    TimeReportPatch,
)
from plugins.time.tables import Deviation, Expense, Shift, TimeReport

Id = Annotated[int, PathParameter(ge=1, le=2_147_483_647)]
RefFilter = Annotated[int | None, QueryParameter(ge=0, le=2_147_483_647)]
DateFilter = Annotated[date | None, QueryParameter()]
REPORT, EXPENSE, DEVIATION = "Time report", "Expense", "Deviation"


def _out(struct: type, row: dict[str, Any]) -> Any:
    """A row as its response shape; hours and amounts always with two decimals."""
    return struct(
        **{
            f: Decimal(row[f]).quantize(services.CENT) if f in ("hours", "amount") else row[f]
            for f in struct.__struct_fields__
        }
    )


class TimeReportsController(Controller):
    path = "/api/time/reports"
    tags = ["time"]

    @get("/")
    async def list_reports(
        self, user: AuthUser, offset: Offset = 0, limit: Limit = 50, employee_id: RefFilter = None,
        customer_id: RefFilter = None, date_from: DateFilter = None, date_to: DateFilter = None,
        include_deleted: FromQuery[bool] = False,
    ) -> TimeReportPage:
        """Time reports, newest date first (an employee sees their own)."""
        where = services.list_where(
            TimeReport, user, employee_id=employee_id, date_from=date_from, date_to=date_to,
            include_deleted=include_deleted, extra={"customer_id": customer_id},
        )
        total, rows = await services.page(TimeReport, where, offset, limit)
        return TimeReportPage(total=total, offset=offset, limit=limit, items=[_out(TimeReportOut, r) for r in rows])

    @get("/totals")
    async def totals(
        self, user: AuthUser, employee_id: RefFilter = None, customer_id: RefFilter = None,
        date_from: DateFilter = None, date_to: DateFilter = None,
    ) -> HoursTotal:
        """Hours of a period; anonymized reports still count."""
        count, hours = await services.total_of(
            TimeReport, "hours", user, employee_id=employee_id, customer_id=customer_id, date_from=date_from, date_to=date_to
        )
        return HoursTotal(count=count, hours=hours)

    @post("/", status_code=HTTP_201_CREATED)
    async def create(self, user: AuthUser, data: JSONBody[TimeReportIn]) -> TimeReportOut:
        return _out(TimeReportOut, await services.create(TimeReport, user, services.report_values(data, partial=False)))

    @get("/{record_id:int}")
    async def get_one(self, user: AuthUser, record_id: Id) -> TimeReportOut:
        return _out(TimeReportOut, await services.get_visible(TimeReport, user, record_id, REPORT))

    @patch("/{record_id:int}")
    async def edit(self, user: AuthUser, record_id: Id, data: JSONBody[TimeReportPatch]) -> TimeReportOut:
        values = services.report_values(data, partial=True)
        return _out(TimeReportOut, await services.update(TimeReport, user, record_id, REPORT, values))

    @delete("/{record_id:int}", status_code=HTTP_200_OK)
    async def remove(self, user: AuthUser, record_id: Id) -> TimeReportOut:
        return _out(TimeReportOut, await services.soft_delete(TimeReport, user, record_id, REPORT))


class ExpensesController(Controller):
    path = "/api/time/expenses"
    tags = ["time"]

    @get("/")
    async def list_expenses(
        self, user: AuthUser, offset: Offset = 0, limit: Limit = 50, employee_id: RefFilter = None,
        customer_id: RefFilter = None, date_from: DateFilter = None, date_to: DateFilter = None,
        include_deleted: FromQuery[bool] = False,
    ) -> ExpensePage:
        """Expenses, newest date first (an employee sees their own)."""
        where = services.list_where(
            Expense, user, employee_id=employee_id, date_from=date_from, date_to=date_to,
            include_deleted=include_deleted, extra={"customer_id": customer_id},
        )
        total, rows = await services.page(Expense, where, offset, limit)
        return ExpensePage(total=total, offset=offset, limit=limit, items=[_out(ExpenseOut, r) for r in rows])

    @get("/totals")
    async def totals(
        self, user: AuthUser, employee_id: RefFilter = None, customer_id: RefFilter = None,
        date_from: DateFilter = None, date_to: DateFilter = None,
    ) -> AmountTotal:
        """The amount of a period; anonymized expenses still count."""
        count, amount = await services.total_of(
            Expense, "amount", user, employee_id=employee_id, customer_id=customer_id, date_from=date_from, date_to=date_to
        )
        return AmountTotal(count=count, amount=amount)

    @post("/", status_code=HTTP_201_CREATED)
    async def create(self, user: AuthUser, data: JSONBody[ExpenseIn]) -> ExpenseOut:
        return _out(ExpenseOut, await services.create(Expense, user, services.expense_values(data, partial=False)))

    @get("/{record_id:int}")
    async def get_one(self, user: AuthUser, record_id: Id) -> ExpenseOut:
        return _out(ExpenseOut, await services.get_visible(Expense, user, record_id, EXPENSE))

    @patch("/{record_id:int}")
    async def edit(self, user: AuthUser, record_id: Id, data: JSONBody[ExpensePatch]) -> ExpenseOut:
        values = services.expense_values(data, partial=True)
        return _out(ExpenseOut, await services.update(Expense, user, record_id, EXPENSE, values))

    @delete("/{record_id:int}", status_code=HTTP_200_OK)
    async def remove(self, user: AuthUser, record_id: Id) -> ExpenseOut:
        return _out(ExpenseOut, await services.soft_delete(Expense, user, record_id, EXPENSE))


class DeviationsController(Controller):
    path = "/api/time/deviations"
    tags = ["time"]

    @get("/")
    async def list_deviations(
        self, user: AuthUser, offset: Offset = 0, limit: Limit = 50, employee_id: RefFilter = None,
        kind: FromQuery[DeviationKind | None] = None, date_from: DateFilter = None, date_to: DateFilter = None,
        include_deleted: FromQuery[bool] = False,
    ) -> DeviationPage:
        """Deviations, newest date first (an employee sees their own)."""
        where = services.list_where(
            Deviation, user, employee_id=employee_id, date_from=date_from, date_to=date_to,
            include_deleted=include_deleted, extra={"kind": kind},
        )
        total, rows = await services.page(Deviation, where, offset, limit)
        return DeviationPage(total=total, offset=offset, limit=limit, items=[_out(DeviationOut, r) for r in rows])

    @post("/", status_code=HTTP_201_CREATED)
    async def create(self, user: AuthUser, data: JSONBody[DeviationIn]) -> DeviationOut:
        return _out(DeviationOut, await services.create(Deviation, user, services.deviation_values(data, partial=False)))

    @get("/{record_id:int}")
    async def get_one(self, user: AuthUser, record_id: Id) -> DeviationOut:
        return _out(DeviationOut, await services.get_visible(Deviation, user, record_id, DEVIATION))

    @patch("/{record_id:int}")
    async def edit(self, user: AuthUser, record_id: Id, data: JSONBody[DeviationPatch]) -> DeviationOut:
        values = services.deviation_values(data, partial=True)
        return _out(DeviationOut, await services.update(Deviation, user, record_id, DEVIATION, values))

    @delete("/{record_id:int}", status_code=HTTP_200_OK)
    async def remove(self, user: AuthUser, record_id: Id) -> DeviationOut:
        return _out(DeviationOut, await services.soft_delete(Deviation, user, record_id, DEVIATION))


def _planner(user: SessionUser) -> None:
    if not user.is_admin:
        raise PermissionDeniedException("Only an administrator plans the schedule.")


class ShiftsController(Controller):
    path = "/api/time/shifts"
    tags = ["time"]

    @get("/")
    async def list_shifts(
        self, user: AuthUser, offset: Offset = 0, limit: Limit = 200, employee_id: RefFilter = None,
        date_from: DateFilter = None, date_to: DateFilter = None,
    ) -> ShiftPage:
        """The schedule, in order of start (everyone in the organization sees it)."""
        services.check_range(date_from, date_to)
        where = Shift.tenant_id == user.tenant_id
        if employee_id is not None:
            where = where & (Shift.employee_id == employee_id)
        if date_from is not None:
            where = where & (Shift.ends_at > services.dated_at(date_from))
        if date_to is not None:
            where = where & (Shift.starts_at < services.dated_at(date_to) + timedelta(days=1))
        total = await Shift.count().where(where)
        rows = await Shift.select().where(where).order_by(Shift.starts_at).order_by(Shift.id).offset(offset).limit(limit)
        return ShiftPage(total=total, offset=offset, limit=limit, items=[_out(ShiftOut, r) for r in rows])

    @post("/", status_code=HTTP_201_CREATED)
    async def create(self, user: AuthUser, data: JSONBody[ShiftIn]) -> ShiftOut:
        _planner(user)
        return _out(ShiftOut, await services.create_shift(user.tenant_id, data))

    @get("/{shift_id:int}")
    async def get_one(self, user: AuthUser, shift_id: Id) -> ShiftOut:
        return _out(ShiftOut, await get_scoped(Shift, user.tenant_id, shift_id, "Shift"))

    @patch("/{shift_id:int}")
    async def edit(self, user: AuthUser, shift_id: Id, data: JSONBody[ShiftPatch]) -> ShiftOut:
        _planner(user)
        return _out(ShiftOut, await services.update_shift(user.tenant_id, shift_id, data))

    @delete("/{shift_id:int}", status_code=HTTP_200_OK)
    async def remove(self, user: AuthUser, shift_id: Id) -> ShiftOut:
        _planner(user)
        return _out(ShiftOut, await services.delete_shift(user.tenant_id, shift_id))
