"""Cases and service cases (Ärenden, Serviceärenden).

Retention rules M17 (cases) and M21 (service cases) are declared in
:mod:`plugins.cases.records`; the core's engine runs them. Comments, work reports, notes and
customer conversations on a case are core activity (``/api/activity/cases/case/{id}``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.contracts import ModuleInfo, RecordSpec
from core.plugins import hookimpl

NAME = "cases"


@hookimpl
def describe_module() -> ModuleInfo:
    return ModuleInfo(
        name=NAME,
        label_sv="Ärenden",
        label_en="Cases",
        description_sv="Ärenden och serviceärenden med kund, kontaktperson och slutkund.",
        description_en="Cases and service cases with customer, contact person and end customer.",
        area="workcloud",
    )


@hookimpl
def register_piccolo_apps() -> Sequence[str]:
    return ["plugins.cases.piccolo_app"]


@hookimpl
def register_routes() -> Sequence[Any]:
    from plugins.cases.pages import pages
    from plugins.cases.routes import route_handlers

    return [*route_handlers(), *pages()]


@hookimpl
def declare_records() -> Sequence[RecordSpec]:
    from plugins.cases.records import CASE

    return [CASE]
