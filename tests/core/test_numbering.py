"""core.numbering: per-tenant record numbers, the one implementation every plugin uses
(cases, customers, orders, work orders, quotes, projects, privacy)."""

from __future__ import annotations

import asyncio
from typing import Any

from core.db import atomic, utcnow
from core.numbering import lock_numbers, next_number
from plugins.cases.tables import Case

LOCK = 0x4A52  # the cases plugin's numbering


async def _create(tenant_id: int, number: int | None = None, **values: Any) -> int:
    async with atomic():
        await lock_numbers(LOCK, tenant_id)
        if number is None:
            number = await next_number(Case.number, tenant_id)
        await Case.insert(Case(tenant_id=tenant_id, number=number, title="t", **values))
    return number


async def test_numbers_start_at_one_per_tenant_and_never_reuse_the_highest(tenant, other_tenant):
    assert await next_number(Case.number, tenant.id) == 1
    assert [await _create(tenant.id) for _ in range(3)] == [1, 2, 3]
    # Another organization counts on its own.
    assert await _create(other_tenant.id) == 1
    # A deleted or anonymized record keeps its number: the highest still counts.
    await _create(tenant.id, deleted_at=utcnow())  # 4
    await _create(tenant.id, anonymized_at=utcnow())  # 5
    assert await next_number(Case.number, tenant.id) == 6
    # A number given by hand above the highest moves the sequence on; the gap stays a gap.
    await _create(tenant.id, number=100)
    assert await _create(tenant.id) == 101
    assert await next_number(Case.number, other_tenant.id) == 2


async def test_concurrent_allocations_get_distinct_consecutive_numbers(tenant):
    """Transactions racing (separate connections on PostgreSQL): the lock serializes them."""
    numbers = await asyncio.gather(*(_create(tenant.id) for _ in range(10)))
    assert sorted(numbers) == list(range(1, 11))
    rows = await Case.select(Case.number).where(Case.tenant_id == tenant.id)
    assert sorted(r["number"] for r in rows) == list(range(1, 11))
