"""A sweep killed halfway: its audit row counts exactly the committed batches, a later
sweep marks it "interrupted" and does the rest, and no record is anonymized twice.

The kill is simulated in-process by a BaseException from inside a batch (what the engine
cannot catch, like the process dying); tests/gdpr/test_chaos.py kills real worker
processes with SIGKILL.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from core.db import utcnow
from core.gdpr import engine
from core.gdpr.engine import mark_interrupted_runs, sweep, sweep_tenant
from core.gdpr.tables import GdprRun
from tests.gdpr import plugin as tp
from tests.gdpr.conftest import add_customer, customer

DAY = timedelta(days=1)


class Killed(BaseException):
    """Stands for the process dying: not an Exception, so nothing in the engine catches it."""


def kill_in_batch(monkeypatch: pytest.MonkeyPatch, after_batches: int) -> None:
    real = engine._after_claim
    calls = {"n": 0}

    async def dying(decl, info, tenant_id, ids, word, now):  # type: ignore[no-untyped-def]
        if info.key == tp.CUSTOMERS and ids:
            calls["n"] += 1
            if calls["n"] > after_batches:
                raise Killed()
        return await real(decl, info, tenant_id, ids, word, now)

    monkeypatch.setattr(engine, "_after_claim", dying)


async def runs_of(tenant_id: int) -> list[dict]:
    return await (
        GdprRun.select(GdprRun.records, GdprRun.outcome, GdprRun.error, GdprRun.finished_at)
        .where((GdprRun.tenant_id == tenant_id) & (GdprRun.rule_key == tp.CUSTOMERS))
        .order_by(GdprRun.id)
    )


async def test_killed_sweep_counts_committed_batches_and_the_next_sweep_finishes(
    tenant, monkeypatch
):
    ids = [await add_customer(tenant.id, deleted_at=utcnow() - 40 * DAY) for _ in range(5)]
    kill_in_batch(monkeypatch, after_batches=2)
    with pytest.raises(Killed):
        await sweep(tenant.id, "gdprtest", batch_size=1)
    # Two batches committed, the third rolled back whole: its record is untouched.
    done = [i for i in ids if (await customer(i))["anonymized_at"] is not None]
    assert done == ids[:2]
    row = await customer(ids[2])
    assert (row["name"], row["email"], row["anonymized_at"]) == ("Kalle Anka", "kalle@example.org", None)
    # The run row is still "running", but its count is exactly the committed batches.
    assert [(r["records"], r["outcome"]) for r in await runs_of(tenant.id)] == [(2, "running")]

    # A recent "running" row may belong to a live sweep: the default age leaves it alone.
    await mark_interrupted_runs()
    assert [r["outcome"] for r in await runs_of(tenant.id)] == ["running"]
    # Once it is old enough it is taken for dead.
    assert await mark_interrupted_runs(older_than=timedelta(0)) >= 1
    [stale] = await runs_of(tenant.id)
    assert (stale["records"], stale["outcome"]) == (2, "interrupted")
    assert stale["finished_at"] is not None and "next sweep" in stale["error"]

    monkeypatch.undo()
    tp.HOOK_CALLS.clear()
    results = {r.rule: r for r in await sweep(tenant.id, "gdprtest", batch_size=2)}
    assert (results[tp.CUSTOMERS].records, results[tp.CUSTOMERS].outcome) == (3, "ok")
    runs = await runs_of(tenant.id)
    assert [(r["records"], r["outcome"]) for r in runs] == [(2, "interrupted"), (3, "ok")]
    # The audit adds up to the due set, and the hook saw every record exactly once.
    assert sum(r["records"] for r in runs) == len(ids)
    seen = Counter(i for c in tp.HOOK_CALLS if c.rule == tp.CUSTOMERS for i in c.record_ids)
    assert sorted(seen) == ids[2:] and set(seen.values()) == {1}
    for i in ids:
        assert (await customer(i))["name"] == "Anonymiserad"


async def test_killed_before_the_first_batch_committed_leaves_no_row(tenant, monkeypatch):
    cid = await add_customer(tenant.id, deleted_at=utcnow() - 40 * DAY)
    kill_in_batch(monkeypatch, after_batches=0)
    with pytest.raises(Killed):
        await sweep(tenant.id, "gdprtest")
    assert await runs_of(tenant.id) == []
    assert (await customer(cid))["anonymized_at"] is None
    monkeypatch.undo()
    await sweep(tenant.id, "gdprtest")
    assert [(r["records"], r["outcome"]) for r in await runs_of(tenant.id)] == [(1, "ok")]


async def test_the_schedule_marks_stale_running_rows_interrupted(tenant, monkeypatch):
    from core.gdpr.jobs import enqueue_sweeps

    old = await GdprRun.insert(
        GdprRun(
            tenant_id=tenant.id, plugin="gdprtest", rule_key=tp.CUSTOMERS, trigger="sweep",
            started_at=utcnow() - timedelta(hours=2), records=7, outcome="running",
        )
    ).returning(GdprRun.id)
    fresh = await GdprRun.insert(
        GdprRun(
            tenant_id=tenant.id, plugin="gdprtest", rule_key=tp.CUSTOMERS, trigger="sweep",
            started_at=utcnow(), records=1, outcome="running",
        )
    ).returning(GdprRun.id)

    async def no_tenants() -> list[int]:
        return []

    monkeypatch.setattr(engine, "tenant_ids", no_tenants)
    assert await enqueue_sweeps() == 0
    rows = {
        r["id"]: (r["outcome"], r["records"])
        for r in await GdprRun.select().where(GdprRun.tenant_id == tenant.id)
    }
    assert rows == {old[0]["id"]: ("interrupted", 7), fresh[0]["id"]: ("running", 1)}


async def test_sweep_tenant_does_what_sweeping_each_plugin_does(tenant_factory):
    a = await tenant_factory()
    b = await tenant_factory()
    for t in (a, b):
        for days in (40, 40, 10):
            await add_customer(t.id, deleted_at=utcnow() - days * DAY)
    together = await sweep_tenant(a.id, ["core", "gdprtest"])
    one_by_one = await sweep(b.id, "core") + await sweep(b.id, "gdprtest")
    shape = lambda rs: [(r.plugin, r.rule, r.mode, r.records, r.outcome) for r in rs]  # noqa: E731
    assert shape(together) == shape(one_by_one)
    assert {r.rule: r.records for r in together}[tp.CUSTOMERS] == 2
    # Every rule not "off" left one audit row, in both ways.
    for t in (a, b):
        rows = await GdprRun.select(GdprRun.rule_key, GdprRun.records, GdprRun.outcome).where(
            GdprRun.tenant_id == t.id
        )
        assert sorted((r["rule_key"], r["records"], r["outcome"]) for r in rows) == sorted(
            (r.rule, r.records, "ok") for r in together if r.outcome != "off"
        )


async def test_a_cancelled_sweep_marks_its_run_interrupted_at_once(tenant, monkeypatch):
    """Dramatiq's time limit and a worker's shutdown cancel the task: the batch in flight
    rolls back and the run row says "interrupted" with the committed count."""
    import asyncio

    ids = [await add_customer(tenant.id, deleted_at=utcnow() - 40 * DAY) for _ in range(4)]
    real = engine._after_claim
    calls = {"n": 0}
    stuck = asyncio.Event()

    async def slow(decl, info, tenant_id, batch, word, now):  # type: ignore[no-untyped-def]
        if info.key == tp.CUSTOMERS and batch:
            calls["n"] += 1
            if calls["n"] == 3:
                stuck.set()
                await asyncio.sleep(30)
        return await real(decl, info, tenant_id, batch, word, now)

    monkeypatch.setattr(engine, "_after_claim", slow)
    task = asyncio.create_task(sweep(tenant.id, "gdprtest", batch_size=1))
    await asyncio.wait_for(stuck.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [run] = await runs_of(tenant.id)
    assert (run["records"], run["outcome"]) == (2, "interrupted")
    assert run["finished_at"] is not None
    assert [i for i in ids if (await customer(i))["anonymized_at"] is not None] == ids[:2]
