"""Cases and service cases (Ärenden, Serviceärenden).

Retention rules M17 (cases) and M21 (service cases) are declared in
:mod:`plugins.cases.records`; the core's engine runs them. Comments, work reports, notes and
customer conversations on a case are core activity (``/api/activity/cases/case/{id}``).
"""

from __future__ import annotations

from core.contracts import ModuleInfo
from core.plugins import answer_from, describes, piccolo_app_of, routes_of

NAME = "cases"

describe_module = describes(
    ModuleInfo(
        name=NAME,
        label_sv="Ärenden",
        label_en="Cases",
        description_sv="Ärenden och serviceärenden med kund, kontaktperson och slutkund.",
        description_en="Cases and service cases with customer, contact person and end customer.",
        area="workcloud",
    )
)
register_piccolo_apps = piccolo_app_of(__name__)
register_routes = routes_of(__name__)
declare_records = answer_from(f"{__name__}.records", "RECORDS")
