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
"""

from __future__ import annotations

from typing import Any

from piccolo.query.functions.aggregate import Max
from piccolo.querystring import QueryString

from core.db import is_sqlite, run_simple


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


__all__ = ["lock_numbers", "next_number", "next_number_sql"]
