"""Per-tenant record numbers (case 1, 2, 3 ... in each organization), for every plugin.

A new record gets the tenant's highest number + 1, chosen and inserted while the tenant's
numbering is locked, so two creates at once never pick the same number:

    async with atomic():
        await lock_numbers(NUMBER_LOCK, tenant_id)
        number = await next_number(Case.number, tenant_id)
        await Case.insert(Case(tenant_id=tenant_id, number=number, ...))

Gaps policy: the highest number of *every* row counts (closed, deleted and anonymized rows
keep theirs), so a number is never handed out twice; a number given by hand above the
highest moves the sequence on from there, and gaps below it stay gaps.

The lock is the caller's transaction's: on SQLite, :func:`core.db.atomic` transactions
start IMMEDIATE and writers queue on the file lock; on PostgreSQL a transaction-scoped
advisory lock on (``key``, tenant) serializes the writers of one numbering. Each numbering
keeps its own ``key`` (a plugin constant), so other numberings and tenants never wait.

PostgreSQL without the lock (#19): a lock held from the INSERT to the COMMIT made every
create of a tenant wait for the one before it, search-index upkeep and commit included
(16 clients creating customers: 12 creates/s, p50 over a second). :func:`take_number`
instead takes the number from a counter row (``record_number``) in a statement of its own,
committed at once, before the record's transaction begins: two creates hold the counter's
row lock only for that one statement. A number so taken whose record is then not written
(the transaction fails) stays a gap, as the gaps policy above allows; it is never handed
out twice, because the counter only grows and also never falls below the highest number
any committed row holds.
"""

from __future__ import annotations

from typing import Any

from piccolo.query.functions.aggregate import Max
from piccolo.querystring import QueryString

from core.db import get_engine, is_sqlite, raw, run_simple


async def lock_numbers(key: int, tenant_id: int) -> None:
    """Lock the tenant's numbering ``key`` until the caller's transaction ends (call it
    inside ``atomic()``, before :func:`next_number` or before checking a number given by
    hand is free)."""
    if not is_sqlite():
        # integers only: written into the statement, so it shares the BEGIN's round trip
        await run_simple(f"SELECT pg_advisory_xact_lock({int(key)}, {int(tenant_id)})")


async def next_number(column: Any, tenant_id: int) -> int:
    """The tenant's highest value of ``column`` (a Piccolo column of a table with
    ``tenant_id``) + 1; 1 for the tenant's first record. Under :func:`lock_numbers`."""
    table = column._meta.table
    row = await table.select(Max(column, alias="top")).where(table.tenant_id == tenant_id).first()
    return int((row or {}).get("top") or 0) + 1


def next_number_sql(column: Any, tenant_id: int) -> QueryString:
    """:func:`next_number` as a subquery, to give as the column's value of an INSERT: the
    number is read by the inserting statement itself, one round trip fewer. Under
    :func:`lock_numbers`, taken by an earlier statement (on PostgreSQL a statement sees
    what was committed when it started)."""
    table = column._meta.table
    return QueryString(
        f'(SELECT COALESCE(MAX("{column._meta.db_column_name}"), 0) + 1 '
        f'FROM "{table._meta.tablename}" WHERE tenant_id = {{}})',
        int(tenant_id),
    )


def can_take_number() -> bool:
    """Whether :func:`take_number` may be used here: PostgreSQL, outside any transaction
    (inside one the counter's row would stay locked until that transaction ends)."""
    return not is_sqlite() and get_engine().current_transaction.get() is None


async def take_number(key: int, column: Any, tenant_id: int) -> int:
    """PostgreSQL, outside a transaction (:func:`can_take_number`): the tenant's next number
    of numbering ``key``, taken and committed now, without a lock that outlives this one
    statement. The counter never gives a number at or below the highest ``column`` holds
    in a committed row: a number chosen by hand, or rows an import wrote, move it on. (A
    number chosen by hand is checked free under :func:`lock_numbers`; should it equal one
    being taken here at the same moment, the tenant's unique index on the number refuses
    the second INSERT: a conflict to retry, never two records with one number.)

    Its commit does not wait for the disk (``synchronous_commit`` off for this statement's
    own transaction only): the record's transaction, which commits later and waits, makes
    the counter's change durable with it; if the server stops before that, the record was
    never written either and the number may be handed out again."""
    table = column._meta.table
    top = (
        f'(SELECT COALESCE(MAX("{column._meta.db_column_name}"), 0) '
        f'FROM "{table._meta.tablename}" WHERE tenant_id = {{}})'
    )
    rows = await raw(
        "INSERT INTO record_number AS r (tenant_id, numbering, last) "
        f"SELECT {{}}, {{}}, {top} + 1 "
        "FROM (SELECT set_config('synchronous_commit', 'off', true)) AS gallra_no_wait "
        "ON CONFLICT (tenant_id, numbering) DO UPDATE "
        f"SET last = GREATEST(r.last + 1, {top} + 1) RETURNING last",
        int(tenant_id), int(key), int(tenant_id), int(tenant_id),
    )
    return int(rows[0]["last"])


__all__ = ["can_take_number", "lock_numbers", "next_number", "next_number_sql", "take_number"]
