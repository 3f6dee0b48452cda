"""Time reporting (Tid): time reports, expenses, deviations and the schedule.

Employees are core employees, referenced by id (0 once anonymized). Each dated record
also stores ``dated_at``, the date at midnight UTC, because the retention rules' clocks
are timestamps: "N days after the report date" is ``dated_at < now - N days``. The
reports, expenses and deviations keep the record clocks (core.records.columns.Kept).
"""

from __future__ import annotations

from piccolo.columns import Date, Integer, Numeric, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.records.columns import Kept


class TimeReport(Kept, Table, tablename="time_report"):
    tenant_id = Integer(index=True)
    employee_id = Integer(index=True)
    date = Date()
    dated_at = Timestamptz()
    hours = Numeric(digits=(6, 2))
    customer_id = Integer(default=0, index=True)
    # What the hours were spent on: a work-order or project number, an activity code.
    work_reference = Varchar(length=100, default="")
    comment = Text(default="")


class Expense(Kept, Table, tablename="time_expense"):
    tenant_id = Integer(index=True)
    employee_id = Integer(index=True)
    customer_id = Integer(default=0, index=True)
    date = Date()
    dated_at = Timestamptz()
    amount = Numeric(digits=(14, 2))
    description = Varchar(length=500, default="")


class Deviation(Kept, Table, tablename="time_deviation"):
    """Absence or other deviation from the schedule (sick, child care, vacation...)."""

    tenant_id = Integer(index=True)
    employee_id = Integer(index=True)
    date = Date()
    dated_at = Timestamptz()
    kind = Varchar(length=20)
    comment = Text(default="")


class Shift(Table, tablename="time_shift"):
    """One scheduled shift of one employee."""

    tenant_id = Integer(index=True)
    employee_id = Integer(index=True)
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    note = Varchar(length=500, default="")
    created_at = Timestamptz(default=TimestamptzNow())


TABLES: list[type[Table]] = [TimeReport, Expense, Deviation, Shift]
