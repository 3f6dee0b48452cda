"""Data-subject requests (Registrerades begäranden): people's requests under articles
15-21 GDPR and the tenant's queue that answers them within the month of article 12(3).

The plugin object is this module: its hook implementations. The request is declared once,
as a record spec, in :mod:`plugins.dsr.records`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.contracts import ScheduledJob
from core.plugins import answer_from, describes, hookimpl, module_info_of, piccolo_app_of, routes_of

NAME = "dsr"


describe_module = describes(module_info_of(__name__))


register_piccolo_apps = piccolo_app_of(__name__)
register_routes = routes_of(__name__)
declare_records = answer_from(f"{__name__}.records", "RECORDS")


@hookimpl
def veto_erasure(tenant_id: int, rule: str, record_ids: list[int]) -> Any:
    """Requests still being answered are kept by an erasure (the proof of the one that asked)."""
    from plugins.dsr.services import veto_erasure as keep

    return keep(tenant_id, rule, record_ids)


@hookimpl
def register_jobs() -> Sequence[ScheduledJob]:
    """Reminders to the assignee a week and a day before a deadline; expired confirmations
    deleted."""
    from plugins.dsr.services import purge_pending, remind

    return [
        ScheduledJob(id="dsr.remind_deadlines", func=remind, minutes=60),
        ScheduledJob(id="dsr.purge_pending", func=purge_pending, minutes=60),
    ]


@hookimpl
def gdpr_overview(tenant_id: int) -> Any:
    """Open requests and their deadlines, for the GDPR overview."""
    from plugins.dsr.services import overview_panel

    return overview_panel(tenant_id)


@hookimpl
def data_requests_of(person: Any) -> Any:
    """The portal's "My personal data" page: the kinds to ask for and the person's requests."""
    from plugins.dsr.portal import desk

    return desk(person)


@hookimpl
def ask_as_portal_person(ask: Any) -> Any:
    """A logged-in portal person's request: verified at once, tied to the person."""
    from plugins.dsr.portal import ask as record

    return record(ask)
