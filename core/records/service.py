"""The shared behaviour of a plugin's records, once, from its :class:`RecordSpec`.

Every business record (a case, a work order, an order, a quote, a project...) is read,
listed, created, edited, closed, reopened and deleted the same way:

* everything is filtered on the tenant; another tenant's id is "not found", like a missing
  one (:class:`~core.errors.NotFound`);
* deleted and anonymized records are history: readable, never changed
  (:class:`~core.errors.Conflict`);
* a customer and contact person named by a record exist in the organization and the contact
  belongs to the customer (:func:`core.references.check_party`);
* the record's number is the tenant's highest + 1 unless given, and a given one is free;
* a soft delete starts the retention clock and anonymizes at once when the tenant chose
  "immediately" for the record's rule;
* the event log (M23) records who did it, from the acting person of the context
  (:mod:`core.context`), so a page, the API, the CLI and a worker log the same event.

A plugin validates its own fields (it knows what a title or an amount is) and hands the
service the column values; what the service does is the same for all.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from piccolo.querystring import QueryString
from piccolo.table import Table

from core.contracts import RecordSpec
from core.db import (
    atomic,
    contains_text,
    indexes_itself,
    is_sqlite,
    new_rows_index,
    notes_waiting,
    raw_query,
    utcnow,
)
from core.errors import (
    NUMBER_TAKEN,
    RECORD_ALREADY_CLOSED,
    RECORD_ANONYMIZED,
    RECORD_DELETED,
    RECORD_NOT_CLOSED,
    RECORD_NOT_FOUND,
    UNKNOWN_CHOICE,
    Conflict,
    Invalid,
    Label,
    NotFound,
)
from core.errors import mark as _
from core.eventlog import EventLog, event_row_insert, event_values, log_event
from core.numbering import can_take_number, lock_numbers, next_number_sql, take_number
from core.references import check_party

T = TypeVar("T")
W = TypeVar("W", bound=Callable[..., Awaitable[dict[str, Any]]])




BAD_SORT = _("Sort by one of: %(choices)s (a leading - sorts in descending order).")
NAIVE_TIME = _("Include the time zone, e.g. 2026-05-04T07:00:00+02:00.")


class RecordService:
    """get / list / create / edit / close / reopen / delete of one record spec."""

    def __init__(self, spec: RecordSpec, plugin: str, *, codes: str = ""):
        """``codes``: the prefix of this record's refusal codes (:meth:`code`); by default
        the spec's name. A record that had codes of its own before it moved onto the layer
        keeps them ("privacy.incident" for "privacy.incident.deleted")."""
        self.spec = spec
        self.plugin = plugin
        self.codes = codes or spec.name
        self.table: type[Table] = spec.table
        self.what = Label(spec.label_en)
        # the advisory-lock class of this numbering (PostgreSQL), stable across processes
        self.number_lock = zlib.crc32(f"{plugin}.{spec.name}".encode()) & 0x7FFFFFFF
        # The plugin's own create and edit (its checks and derived values around create and
        # edit below), named once, with ``@SERVICE.creates`` / ``@SERVICE.edits`` on them:
        # the API (core.routes.records) and the pages (core.pages.records) both call them.
        self.create_record: Callable[[int, int, Any], Awaitable[dict[str, Any]]] | None = None
        self.edit_record: Callable[[int, int, Any], Awaitable[dict[str, Any]]] | None = None

    def creates(self, fn: W) -> W:
        """Decorator: ``fn(tenant_id, employee_id, data)`` is how a record of this spec is made."""
        self.create_record = fn
        return fn

    def edits(self, fn: W) -> W:
        """Decorator: ``fn(tenant_id, record_id, data)`` is how a record of this spec is changed."""
        self.edit_record = fn
        return fn

    # -- helpers --------------------------------------------------------------------------
    def col(self, name: str) -> Any:
        column = self.table._meta.get_column_by_name(name)
        if column is None:
            raise KeyError(f"{self.table._meta.tablename} has no column {name!r}")
        return column

    def has(self, name: str) -> bool:
        return any(c._meta.name == name for c in self.table._meta.columns)

    def where_own(self, tenant_id: int, record_id: int) -> Any:
        return (self.col("tenant_id") == tenant_id) & (self.table._meta.primary_key == record_id)

    def code(self, what: str) -> str:
        """A stable machine code of this record's refusals ("case.not_found"), under the
        service's ``codes`` prefix."""
        return f"{self.codes}.{what}"

    def number_of(self, row: dict[str, Any]) -> Any:
        return row.get(self.spec.number_column) if self.spec.number_column else row["id"]

    async def log(self, tenant_id: int, action: str, record_id: int) -> None:
        await log_event(
            tenant_id, action=f"{self.spec.name}.{action}", plugin=self.plugin,
            record_type=self.spec.name, record_id=record_id,
        )

    # -- reading --------------------------------------------------------------------------
    async def get(self, tenant_id: int, record_id: int) -> dict[str, Any]:
        """The tenant's record, or 404 (also for another tenant's id)."""
        row = await self.table.select().where(self.where_own(tenant_id, record_id)).first()
        if row is None:
            raise NotFound(RECORD_NOT_FOUND, code=self.code("not_found"),
                           what=self.what, id=record_id)
        return row

    def writable(self, row: dict[str, Any]) -> None:
        """Deleted and anonymized records can be read, not changed."""
        if row.get("anonymized_at") is not None:
            raise Conflict(RECORD_ANONYMIZED, code=self.code("anonymized"),
                           what=self.what, number=self.number_of(row))
        if row.get("deleted_at") is not None:
            raise Conflict(RECORD_DELETED, code=self.code("deleted"),
                           what=self.what, number=self.number_of(row))

    async def get_writable(self, tenant_id: int, record_id: int) -> dict[str, Any]:
        row = await self.get(tenant_id, record_id)
        self.writable(row)
        return row

    def check_choice(self, column: str, value: Any) -> None:
        allowed = self.spec.choices_of(column)
        if allowed is not None and value not in allowed:
            raise Invalid(column, UNKNOWN_CHOICE, code="invalid_choice", choices=", ".join(allowed))

    def order_by(self, sort: str | None) -> tuple[str, bool]:
        """``number`` or ``-number`` (descending) among the spec's sort keys (and ``id``)."""
        text = (sort or self.spec.default_sort).strip()
        name = text.lstrip("-")
        allowed = (*self.spec.sort, "id")
        if name not in allowed or text.count("-") > 1:
            raise Invalid("sort", BAD_SORT, code="invalid_sort", choices=", ".join(allowed))
        return name, not text.startswith("-")

    def list_where(
        self,
        tenant_id: int,
        *,
        q: str | None = None,
        filters: dict[str, Any] | None = None,
        updated_since: datetime | None = None,
        include_deleted: bool = False,
        where: Any = None,
    ) -> Any:
        """The list's condition; ``where``: a plugin's own condition besides (a period, the
        rows a person may see), ANDed."""
        spec = self.spec
        scope = where
        where = self.col("tenant_id") == tenant_id
        if scope is not None:
            where = where & scope
        if q and q.strip():
            match = self.search_where(tenant_id, q)
            if match is not None:
                where = where & match
        for column, value in (filters or {}).items():
            if value is None:
                continue
            if column not in spec.filters:
                raise Invalid(column, UNKNOWN_CHOICE, code="unknown_filter",
                              choices=", ".join(spec.filters))
            self.check_choice(column, value)
            where = where & (self.col(column) == value)
        if updated_since is not None:
            if updated_since.tzinfo is None:
                raise Invalid("updated_since", NAIVE_TIME, code="naive_time")
            where = where & (self.col("updated_at") >= updated_since)
        if spec.soft_delete and not include_deleted:
            where = where & self.col("deleted_at").is_null()
        return where

    def search_where(self, tenant_id: int, q: str) -> Any:
        """What a list's ``q`` matches: a part of any of the spec's search columns, or the
        record's number exactly. A service whose search reaches further (the customer
        register: organization number, phones in any format, contact persons) overrides
        it; the API's list and the list page both ask it. None: no condition."""
        match = None
        for i, column in enumerate(self.spec.search_columns):
            part = contains_text(
                column, q, number_column=self.spec.number_column if i == 0 else None
            )
            match = part if match is None else (match | part)
        return match

    def sort_or_default(self, sort: str | None) -> str:
        """``sort`` when the list allows it, else the spec's default: a page's link with a
        stale or hand-written ``?sort=`` shows the list in its usual order (the API
        answers 400 instead, :meth:`order_by`)."""
        try:
            self.order_by(sort)
        except Invalid:
            return self.spec.default_sort
        return (sort or self.spec.default_sort).strip()

    async def list(
        self,
        tenant_id: int,
        offset: int = 0,
        limit: int = 50,
        *,
        q: str | None = None,
        filters: dict[str, Any] | None = None,
        sort: str | None = None,
        updated_since: datetime | None = None,
        include_deleted: bool = False,
        where: Any = None,
    ) -> tuple[int, list[dict[str, Any]]]:
        """One page of the tenant's records and how many match in all. ``q`` matches a part
        of the search columns, or the record's number exactly; ``where`` is the plugin's own
        condition besides."""
        where = self.list_where(
            tenant_id, q=q, filters=filters, updated_since=updated_since,
            include_deleted=include_deleted, where=where,
        )
        column, ascending = self.order_by(sort)
        total = await self.table.count().where(where)
        query = self.table.select().where(where).order_by(self.col(column), ascending=ascending)
        if column != "id":
            query = query.order_by(self.table._meta.primary_key, ascending=ascending)
        rows = await query.offset(offset).limit(limit)
        return total, rows

    # -- writing --------------------------------------------------------------------------
    async def _check_number_free(self, tenant_id: int, number: int, exclude_id: int | None = None) -> None:
        column = self.col(self.spec.number_column or "id")
        query = self.table.exists().where((self.col("tenant_id") == tenant_id) & (column == number))
        if exclude_id is not None:
            query = query.where(self.table._meta.primary_key != exclude_id)
        if await query:
            raise Invalid(self.spec.number_column, NUMBER_TAKEN, code="number_taken", number=number)

    async def _check_references(
        self, tenant_id: int, values: dict[str, Any], before: dict[str, Any] | None = None
    ) -> None:
        spec = self.spec
        customer = values.get(spec.customer_column) if spec.customer_column else None
        contact = values.get(spec.contact_column) if spec.contact_column else None
        if customer is not None or contact is not None:
            if spec.customer_column and before is None and customer is None:
                customer = 0
            await check_party(tenant_id, customer, contact, before=before)

    async def create(
        self,
        tenant_id: int,
        values: dict[str, Any],
        *,
        number: int | None = None,
        max_number: int | None = None,
        exhausted: Callable[[], Exception] | None = None,
    ) -> dict[str, Any]:
        """Insert the record (``values`` are column values the plugin validated).

        ``max_number``: the highest number the numbering may hand out; past it ``exhausted()``
        is raised (checked under the numbering's lock, in the same transaction)."""
        spec = self.spec
        for column, value in values.items():
            self.check_choice(column, value)
        taken: int | None = None
        if spec.number_column and number is None and can_take_number():
            # PostgreSQL: the number from the counter, committed on its own before the
            # record's transaction, so creates of one tenant do not queue on a lock held
            # until each commits (core.numbering). References are checked first: a refused
            # create spends no number.
            await self._check_references(tenant_id, values)
            taken = await take_number(self.number_lock, self.col(spec.number_column), tenant_id)
            if max_number is not None and taken > max_number:
                raise exhausted() if exhausted is not None else Invalid(
                    spec.number_column, NUMBER_TAKEN, code="number_taken", number=taken
                )
        async with atomic():
            row_values = dict(values, tenant_id=tenant_id)
            if taken is not None:
                row_values[spec.number_column or ""] = taken
            else:
                await self._check_references(tenant_id, values)
            if spec.number_column and taken is None:
                await lock_numbers(self.number_lock, tenant_id)
                if number is not None:
                    await self._check_number_free(tenant_id, number)
                    row_values[spec.number_column] = number
                else:
                    # the tenant's highest + 1, read by the INSERT itself (under the lock: the
                    # statement starts after the lock is held, so it sees every number taken)
                    row_values[spec.number_column] = next_number_sql(
                        self.col(spec.number_column), tenant_id
                    )
            if spec.status_column and spec.status_column not in row_values:
                row_values[spec.status_column] = spec.open_state
            row = await self._insert_logged(tenant_id, row_values)
            over = max_number is not None and row.get(spec.number_column or "", 0) > max_number
            if number is None and over:  # raised inside: rolled back with the transaction
                raise exhausted() if exhausted is not None else Invalid(
                    spec.number_column, NUMBER_TAKEN, code="number_taken",
                    number=row[spec.number_column or ""],
                )
        return row

    async def _insert_logged(self, tenant_id: int, row_values: dict[str, Any]) -> dict[str, Any]:
        """Insert the row and its "created" event. PostgreSQL: one statement (the event's
        INSERT in a WITH names the new row's id), one round trip fewer while the numbering
        is locked."""
        instance = self.table(**row_values)
        insert = self.table.insert(instance).returning(*self.table.all_columns())
        if is_sqlite():
            row = (await insert)[0]
            await self.log(tenant_id, "created", int(row["id"]))
            return row
        event = event_values(
            tenant_id, action=f"{self.spec.name}.created", plugin=self.plugin,
            record_type=self.spec.name, record_id=QueryString("(SELECT id FROM gallra_new_row)"),
        )
        parts = [insert.querystrings[0], event_row_insert(event).querystrings[0]]
        # The two rows' search terms in the same statement (one round trip, and nothing
        # for the commit to claim), where the index can work them out here.
        stored = {c._meta.db_column_name: getattr(instance, c._meta.name) for c in self.table._meta.columns}
        index = new_rows_index([
            (self.table._meta.tablename, stored, "(SELECT id FROM gallra_new_row)"),
            (EventLog._meta.tablename, event, "(SELECT id FROM gallra_event)"),
        ])
        if index is None:
            rows = await raw_query(QueryString(
                "WITH gallra_new_row AS ({}), gallra_event AS ({}) SELECT * FROM gallra_new_row", *parts
            ))
            return dict(rows[0])
        terms, named = index
        with indexes_itself():
            rows = await raw_query(QueryString(
                "WITH gallra_new_row AS ({}), gallra_event AS ({}), gallra_terms AS ({}) "
                "SELECT gallra_new_row.*, gallra_named.notes_waiting AS gallra_notes_waiting "
                "FROM gallra_new_row CROSS JOIN {} AS gallra_named",
                *parts, terms, named,
            ))
        row = dict(rows[0])
        if row.pop("gallra_notes_waiting"):
            notes_waiting()
        return row

    async def edit(
        self,
        tenant_id: int,
        record_id: int,
        changes: dict[str, Any],
        *,
        number: int | None = None,
        row: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Change columns of a record that is neither deleted nor anonymized. ``row``: the
        record the caller already read in this transaction (else it is read here)."""
        spec = self.spec
        for column, value in changes.items():
            self.check_choice(column, value)
        async with atomic():
            if row is None:
                row = await self.get(tenant_id, record_id)
            self.writable(row)
            await self._check_references(tenant_id, changes, before=row)
            changes = dict(changes)
            if number is not None and spec.number_column and number != row[spec.number_column]:
                await lock_numbers(self.number_lock, tenant_id)
                await self._check_number_free(tenant_id, number, exclude_id=record_id)
                changes[spec.number_column] = number
            if changes:
                if self.has("updated_at"):
                    changes["updated_at"] = utcnow()
                await self.table.update({self.col(k): v for k, v in changes.items()}).where(
                    self.where_own(tenant_id, record_id)
                )
            await self.log(tenant_id, "edited", record_id)
            return await self.get(tenant_id, record_id)

    async def close(self, tenant_id: int, record_id: int) -> dict[str, Any]:
        """Closing starts the retention clock of the record's rule."""
        spec = self.spec
        status = spec.status_column or "status"
        async with atomic():
            row = await self.get_writable(tenant_id, record_id)
            if row[status] == spec.closed_state:
                raise Conflict(RECORD_ALREADY_CLOSED, code=self.code("already_closed"),
                               what=self.what, number=self.number_of(row))
            now = utcnow()
            changes = {self.col(status): spec.closed_state, self.col(spec.closed_at_column): now}
            if self.has("updated_at"):
                changes[self.col("updated_at")] = now
            await self.table.update(changes).where(self.where_own(tenant_id, record_id))
            await self.log(tenant_id, spec.close_verb[1], record_id)
            return await self.get(tenant_id, record_id)

    async def reopen(self, tenant_id: int, record_id: int) -> dict[str, Any]:
        """Reopening stops the clock: an open record is never anonymized for being closed."""
        spec = self.spec
        status = spec.status_column or "status"
        async with atomic():
            row = await self.get_writable(tenant_id, record_id)
            if row[status] != spec.closed_state:
                raise Conflict(RECORD_NOT_CLOSED, code=self.code("not_closed"),
                               what=self.what, number=self.number_of(row))
            changes: dict[Any, Any] = {self.col(status): spec.open_state, self.col(spec.closed_at_column): None}
            if self.has("updated_at"):
                changes[self.col("updated_at")] = utcnow()
            await self.table.update(changes).where(self.where_own(tenant_id, record_id))
            await self.log(tenant_id, "reopened", record_id)
            return await self.get(tenant_id, record_id)

    async def delete(self, tenant_id: int, record_id: int) -> dict[str, Any]:
        """Soft delete; it starts the retention clock, and anonymizes at once when the
        tenant chose "immediately" for the record's rule. Deleting again changes nothing."""
        async with atomic():
            row = await self.get(tenant_id, record_id)
            if row.get("deleted_at") is None:
                now = utcnow()
                changes = {self.col("deleted_at"): now}
                if self.has("updated_at"):
                    changes[self.col("updated_at")] = now
                await self.table.update(changes).where(self.where_own(tenant_id, record_id))
                await self.anonymize_if_immediate(tenant_id, row, record_id)
            await self.log(tenant_id, "deleted", record_id)
            return await self.get(tenant_id, record_id)

    async def anonymize_if_immediate(self, tenant_id: int, row: dict[str, Any], record_id: int) -> None:
        """Inside the delete: anonymize now when the record's rule allows "immediately" and
        the tenant chose it."""
        key = self.spec.rule_for(row)
        rule = next((r for r in self.spec.rules if r.key == key), None)
        if rule is None or "immediately" not in rule.allowed_modes:
            return
        from core.gdpr.engine import anonymize_if_immediate

        await anonymize_if_immediate(tenant_id, self.plugin, rule.key, [record_id])


async def children_of(
    table: type[Table],
    parent: str,
    tenant_id: int,
    parent_ids: Sequence[int],
    convert: Callable[[dict[str, Any]], T],
    *order_by: Any,
) -> defaultdict[int, list[T]]:
    """The rows of ``table`` (of tenant ``tenant_id``) whose column ``parent`` points to one
    of ``parent_ids``, each through ``convert``, by parent id (an empty list for a parent
    without any), in ``order_by`` then id order: a quote's lines, a plan's installments."""
    out: defaultdict[int, list[T]] = defaultdict(list)
    if not parent_ids:
        return out
    tenant = table._meta.get_column_by_name("tenant_id")
    query = table.select().where((tenant == tenant_id) & table._meta.get_column_by_name(parent).is_in(list(parent_ids)))
    for order in (*order_by, table._meta.primary_key):
        query = query.order_by(order)
    for row in await query:
        out[int(row[parent])].append(convert(row))
    return out


def where_child(table: type[Table], parent: str, tenant_id: int, parent_id: int, child_id: int) -> Any:
    """The condition of one child row (an order's line): its id, of this tenant, under this
    parent, so another parent's or another tenant's id matches nothing."""
    column = table._meta.get_column_by_name
    return (column("tenant_id") == tenant_id) & (column(parent) == parent_id) & (table._meta.primary_key == child_id)


async def child_of(
    table: type[Table], parent: str, tenant_id: int, parent_id: int, child_id: int, missing: Exception
) -> dict[str, Any]:
    """The child row :func:`where_child` names, or ``missing`` raised (the plugin's own
    404: "line 3 of order 7 was not found")."""
    row = await table.select().where(where_child(table, parent, tenant_id, parent_id, child_id)).first()
    if row is None:
        raise missing
    return row
