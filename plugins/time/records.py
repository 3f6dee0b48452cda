"""Time reporting's records, declared once: time reports, expenses, deviations and shifts
(M26-M28).

M26 time reports, M27 deviations, M28 expenses: N days after the record's date, or N
days after it was deleted, the link to the employee (and for expenses to the customer) and
the comments or description are cleared. Hours and amounts stay, so totals per period
remain correct.

Decisions worth knowing:

* The rules offer "after N days" and "off", not "immediately": their clock is the record's
  date, so "immediately" would anonymize every report of the past the moment it was chosen.
* The specs keep the API links the records always had (``/api/time/reports/{id}`` ...)
  through ``link``; they have no ``path`` yet because time's routes and pages are its own
  (the list filters by employee and date, the totals, the schedule), not the generated ones.
* Access: an employee opens their own reports, expenses and deviations, an administrator
  everybody's (:func:`own_or_admin`); everybody sees the schedule, an administrator plans
  it (:func:`shift_open`).
* A time report's ``customer_id`` is not in M26, but the core zeroes it when the customer
  is anonymized. The schedule has no retention rule of its own; anonymizing the employee
  zeroes its shifts.
"""

from __future__ import annotations

from typing import Any

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


def _link(path: str):  # type: ignore[no-untyped-def]
    return lambda record_id: f"/api/time/{path}/{record_id}"


EMPLOYEE = ("employee_id", "employee_ref", "zero", "Anställd", "Employee")

TIME_REPORT = RecordSpec(
    name="time_report", table=TimeReport, label_sv="Tidrapport", label_en="Time report",
    plural_sv="Tidrapporter", plural_en="Time reports", title_column=None,
    link=_link("reports"), can_open=own_or_admin,
    fields=(
        Field(*EMPLOYEE, rule=REPORTS),
        Field("comment", "free_text", "empty", "Kommentar", "Comment", rule=REPORTS),
        Field("customer_id", "customer_ref", "zero", "Kund", "Customer"),
        # Typed by the employee next to the hours (an order or project reference, or anything).
        Field("work_reference", "free_text", "empty", "Arbetsreferens", "Work reference"),
    ),
    rules=(_rule(REPORTS, "Tidrapporter", "Time reports"),),
)

EXPENSE = RecordSpec(
    name="expense", table=Expense, label_sv="Utlägg", label_en="Expense",
    plural_sv="Utlägg", plural_en="Expenses", title_column=None,
    link=_link("expenses"), can_open=own_or_admin,
    fields=(
        Field(*EMPLOYEE, rule=EXPENSES),
        Field("customer_id", "customer_ref", "zero", "Kund", "Customer", rule=EXPENSES),
        Field("description", "free_text", "empty", "Beskrivning", "Description", rule=EXPENSES),
    ),
    rules=(_rule(EXPENSES, "Utlägg", "Expenses"),),
)

DEVIATION = RecordSpec(
    name="deviation", table=Deviation, label_sv="Avvikelse", label_en="Deviation",
    plural_sv="Avvikelser", plural_en="Deviations", title_column=None,
    link=_link("deviations"), can_open=own_or_admin,
    fields=(
        Field(*EMPLOYEE, rule=DEVIATIONS),
        Field("comment", "free_text", "empty", "Kommentar", "Comment", rule=DEVIATIONS),
    ),
    not_personal=((("kind",), "a choice from a fixed list"),),
    rules=(_rule(DEVIATIONS, "Avvikelser", "Deviations"),),
)

SHIFT = RecordSpec(
    name="shift", table=Shift, label_sv="Arbetspass", label_en="Shift",
    plural_sv="Schema", plural_en="Schedule", title_column=None, soft_delete=False,
    link=_link("shifts"), can_open=shift_open,
    fields=(
        Field(*EMPLOYEE),
        Field("note", "free_text", "empty", "Anteckning", "Note"),
    ),
)

SPECS = (TIME_REPORT, EXPENSE, DEVIATION, SHIFT)
