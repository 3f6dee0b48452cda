"""What is the cases module's own: the fields of a case and how they are cleaned.

Everything else a case does (tenant scope, numbering, read-only history, reference
checks, close/reopen, soft delete, the event log) is the record layer's
(:class:`core.records.RecordService`).
"""

from __future__ import annotations

from typing import Any

from core.errors import REQUIRED, Checks
from core.records import RecordService
from core.validation import FieldError, normalize_email, normalize_phone
from plugins.cases.records import CASE
from plugins.cases.schemas import CaseIn, CasePatch

CASES = RecordService(CASE, "cases")


def _values(data: CaseIn | CasePatch) -> dict[str, Any]:
    """The given fields as column values, trimmed and in their stored formats."""
    given = {k: getattr(data, k) for k in data.__struct_fields__ if k != "number"}
    values = {k: v for k, v in given.items() if v is not None or isinstance(data, CaseIn)}
    checks = Checks()  # every bad field refused together
    if "title" in values:
        values["title"] = values["title"].strip()
        if not values["title"]:
            checks.add(FieldError("title", REQUIRED, code="case.title_required"))
    for k in ("end_customer_name", "end_customer_address"):
        if values.get(k) is not None:
            values[k] = values[k].strip()
    if "end_customer_phone" in values:
        values["end_customer_phone"] = checks(normalize_phone, values["end_customer_phone"], "end_customer_phone")
    if "end_customer_email" in values:
        values["end_customer_email"] = checks(normalize_email, values["end_customer_email"], "end_customer_email")
    checks.done()
    return values


@CASES.creates
async def create_case(tenant_id: int, employee_id: int, data: CaseIn) -> dict[str, Any]:
    values = _values(data) | {"created_by": employee_id}
    return await CASES.create(tenant_id, values, number=data.number)


@CASES.edits
async def edit_case(tenant_id: int, case_id: int, data: CasePatch) -> dict[str, Any]:
    return await CASES.edit(tenant_id, case_id, _values(data), number=data.number)
