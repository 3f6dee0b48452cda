"""Time reporting (Tid): time reports, expenses, deviations and the schedule, with
retention rules M26-M28 (declared in :mod:`plugins.time.records`). The plugin object is this
module: its @hookimpl functions.

It lives at ``plugins.time``; nothing in it imports the standard library's ``time``
module, and even if something did, absolute imports find the standard library first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.plugins import answer_from, describes, hookimpl, module_info_of, piccolo_app_of

NAME = "time"

describe_module = describes(module_info_of(__name__))
register_piccolo_apps = piccolo_app_of(__name__)
declare_records = answer_from(f"{__name__}.records", "SPECS")


@hookimpl
def register_routes() -> Sequence[Any]:
    """The module's routes and pages, and its settings (the core's module-settings router)."""
    from core.gdpr.routes import module_settings_router
    from plugins.time.pages import pages
    from plugins.time.routes import route_handlers

    return [*route_handlers(), module_settings_router(NAME), *pages()]
