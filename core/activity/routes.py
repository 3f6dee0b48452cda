"""``/api/activity/{plugin}/{record_type}/{record_id}``: list and add activity entries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar import Controller, get, post
from litestar.exceptions import ClientException, NotFoundException, PermissionDeniedException
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_409_CONFLICT

from core.activity.service import (
    MAX_BODY,
    NOT_WRITABLE,
    ActivityError,
    add_activity,
    list_activity,
    may_open,
)
from core.auth import SessionUser
from core.listing import Offset, Page, Sort, UpdatedSince, changed_since
from core.validation import FieldError
from core.web import AuthUser

Limit = Annotated[int, QueryParameter(ge=1, le=500)]
Kind = Literal["comment", "work_report", "note", "conversation"]


class ActivityIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: Kind
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_BODY)]


class ActivityOut(msgspec.Struct):
    id: int
    plugin: str
    record_type: str
    record_id: int
    kind: str
    body: str
    author_id: int | None
    author_name: str
    created_at: datetime


class ActivityPage(Page):
    items: list[ActivityOut]


ACTIVITY_SORT = Sort("created_at", default="created_at")
"""Entries are ordered by time only (ties by id): ``-created_at`` for newest first."""


def _out(r: dict) -> ActivityOut:
    return ActivityOut(
        id=r["id"],
        plugin=r["plugin"],
        record_type=r["record_type"],
        record_id=r["record_id"],
        kind=r["kind"],
        body=r["body"],
        author_id=r["author_id"],
        author_name=r["author_name"],
        created_at=r["created_at"],
    )


async def check_record(
    user: SessionUser, plugin: str, record_type: str, record_id: int, write: bool = False
) -> dict:
    """The record behind an activity path, when the user may open it, else 404.

    404 for an unknown plugin or type, a module the organization turned off, a record of
    another organization, and a record the user may not open (the type's ``can_open``
    says no, or the type declares none): the same answer as for an id that does not exist,
    so the activity routes do not tell which records exist. A user who may see the record
    but not change it gets 403 when adding an entry.
    """
    from core.gdpr.registry import get_declarations
    from core.plugins import get_host
    from core.tenancy import enabled_modules, get_scoped

    if not 0 < record_id < 2**31:  # ids are 32-bit; a bigger one must be a 404, not a 500
        raise NotFoundException(f"There is no record {record_id}.")
    rt = get_declarations().record_types.get((plugin, record_type))
    if rt is None:
        raise NotFoundException(f"There is no record type {record_type!r} in {plugin!r}.")
    host = get_host()
    if plugin in host.modules() and plugin not in await enabled_modules(host, user.tenant_id):
        raise NotFoundException(f"The module {plugin!r} is not enabled for this organization")
    what = rt.label_en or record_type
    record = await get_scoped(rt.table, user.tenant_id, record_id, what)
    if not await may_open(user, plugin, record_type, record, False):
        # word for word get_scoped's answer for a missing id
        raise NotFoundException(f"{what} {record_id} was not found")
    if write and not await may_open(user, plugin, record_type, record, True):
        raise PermissionDeniedException(NOT_WRITABLE)
    return record


class ActivityController(Controller):
    path = "/api/activity/{plugin:str}/{record_type:str}/{record_id:int}"
    tags = ("activity",)

    @get("/")
    async def list_entries(
        self,
        user: AuthUser,
        plugin: FromPath[str],
        record_type: FromPath[str],
        record_id: FromPath[int],
        offset: Offset = 0,
        limit: Limit = 100,
        kind: Annotated[Kind | None, QueryParameter()] = None,
        sort: Annotated[str | None, ACTIVITY_SORT.query] = None,
        updated_since: UpdatedSince = None,
    ) -> ActivityPage:
        """The record's comments, notes, work reports and conversation messages, oldest first.

        ``updated_since``: entries written since then (entries are never edited; the
        record's anonymization removes them)."""
        await check_record(user, plugin, record_type, record_id)
        since = changed_since(updated_since) if updated_since is not None else None
        ((_, newest_first),) = ACTIVITY_SORT.parse(sort)
        total, rows = await list_activity(
            user.tenant_id, plugin, record_type, record_id, [kind] if kind else None, offset, limit,
            newest_first=newest_first, since=since,
        )
        return ActivityPage(total=total, offset=offset, limit=limit, items=[_out(r) for r in rows])

    @post("/", status_code=HTTP_201_CREATED)
    async def add_entry(
        self,
        user: AuthUser,
        plugin: FromPath[str],
        record_type: FromPath[str],
        record_id: FromPath[int],
        data: JSONBody[ActivityIn],
    ) -> ActivityOut:
        """Add an entry written by the logged-in user."""
        from core.db import atomic

        async with atomic():
            record = await check_record(user, plugin, record_type, record_id, write=True)
            if record.get("anonymized_at") is not None:
                raise ClientException(
                    "This record has been anonymized; nothing can be added to it.",
                    status_code=HTTP_409_CONFLICT,
                )
            try:
                row = await add_activity(
                    user.tenant_id,
                    plugin,
                    record_type,
                    record_id,
                    data.kind,
                    data.body,
                    user.employee_id,
                    user.name,
                )
            except ActivityError as exc:
                raise FieldError(exc.field, exc.message) from exc
        return _out(row)
