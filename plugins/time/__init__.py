"""Time reporting (Tid): time reports, expenses, deviations and the schedule, with
retention rules M26-M28. The plugin object is this module: its @hookimpl functions.

It lives at ``plugins.time``; nothing in it imports the standard library's ``time``
module, and even if something did, absolute imports find the standard library first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.contracts import (
    ModuleInfo,
    NotPersonal,
    PersonalDataField,
    RecordType,
    RetentionRule,
    SearchSource,
)
from core.plugins import hookimpl

NAME = "time"


@hookimpl
def describe_module() -> ModuleInfo:
    return ModuleInfo(
        name=NAME,
        label_sv="Tid",
        label_en="Time",
        description_sv="Tidrapporter, utlägg, avvikelser och schema.",
        description_en="Time reports, expenses, deviations and the schedule.",
        area="time",
    )


@hookimpl
def register_piccolo_apps() -> Sequence[str]:
    return ["plugins.time.piccolo_app"]


@hookimpl
def register_routes() -> Sequence[Any]:
    from core.gdpr.routes import module_settings_router
    from plugins.time.pages import pages
    from plugins.time.routes import (
        DeviationsController,
        ExpensesController,
        ShiftsController,
        TimeReportsController,
    )

    return [
        TimeReportsController,
        ExpensesController,
        DeviationsController,
        ShiftsController,
        module_settings_router(NAME),
        *pages(),
    ]


@hookimpl
def declare_personal_data() -> Sequence[PersonalDataField | NotPersonal]:
    from plugins.time.gdpr import FIELDS, NOT_PERSONAL, TEXT_FIELDS

    return [*FIELDS, *TEXT_FIELDS, *NOT_PERSONAL]


@hookimpl
def declare_retention_rules() -> Sequence[RetentionRule]:
    from plugins.time.gdpr import RULES

    return RULES


@hookimpl
def declare_record_types() -> Sequence[RecordType]:
    from plugins.time.gdpr import RECORD_TYPES

    return RECORD_TYPES


@hookimpl
def declare_search_sources() -> Sequence[SearchSource]:
    from plugins.time.gdpr import SEARCH_SOURCES

    return SEARCH_SOURCES
