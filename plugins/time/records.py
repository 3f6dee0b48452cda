"""Time reporting's records, declared once: time reports, expenses, deviations and shifts
(M26-M28).

M26 time reports, M27 deviations, M28 expenses: N days after the record's date, or N
days after it was deleted, the link to the employee (and for expenses to the customer) and
the comments or description are cleared. Hours and amounts stay, so totals per period
remain correct.

Decisions worth knowing:

* The rules offer "after N days" and "off", not "immediately": their clock is the record's
  date, so "immediately" would anonymize every report of the past the moment it was chosen.
* The API is the record layer's (``/api`` + ``path``: ``/api/time/reports/{id}`` ...), with
  time's own period and "only one's own" scope (:mod:`plugins.time.services`); the
  schedule's pages live under ``/time/schedule``.
* Access: an employee opens their own reports, expenses and deviations, an administrator
  everybody's (:func:`own_or_admin`); everybody sees the schedule, an administrator plans
  it (:func:`shift_open`).
* A time report's ``customer_id`` is not in M26, but the core zeroes it when the customer
  is anonymized. The schedule has no retention rule of its own; anonymizing the employee
  zeroes its shifts.
"""

from __future__ import annotations

from typing import Any

from piccolo.table import Table

from core.contracts import Field, RecordSpec, RetentionRule
from plugins.time.tables import Deviation, Expense, Shift, TimeReport

REPORTS, EXPENSES, DEVIATIONS = "time_reports", "time_expenses", "time_deviations"


def own_or_admin(user: Any, record: dict[str, Any], write: bool) -> bool:
    """An employee opens their own record, an administrator everybody's."""
    return bool(user.is_admin) or int(record["employee_id"]) == user.employee_id


def shift_open(user: Any, record: dict[str, Any], write: bool) -> bool:
    """Everybody sees the schedule, an administrator plans it."""
    return bool(user.is_admin) or not write


def _rule(key: str, sv: str, en: str) -> RetentionRule:
    return RetentionRule(
        key=key, label_sv=sv, label_en=en, clock=("dated", "deleted"),
        clock_columns=("dated_at", "deleted_at"), allowed_modes=("days", "off"),
        default_mode="off", default_days=730, clears_activity=("comment",),
    )


KINDS = ("sick", "child_care", "vacation", "leave", "other")


def _employee(rule: str | None = None) -> Field:
    return Field("employee_id", "employee_ref", "zero", "Anställd", "Employee", rule=rule)


def _dated(name: str, table: type[Table], path: str, labels: tuple[str, str, str, str],
           rule: RetentionRule, *fields: Field, **more: Any) -> RecordSpec:
    """A dated record of one employee: listed newest date first, filtered by employee."""
    more.setdefault("filters", ("employee_id",))
    return RecordSpec(
        name=name, table=table, label_sv=labels[0], label_en=labels[1], plural_sv=labels[2],
        plural_en=labels[3], path=f"/time/{path}",
        title_column=None, can_open=own_or_admin, sort=("date", "created_at", "updated_at"),
        default_sort="-date", fields=(_employee(rule.key), *fields), rules=(rule,), **more,
    )


TIME_REPORT = _dated(
    "time_report", TimeReport, "reports", ("Tidrapport", "Time report", "Tidrapporter", "Time reports"),
    _rule(REPORTS, "Tidrapporter", "Time reports"),
    Field("comment", "free_text", "empty", "Kommentar", "Comment", rule=REPORTS),
    Field("customer_id", "customer_ref", "zero", "Kund", "Customer"),
    # Typed by the employee next to the hours (an order or project reference, or anything).
    Field("work_reference", "free_text", "empty", "Arbetsreferens", "Work reference"),
    customer_column="customer_id", filters=("employee_id", "customer_id"),
)

EXPENSE = _dated(
    "expense", Expense, "expenses", ("Utlägg", "Expense", "Utlägg", "Expenses"), _rule(EXPENSES, "Utlägg", "Expenses"),
    Field("customer_id", "customer_ref", "zero", "Kund", "Customer", rule=EXPENSES),
    Field("description", "free_text", "empty", "Beskrivning", "Description", rule=EXPENSES),
    customer_column="customer_id", filters=("employee_id", "customer_id"),
)

DEVIATION = _dated(
    "deviation", Deviation, "deviations", ("Avvikelse", "Deviation", "Avvikelser", "Deviations"),
    _rule(DEVIATIONS, "Avvikelser", "Deviations"),
    Field("comment", "free_text", "empty", "Kommentar", "Comment", rule=DEVIATIONS),
    not_personal=((("kind",), "a choice from a fixed list"),),
    filters=("employee_id", "kind"), choices=(("kind", KINDS),),
)

SHIFT = RecordSpec(
    name="shift", table=Shift, label_sv="Arbetspass", label_en="Shift",
    plural_sv="Schema", plural_en="Schedule", path="/time/shifts", title_column=None, soft_delete=False,
    can_open=shift_open, filters=("employee_id",), sort=("starts_at",), default_sort="starts_at",
    fields=(
        _employee(),
        Field("note", "free_text", "empty", "Anteckning", "Note"),
    ),
)

SPECS = (TIME_REPORT, EXPENSE, DEVIATION, SHIFT)
