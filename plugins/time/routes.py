"""The time API: /api/time/reports, /expenses, /deviations and /shifts, the record layer's
common routes (list, create, get, edit, delete) with time's own period filter and scope,
plus the totals of a period and the removal of a planned shift.

Employees see and change their own entries; administrators everyone's. The schedule is
read by everyone and planned by administrators.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import partial
from typing import Annotated, Any

import msgspec
from litestar import Router, delete, get
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter
from litestar.status_codes import HTTP_200_OK

from core.records import RecordService
from core.routes.records import record_router
from core.routes.schemas import Id
from core.web import AuthUser
from plugins.time import services
from plugins.time.schemas import (
    AmountTotal,
    DeviationIn,
    DeviationOut,
    DeviationPatch,
    ExpenseIn,
    ExpenseOut,
    ExpensePatch,
    HoursTotal,
    ShiftIn,
    ShiftOut,
    ShiftPatch,
    TimeReportIn,
    TimeReportOut,
    TimeReportPatch,
)

RefFilter = Annotated[int | None, QueryParameter(ge=0, le=2_147_483_647)]
DateFilter = Annotated[date | None, QueryParameter(required=False)]
PERIOD = (("date_from", DateFilter), ("date_to", DateFilter))


def _output(struct: type[msgspec.Struct]) -> Any:
    """A row as its response shape; hours and amounts always with two decimals."""
    def build(row: dict[str, Any]) -> Any:
        return struct(**{
            f: Decimal(row[f]).quantize(services.CENT) if f in ("hours", "amount") else row[f]
            for f in struct.__struct_fields__
        })

    return build


def _entries(service: RecordService, schema_in: type, schema_patch: type, schema_out: type) -> Router:
    async def create(user: Any, data: Any) -> dict[str, Any]:
        return await services.create_entry(service, user, data)

    async def edit(user: Any, record_id: int, data: Any) -> dict[str, Any]:
        return await services.edit_entry(service, user, record_id, data)

    return record_router(
        service, schema_in, schema_patch, schema_out, create=create, edit=edit, module=__name__,
        output=_output(schema_out), list_params=PERIOD, scope=partial(services.period, service),
        access=services.own_entry,
    )


async def _period(
    employee_id: RefFilter = None, customer_id: RefFilter = None, date_from: DateFilter = None,
    date_to: DateFilter = None,
) -> dict[str, Any]:
    """The query of a total: whose, for which customer, which days."""
    return {"employee_id": employee_id, "customer_id": customer_id, "date_from": date_from, "date_to": date_to}


TOTALS = {"period": Provide(_period)}
Period = NamedDependency[dict[str, Any]]


@get("/api/time/reports/totals", dependencies=TOTALS)
async def report_totals(user: AuthUser, period: Period) -> HoursTotal:
    """Hours of a period; anonymized reports still count."""
    count, hours = await services.total_of(services.REPORTS, "hours", user, **period)
    return HoursTotal(count=count, hours=hours)


@get("/api/time/expenses/totals", dependencies=TOTALS)
async def expense_totals(user: AuthUser, period: Period) -> AmountTotal:
    """The amount of a period; anonymized expenses still count."""
    count, amount = await services.total_of(services.EXPENSES, "amount", user, **period)
    return AmountTotal(count=count, amount=amount)


async def _create_shift(user: Any, data: ShiftIn) -> dict[str, Any]:
    return await services.create_shift(user, data)


async def _edit_shift(user: Any, shift_id: int, data: ShiftPatch) -> dict[str, Any]:
    return await services.edit_shift(user, shift_id, data)


@delete("/api/time/shifts/{shift_id:int}", status_code=HTTP_200_OK)
async def delete_shift(user: AuthUser, shift_id: Id) -> ShiftOut:
    """Remove a planned shift (an administrator)."""
    return _output(ShiftOut)(await services.delete_shift(user, shift_id))


def route_handlers() -> list[Any]:
    return [
        _entries(services.REPORTS, TimeReportIn, TimeReportPatch, TimeReportOut),
        _entries(services.EXPENSES, ExpenseIn, ExpensePatch, ExpenseOut),
        _entries(services.DEVIATIONS, DeviationIn, DeviationPatch, DeviationOut),
        record_router(services.SHIFTS, ShiftIn, ShiftPatch, ShiftOut, create=_create_shift, edit=_edit_shift,
                      module=__name__, output=_output(ShiftOut), list_params=PERIOD,
                      scope=services.shift_period, access=services.planned, limit=200),
        report_totals,
        expense_totals,
        delete_shift,
    ]
