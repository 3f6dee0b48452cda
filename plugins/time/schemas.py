"""Request and response shapes of the time API (the public contract).

Hours and amounts travel as decimal numbers; responses write them as strings ("7.50").
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

import msgspec

MAX_ID = 2_147_483_647
EmployeeId = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
RefId = Annotated[int, msgspec.Meta(ge=0, le=MAX_ID)]
Comment = Annotated[str, msgspec.Meta(max_length=5000)]
Reference = Annotated[str, msgspec.Meta(max_length=100)]
Description = Annotated[str, msgspec.Meta(max_length=500)]
DeviationKind = Literal["sick", "child_care", "vacation", "leave", "other"]


class TimeReportIn(msgspec.Struct, forbid_unknown_fields=True):
    date: date
    hours: Decimal
    customer_id: RefId = 0
    work_reference: Reference = ""
    comment: Comment = ""
    # left out: the one who sends it (an administrator may name any employee)
    employee_id: EmployeeId | None = None


class TimeReportPatch(msgspec.Struct, forbid_unknown_fields=True):
    employee_id: EmployeeId | None = None
    date: date | None = None
    hours: Decimal | None = None
    customer_id: RefId | None = None
    work_reference: Reference | None = None
    comment: Comment | None = None


class TimeReportOut(msgspec.Struct):
    id: int
    employee_id: int
    date: date
    hours: Decimal
    customer_id: int
    work_reference: str
    comment: str
    created_at: datetime
    deleted_at: datetime | None
    anonymized_at: datetime | None


class ExpenseIn(msgspec.Struct, forbid_unknown_fields=True):
    date: date
    amount: Decimal
    customer_id: RefId = 0
    description: Description = ""
    # left out: the one who sends it (an administrator may name any employee)
    employee_id: EmployeeId | None = None


class ExpensePatch(msgspec.Struct, forbid_unknown_fields=True):
    employee_id: EmployeeId | None = None
    date: date | None = None
    amount: Decimal | None = None
    customer_id: RefId | None = None
    description: Description | None = None


class ExpenseOut(msgspec.Struct):
    id: int
    employee_id: int
    customer_id: int
    date: date
    amount: Decimal
    description: str
    created_at: datetime
    deleted_at: datetime | None
    anonymized_at: datetime | None


class DeviationIn(msgspec.Struct, forbid_unknown_fields=True):
    date: date
    kind: DeviationKind
    comment: Comment = ""
    # left out: the one who sends it (an administrator may name any employee)
    employee_id: EmployeeId | None = None


class DeviationPatch(msgspec.Struct, forbid_unknown_fields=True):
    employee_id: EmployeeId | None = None
    date: date | None = None
    kind: DeviationKind | None = None
    comment: Comment | None = None


class DeviationOut(msgspec.Struct):
    id: int
    employee_id: int
    date: date
    kind: str
    comment: str
    created_at: datetime
    deleted_at: datetime | None
    anonymized_at: datetime | None


class ShiftIn(msgspec.Struct, forbid_unknown_fields=True):
    employee_id: EmployeeId
    starts_at: datetime
    ends_at: datetime
    note: Description = ""


class ShiftPatch(msgspec.Struct, forbid_unknown_fields=True):
    employee_id: EmployeeId | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    note: Description | None = None


class ShiftOut(msgspec.Struct):
    id: int
    employee_id: int
    starts_at: datetime
    ends_at: datetime
    note: str


class TimeReportPage(msgspec.Struct):
    total: int
    offset: int
    limit: int
    items: list[TimeReportOut]


class ExpensePage(msgspec.Struct):
    total: int
    offset: int
    limit: int
    items: list[ExpenseOut]


class DeviationPage(msgspec.Struct):
    total: int
    offset: int
    limit: int
    items: list[DeviationOut]


class ShiftPage(msgspec.Struct):
    total: int
    offset: int
    limit: int
    items: list[ShiftOut]


class HoursTotal(msgspec.Struct):
    count: int
    hours: Decimal


class AmountTotal(msgspec.Struct):
    count: int
    amount: Decimal
