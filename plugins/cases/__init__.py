"""Cases and service cases (Ärenden, Serviceärenden).

Retention rules M17 (cases) and M21 (service cases) are declared in
:mod:`plugins.cases.records`; the core's engine runs them. Comments, work reports, notes and
customer conversations on a case are core activity (``/api/activity/cases/case/{id}``).
"""

from __future__ import annotations

from core.plugins import answer_from, module_hooks

describe_module, register_piccolo_apps, register_routes = module_hooks(__name__)
declare_records = answer_from(f"{__name__}.records", "RECORDS")
