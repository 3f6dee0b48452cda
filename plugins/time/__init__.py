"""Time reporting (Tid): time reports, expenses, deviations and the schedule, with
retention rules M26-M28 (declared in :mod:`plugins.time.records`). The plugin object is this
module: its @hookimpl functions.

It lives at ``plugins.time``; nothing in it imports the standard library's ``time``
module, and even if something did, absolute imports find the standard library first.
"""

from __future__ import annotations

from core.plugins import answer_from, module_hooks

NAME = "time"

describe_module, register_piccolo_apps, register_routes = module_hooks(__name__)
declare_records = answer_from(f"{__name__}.records", "SPECS")
