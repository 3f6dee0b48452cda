"""Time reporting (Tid): time reports, expenses, deviations and the schedule, with
retention rules M26-M28 (declared in :mod:`plugins.time.records`). The plugin object is this
module: its @hookimpl functions.

It lives at ``plugins.time``; nothing in it imports the standard library's ``time``
module, and even if something did, absolute imports find the standard library first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.contracts import ModuleInfo, RecordSpec
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
    from plugins.time.routes import route_handlers

    return [*route_handlers(), module_settings_router(NAME), *pages()]


@hookimpl
def declare_records() -> Sequence[RecordSpec]:
    from plugins.time.records import SPECS

    return list(SPECS)
