"""What of time reporting is personal data, and rules M26-M28.

M26 time reports, M27 deviations, M28 expenses: N days after the record's date, or N
days after it was deleted, the link to the employee (and for expenses to the customer) and
the comments or description are cleared. Hours and amounts stay, so totals per period
remain correct.

The rules offer "after N days" and "off", not "immediately": their clock is the record's
date, so "immediately" would anonymize every report of the past the moment it was chosen.
"""

from __future__ import annotations

from core.contracts import NotPersonal, PersonalDataField, RecordType, RetentionRule, SearchSource
from typing import Any

from plugins.time.tables import Deviation, Expense, Shift, TimeReport

AREA = "time"
REPORTS, EXPENSES, DEVIATIONS = "time_reports", "time_expenses", "time_deviations"
PLACES = {
    TimeReport: ("Tidrapporter", "Time reports", "time_report", "/api/time/reports/{}"),
    Expense: ("Utlägg", "Expenses", "expense", "/api/time/expenses/{}"),
    Deviation: ("Avvikelser", "Deviations", "deviation", "/api/time/deviations/{}"),
    Shift: ("Schema", "Schedule", "shift", "/api/time/shifts/{}"),
}

FIELDS: list[PersonalDataField] = [
    PersonalDataField(TimeReport, "employee_id", "employee_ref", "zero", "Anställd", "Employee", rule=REPORTS),
    PersonalDataField(TimeReport, "comment", "free_text", "empty", "Kommentar", "Comment", rule=REPORTS),
    # Not in M26, but zeroed by the core when the customer is anonymized.
    PersonalDataField(TimeReport, "customer_id", "customer_ref", "zero", "Kund", "Customer"),
    PersonalDataField(Deviation, "employee_id", "employee_ref", "zero", "Anställd", "Employee", rule=DEVIATIONS),
    PersonalDataField(Deviation, "comment", "free_text", "empty", "Kommentar", "Comment", rule=DEVIATIONS),
    PersonalDataField(Expense, "employee_id", "employee_ref", "zero", "Anställd", "Employee", rule=EXPENSES),
    PersonalDataField(Expense, "customer_id", "customer_ref", "zero", "Kund", "Customer", rule=EXPENSES),
    PersonalDataField(Expense, "description", "free_text", "empty", "Beskrivning", "Description", rule=EXPENSES),
    # The schedule has no retention rule of its own; employee anonymization zeroes it.
    PersonalDataField(Shift, "employee_id", "employee_ref", "zero", "Anställd", "Employee"),
    PersonalDataField(Shift, "note", "free_text", "empty", "Anteckning", "Note"),
]

# Typed by the employee next to the hours (an order or project reference, or anything).
TEXT_FIELDS: list[PersonalDataField] = [
    PersonalDataField(TimeReport, "work_reference", "free_text", "empty", "Arbetsreferens",
                      "Work reference"),
]
NOT_PERSONAL: list[NotPersonal] = [NotPersonal(Deviation, ("kind",), "a choice from a fixed list")]


def _rule(key: str, sv: str, en: str, table: type, record_type: str) -> RetentionRule:
    return RetentionRule(
        key=key,
        label_sv=sv,
        label_en=en,
        clock=("dated", "deleted"),
        table=table,
        clock_columns=("dated_at", "deleted_at"),
        allowed_modes=("days", "off"),
        default_mode="off",
        default_days=730,
        clears_activity=("comment",),
        record_type=record_type,
    )


RULES: list[RetentionRule] = [
    _rule(REPORTS, "Tidrapporter", "Time reports", TimeReport, "time_report"),
    _rule(DEVIATIONS, "Avvikelser", "Deviations", Deviation, "deviation"),
    _rule(EXPENSES, "Utlägg", "Expenses", Expense, "expense"),
]


def _link(table: type):  # type: ignore[no-untyped-def]
    template = PLACES[table][3]
    return lambda record_id: template.format(record_id)


def own_or_admin(user: Any, record: dict[str, Any], write: bool) -> bool:
    """``RecordType.can_open`` of reports, expenses and deviations: like their routes
    (services.check_own), an employee opens their own, an administrator everybody's."""
    return bool(user.is_admin) or int(record["employee_id"]) == user.employee_id


def shift_open(user: Any, record: dict[str, Any], write: bool) -> bool:
    """``RecordType.can_open`` of shifts: everybody sees the schedule, an administrator
    plans it (routes._planner)."""
    return bool(user.is_admin) or not write


RECORD_TYPES: list[RecordType] = [
    RecordType(PLACES[t][2], t, sv_label, en_label, link=_link(t), can_open=can_open)
    for t, sv_label, en_label, can_open in (
        (TimeReport, "Tidrapport", "Time report", own_or_admin),
        (Expense, "Utlägg", "Expense", own_or_admin),
        (Deviation, "Avvikelse", "Deviation", own_or_admin),
        (Shift, "Arbetspass", "Shift", shift_open),
    )
]

SEARCH_SOURCES: list[SearchSource] = [
    SearchSource(
        f.table, f.column, f.category, AREA, PLACES[f.table][0], PLACES[f.table][1],
        link=_link(f.table), record_type=PLACES[f.table][2],
    )
    for f in [*FIELDS, *TEXT_FIELDS]
]
