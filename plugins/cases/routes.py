"""/api/cases: cases and service cases (Ärenden, Serviceärenden), the record layer's
common routes (list, create, get, edit, close, reopen, delete) and the module's settings."""

from __future__ import annotations

from typing import Any

from core.routes.records import record_router
from plugins.cases import services
from plugins.cases.schemas import CaseIn, CaseOut, CasePatch


def route_handlers() -> list[Any]:
    return [
        record_router(services.CASES, CaseIn, CasePatch, CaseOut, module=__name__),
    ]
