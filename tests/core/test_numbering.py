"""core.numbering: per-tenant record numbers, the one implementation every plugin uses
(cases, customers, orders, work orders, quotes, projects, privacy)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

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


# -- through the record layer (RecordService.create): on PostgreSQL the counter row
# (core.numbering.take_number) instead of a lock held until each create commits (#19).

async def _service_create(tenant_id: int, **values: Any) -> int:
    from plugins.cases.services import CASES

    row = await CASES.create(tenant_id, {"title": "t", **values})
    return int(row["number"])


async def test_parallel_creates_through_the_record_layer_get_distinct_consecutive_numbers(tenant):
    numbers = await asyncio.gather(*(_service_create(tenant.id) for _ in range(12)))
    assert sorted(numbers) == list(range(1, 13))


async def test_the_counter_follows_numbers_written_by_hand_and_never_goes_back(tenant, other_tenant):
    from plugins.cases.services import CASES

    assert await _service_create(tenant.id) == 1
    # A row written without the record layer (an import) moves the numbering on ...
    await Case.insert(Case(tenant_id=tenant.id, number=40, title="imported"))
    assert await _service_create(tenant.id) == 41
    # ... and so does a number chosen by hand through it.
    row = await CASES.create(tenant.id, {"title": "t"}, number=90)
    assert row["number"] == 90
    assert await _service_create(tenant.id) == 91
    # Rows gone from the table do not hand their numbers out again.
    await Case.delete().where((Case.tenant_id == tenant.id) & (Case.number >= 90))
    assert await _service_create(tenant.id) in (92, 42)  # 92 on PostgreSQL's counter, 42 by max + 1
    # Another organization counts on its own.
    assert await _service_create(other_tenant.id) == 1


async def test_a_create_refused_for_its_reference_spends_no_number(tenant):
    from core.errors import Invalid

    assert await _service_create(tenant.id) == 1
    with pytest.raises(Invalid):
        await _service_create(tenant.id, customer_id=999_999)
    assert await _service_create(tenant.id) == 2


@pytest.mark.pg
async def test_a_create_does_not_wait_for_another_create_of_the_tenant_to_commit(tenant):
    """The number is taken and committed before the record's transaction: a transaction
    that has taken its number and is still open does not hold the next create back (with
    the advisory lock it did, until it committed)."""
    from core.numbering import take_number

    holding = asyncio.Event()
    release = asyncio.Event()

    async def slow_create() -> int:
        number = await take_number(LOCK, Case.number, tenant.id)
        async with atomic():
            await Case.insert(Case(tenant_id=tenant.id, number=number, title="slow"))
            holding.set()
            await release.wait()
        return number

    slow = asyncio.create_task(slow_create())
    await asyncio.wait_for(holding.wait(), 10)
    try:
        fast = await asyncio.wait_for(take_number(LOCK, Case.number, tenant.id), 5)
        assert fast == 2  # the open transaction's 1 is not seen as a row yet, the counter knows it
    finally:
        release.set()
    assert await slow == 1
