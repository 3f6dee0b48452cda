"""Adding, listing and clearing activity entries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from core.activity.tables import Activity
from core.db import raw, utcnow
from core.errors import _

ACTIVITY_KINDS = ("comment", "work_report", "note", "conversation")
MAX_BODY = 20_000


NOT_WRITABLE = _("You may see this record but not change it, so you cannot add to its activity.")


async def may_open(user: Any, plugin: str, record_type: str, record: dict, write: bool) -> bool:
    """Whether ``user`` may open ``record`` (a row of the tenant) of this record type: read
    its activity, or with ``write`` add to it. The type's ``RecordType.can_open``, declared
    by the plugin that owns it, answers; a type without one (or unknown) is refused."""
    from core.gdpr.registry import get_declarations
    from core.plugins import await_me_maybe

    rt = get_declarations().record_types.get((plugin, record_type))
    if rt is None or rt.can_open is None:
        return False  # fail closed: nobody said who may open it
    return await await_me_maybe(rt.can_open(user, record, write)) is True


class ActivityError(ValueError):
    """Bad input for an activity entry (unknown kind, empty or too long text)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


async def add_activity(
    tenant_id: int,
    plugin: str,
    record_type: str,
    record_id: int,
    kind: str,
    body: str,
    author_id: int | None,
    author_name: str,
) -> dict[str, Any]:
    """Attach an entry to a record; returns the stored row.

    The caller vouches that the record exists in the tenant (the HTTP API checks it).
    Runs in the caller's transaction when there is one.
    """
    if kind not in ACTIVITY_KINDS:
        raise ActivityError("kind", f"must be one of {', '.join(ACTIVITY_KINDS)}")
    if not body or not body.strip():
        raise ActivityError("body", "write something")
    if len(body) > MAX_BODY:
        raise ActivityError("body", f"at most {MAX_BODY} characters")
    rows = await Activity.insert(
        Activity(
            tenant_id=tenant_id,
            plugin=plugin,
            record_type=record_type,
            record_id=record_id,
            kind=kind,
            body=body,
            author_id=author_id,
            author_name=(author_name or "")[:200],
            created_at=utcnow(),
        )
    ).returning(*Activity.all_columns())
    return rows[0]


async def list_activity(
    tenant_id: int,
    plugin: str,
    record_type: str,
    record_id: int,
    kinds: Sequence[str] | None = None,
    offset: int = 0,
    limit: int = 100,
    *,
    newest_first: bool = False,
    since: datetime | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """Entries of one record, oldest first (or newest first), and how many there are in
    all; ``since``: only entries written at or after it (entries are never edited)."""
    where = (
        (Activity.tenant_id == tenant_id)
        & (Activity.plugin == plugin)
        & (Activity.record_type == record_type)
        & (Activity.record_id == record_id)
    )
    if kinds:
        where = where & Activity.kind.is_in(list(kinds))
    if since is not None:
        where = where & (Activity.created_at >= since)
    total = await Activity.count().where(where)
    rows = (
        await Activity.select()
        .where(where)
        .order_by(Activity.created_at, ascending=not newest_first)
        .order_by(Activity.id, ascending=not newest_first)
        .offset(offset)
        .limit(limit)
    )
    return total, rows


async def clear_activity(
    tenant_id: int,
    plugin: str,
    record_type: str,
    record_ids: Sequence[int],
    kinds: Sequence[str],
    count: bool = True,
) -> int | None:
    """Delete the entries of exactly these kinds attached to these records (set-based).

    Returns how many were deleted, or None with ``count=False``: the engine does not need
    the number, and ``RETURNING`` on a large DELETE costs SQLite nearly half the statement.
    """
    from core.gdpr.sql import ids_in, q, strs_in

    if not record_ids or not kinds:
        return 0
    id_sql, id_args = ids_in(q("record_id"), record_ids)
    kind_sql, kind_args = strs_in(q("kind"), kinds)
    rows = await raw(
        f"DELETE FROM {q('activity')} WHERE {q('tenant_id')} = {{}} AND {q('plugin')} = {{}} "
        f"AND {q('record_type')} = {{}} AND {kind_sql} AND {id_sql}"
        + (f" RETURNING {q('id')}" if count else ""),
        tenant_id,
        plugin,
        record_type,
        *kind_args,
        *id_args,
    )
    return len(rows) if count else None
