"""The event log (who did what, M23) and the system log (logins, errors, M24).

Both are personal data and obey fixed retention rules the core declares in
core/builtin.py: after 30 days an event loses its IP, e-mail and user name; after
90 days a system-log row is deleted. Neither log ever stores a password, code, token or
a personal-data value in ``action``/``detail``: those fields name what happened, not to
whom or with what value.
"""

from __future__ import annotations

import logging
from typing import Any

from piccolo.columns import Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.context import current_actor
from core.db import utcnow

log = logging.getLogger(__name__)

SYSTEM_KINDS = ("login", "login_failed", "logout", "error")


class EventLog(Table, tablename="event_log"):
    """What a person did to which record. user_name, email and ip are cleared after 30 days."""

    tenant_id = Integer(index=True)
    at = Timestamptz(default=TimestamptzNow())
    employee_id = Integer(null=True, default=None)
    user_name = Varchar(length=200, null=True, default=None)
    email = Varchar(length=254, null=True, default=None)
    ip = Varchar(length=64, null=True, default=None)
    action = Varchar(length=63)
    plugin = Varchar(length=63, default="")
    record_type = Varchar(length=63, default="")
    record_id = Integer(null=True, default=None)
    # A keyed hash of what was looked up (a person search), never the value in clear.
    detail = Varchar(length=64, default="")
    anonymized_at = Timestamptz(null=True, default=None)


class SystemLog(Table, tablename="system_log"):
    """Logins, failed logins, logouts and error codes. Rows are deleted after 90 days.

    Failed logins for an organization that does not exist are kept under tenant_id 0,
    which the schedule sweeps too.
    """

    tenant_id = Integer(index=True)
    at = Timestamptz(default=TimestamptzNow())
    kind = Varchar(length=16)
    code = Varchar(length=32, default="")
    detail = Varchar(length=500, default="")
    employee_id = Integer(null=True, default=None)


LOG_TABLES: list[type[Table]] = [EventLog, SystemLog]


_FROM_CONTEXT: Any = object()


async def log_event(
    tenant_id: int,
    user: Any = _FROM_CONTEXT,
    action: str = "",
    plugin: str = "",
    record_type: str = "",
    record_id: int | None = None,
    ip: str | None = None,
    detail: str = "",
) -> None:
    """Record that ``user`` (a core.auth.SessionUser, or None for the system) did ``action``.

    Without ``user`` (and ``ip``) the acting person of the context is taken
    (:func:`core.context.current_actor`): the request's employee, the CLI's or a job's actor.
    ``action`` is a short verb phrase such as "customer.deleted"; never put a value the
    person typed into it. Runs in the caller's transaction when there is one.
    """
    await event_row_insert(event_values(tenant_id, user, action, plugin, record_type, record_id, ip, detail))


def event_values(
    tenant_id: int,
    user: Any = _FROM_CONTEXT,
    action: str = "",
    plugin: str = "",
    record_type: str = "",
    record_id: Any = None,
    ip: str | None = None,
    detail: str = "",
) -> dict[str, Any]:
    """The column values of :func:`log_event`'s row (see there)."""
    if user is _FROM_CONTEXT:
        actor = current_actor()
        user = actor
        if ip is None and actor is not None:
            ip = actor.ip
    return {
        "tenant_id": tenant_id,
        "at": utcnow(),
        "employee_id": getattr(user, "employee_id", None),
        "user_name": (getattr(user, "name", None) or None) and str(user.name)[:200],
        "email": (getattr(user, "email", None) or None) and str(user.email)[:254],
        "ip": (ip or None) and ip[:64],
        "action": action[:63],
        "plugin": plugin[:63],
        "record_type": record_type[:63],
        "record_id": record_id,
        "detail": detail[:64],
    }


def event_row_insert(values: dict[str, Any]) -> Any:
    """The INSERT of an event row made by :func:`event_values`, not run (a Piccolo query):
    its ``record_id`` may be a subquery, for a caller that writes the record and its event
    in one statement."""
    return EventLog.insert(EventLog(**values))


async def log_system(
    tenant_id: int | None,
    kind: str,
    code: str | int = "",
    detail: str = "",
    employee_id: int | None = None,
) -> None:
    """Record a login, failed login, logout or error. ``detail`` must hold no personal data.

    A failure to write the log is logged and swallowed: logging must never turn a
    successful login into an error.
    """
    if kind not in SYSTEM_KINDS:
        raise ValueError(f"system log kind must be one of {SYSTEM_KINDS}")
    try:
        await SystemLog.insert(
            SystemLog(
                tenant_id=tenant_id or 0,
                at=utcnow(),
                kind=kind,
                code=str(code)[:32],
                detail=detail[:500],
                employee_id=employee_id,
            )
        )
    except Exception:
        log.exception("could not write the system log (%s)", kind)
