"""Request and response shapes of the time API (the public contract).

Hours and amounts travel as decimal numbers; responses write them as strings ("7.50").
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

import msgspec

from core.records.shapes import patch_of

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


class TimeReportPatch(patch_of(TimeReportIn)):  # type: ignore[misc]
    pass


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


class ExpensePatch(patch_of(ExpenseIn)):  # type: ignore[misc]
    pass


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


class DeviationPatch(patch_of(DeviationIn)):  # type: ignore[misc]
    pass


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


class ShiftPatch(patch_of(ShiftIn)):  # type: ignore[misc]
    pass


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
