"""The anonymization engine: strategies, cutoffs, children, cascade, activity, audit."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from core.activity import Activity, add_activity
from core.db import utcnow
from core.gdpr import engine
from core.gdpr.engine import anonymize_records, sweep
from core.gdpr.settings import RuleSetting, save_settings
from core.gdpr.tables import GdprRun
from tests.gdpr import plugin as tp
from tests.gdpr.conftest import add_contact, add_customer, at, customer

DAY = timedelta(days=1)
SEC = timedelta(seconds=1)


async def test_each_strategy_column_by_column(tenant, other_tenant):
    now = utcnow()
    old = now - 31 * DAY
    due = await add_customer(tenant.id, deleted_at=old)
    kept = await add_customer(tenant.id, deleted_at=now - 29 * DAY)
    foreign = await add_customer(other_tenant.id, deleted_at=old)  # same data, other tenant
    with at(now):
        results = await sweep(tenant.id, "gdprtest")
    by_rule = {r.rule: r for r in results}
    assert by_rule[tp.CUSTOMERS].records == 1
    assert by_rule[tp.CUSTOMERS].outcome == "ok"
    row = await customer(due)
    assert row["name"] == "Anonymiserad"  # replace
    assert row["code"] == ""  # replace, but varchar(5) cannot hold the word
    assert row["email"] is None  # null
    assert row["phone"] is None  # null
    assert row["notes"] == ""  # empty
    assert row["score"] == 0  # zero
    assert row["kind"] == "private"  # not declared: kept
    assert row["deleted_at"] == old  # the clock is kept
    assert row["anonymized_at"] == now  # the marker
    for untouched in (kept, foreign):
        r = await customer(untouched)
        assert (r["name"], r["code"], r["email"], r["phone"], r["notes"], r["score"]) == (
            "Kalle Anka",
            "K123",
            "kalle@example.org",
            "+46701234567",
            "Allergic to cats",
            42,
        )
        assert r["anonymized_at"] is None


async def test_just_inside_and_just_outside_the_cutoff_with_time_frozen(tenant):
    now = utcnow().replace(microsecond=0)
    cutoff = now - 30 * DAY
    inside = await add_customer(tenant.id, deleted_at=cutoff - SEC)
    outside = await add_customer(tenant.id, deleted_at=cutoff + SEC)
    exactly = await add_customer(tenant.id, deleted_at=cutoff)  # not older: kept
    # The earliest non-null clock starts it: closed long ago, deleted just now.
    earliest = await add_customer(tenant.id, closed_at=cutoff - SEC, deleted_at=now)
    never = await add_customer(tenant.id)  # no clock at all
    with at(now):
        await sweep(tenant.id, "gdprtest")
    assert (await customer(inside))["name"] == "Anonymiserad"
    assert (await customer(earliest))["name"] == "Anonymiserad"
    for cid in (outside, exactly, never):
        row = await customer(cid)
        assert row["name"] == "Kalle Anka" and row["anonymized_at"] is None
    # A second later the one just outside is due.
    with at(now + 2 * SEC):
        await sweep(tenant.id, "gdprtest")
    assert (await customer(outside))["name"] == "Anonymiserad"
    assert (await customer(exactly))["name"] == "Anonymiserad"


async def test_where_condition_limits_the_rule(tenant):
    now = utcnow()
    company = await add_customer(tenant.id, kind="company", deleted_at=now - 400 * DAY)
    await sweep(tenant.id, "gdprtest")
    assert (await customer(company))["name"] == "Kalle Anka"  # the companies rule is off
    await save_settings(tenant.id, {tp.COMPANIES: RuleSetting("days", 365)})
    await sweep(tenant.id, "gdprtest")
    row = await customer(company)
    assert row["name"] == "Anonymiserad"
    assert row["email"] == "kalle@example.org"  # the companies rule declares only the name


async def test_child_tables_through_parent_column(tenant, other_tenant):
    now = utcnow()
    due = await add_customer(tenant.id, deleted_at=now - 40 * DAY)
    kept = await add_customer(tenant.id, deleted_at=now - 1 * DAY)
    c_due = await add_contact(tenant.id, due)
    c_kept = await add_contact(tenant.id, kept)
    # Another tenant's contact pointing at the same id number is not a child of it.
    c_foreign = await add_contact(other_tenant.id, due)
    for cid in (due, kept):
        await tp.GTAttachment.insert(
            tp.GTAttachment(tenant_id=tenant.id, customer_id=cid, filename="passport.pdf")
        )
    await tp.GTAttachment.insert(
        tp.GTAttachment(tenant_id=other_tenant.id, customer_id=due, filename="x.pdf")
    )
    await sweep(tenant.id, "gdprtest")
    contact = await tp.GTContact.select().where(tp.GTContact.id == c_due).first()
    assert contact["name"] == "Anonymiserad" and contact["email"] is None
    assert contact["title"] == "CEO"  # not declared
    for cid in (c_kept, c_foreign):
        c = await tp.GTContact.select().where(tp.GTContact.id == cid).first()
        assert c["name"] == "Kajsa Anka" and c["email"] == "kajsa@example.org"
    att = await tp.GTAttachment.select(
        tp.GTAttachment.tenant_id, tp.GTAttachment.customer_id
    ).where(tp.GTAttachment.customer_id.is_in([due, kept]))
    assert {(a["tenant_id"], a["customer_id"]) for a in att} == {
        (tenant.id, kept),
        (other_tenant.id, due),
    }


async def test_subject_cascade_sets_references_of_other_plugins_to_zero(tenant, other_tenant):
    now = utcnow()
    due = await add_customer(tenant.id, deleted_at=now - 40 * DAY)
    kept = await add_customer(tenant.id)
    ids = []
    for t, cid in ((tenant.id, due), (tenant.id, kept), (other_tenant.id, due)):
        rows = await tp.GTLink.insert(
            tp.GTLink(tenant_id=t, customer_id=cid, label="order")
        ).returning(tp.GTLink.id)
        ids.append(rows[0]["id"])
    await sweep(tenant.id, "gdprtest")
    links = {r["id"]: r for r in await tp.GTLink.select().where(tp.GTLink.id.is_in(ids))}
    assert links[ids[0]]["customer_id"] == 0  # the anonymized customer
    assert links[ids[1]]["customer_id"] == kept
    assert links[ids[2]]["customer_id"] == due  # another tenant's row with the same number
    assert links[ids[0]]["label"] == "order"


async def test_activity_clearing_removes_exactly_the_declared_kinds(tenant):
    now = utcnow()
    due = await add_customer(tenant.id, deleted_at=now - 40 * DAY)
    kept = await add_customer(tenant.id)
    for rid in (due, kept):
        for kind in ("comment", "note", "work_report", "conversation"):
            await add_activity(
                tenant.id, "gdprtest", "customer", rid, kind, f"{kind} text", None, "Olle"
            )
    # Same id, another record type: not this record.
    await add_activity(tenant.id, "gdprtest", "note", due, "comment", "other record", None, "Olle")
    await sweep(tenant.id, "gdprtest")
    rows = await Activity.select(Activity.record_type, Activity.record_id, Activity.kind).where(
        Activity.tenant_id == tenant.id
    )
    left = {(r["record_type"], r["record_id"], r["kind"]) for r in rows}
    assert left == {
        ("customer", due, "work_report"),
        ("customer", due, "conversation"),
        ("customer", kept, "comment"),
        ("customer", kept, "note"),
        ("customer", kept, "work_report"),
        ("customer", kept, "conversation"),
        ("note", due, "comment"),
    }


async def test_hook_gets_the_batch_and_batches_are_keyset(tenant):
    now = utcnow()
    ids = [await add_customer(tenant.id, deleted_at=now - 40 * DAY) for _ in range(5)]
    results = await sweep(tenant.id, "gdprtest", batch_size=2)
    assert {r.rule: r.records for r in results}[tp.CUSTOMERS] == 5
    calls = [c for c in tp.HOOK_CALLS if c.rule == tp.CUSTOMERS]
    assert [c.record_ids for c in calls] == [ids[0:2], ids[2:4], ids[4:5]]
    assert all(
        c.tenant_id == tenant.id and c.word == "Anonymiserad" and c.plugin == "gdprtest"
        for c in calls
    )


async def test_repeated_sweep_changes_nothing_and_records_a_zero_run(tenant):
    now = utcnow()
    cid = await add_customer(tenant.id, deleted_at=now - 40 * DAY)
    await sweep(tenant.id, "gdprtest")
    before = await customer(cid)
    tp.HOOK_CALLS.clear()
    results = await sweep(tenant.id, "gdprtest")
    assert {r.rule: r.records for r in results if r.outcome == "ok"} == {
        tp.CUSTOMERS: 0,
        tp.NOTES: 0,
    }
    assert await customer(cid) == before
    assert [c for c in tp.HOOK_CALLS if c.rule == tp.CUSTOMERS] == []
    runs = (
        await GdprRun.select()
        .where((GdprRun.tenant_id == tenant.id) & (GdprRun.rule_key == tp.CUSTOMERS))
        .order_by(GdprRun.id)
    )
    assert [(r["records"], r["outcome"], r["trigger"]) for r in runs] == [
        (1, "ok", "sweep"),
        (0, "ok", "sweep"),
    ]
    assert all(r["finished_at"] is not None for r in runs)
    # The rule in mode "off" is not swept and leaves no run.
    assert not await GdprRun.exists().where(
        (GdprRun.tenant_id == tenant.id) & (GdprRun.rule_key == tp.COMPANIES)
    )


async def test_dry_run_counts_and_changes_nothing(tenant):
    now = utcnow()
    for _ in range(3):
        await add_customer(tenant.id, deleted_at=now - 40 * DAY)
    await add_customer(tenant.id, deleted_at=now - 10 * DAY)
    results = await sweep(tenant.id, "gdprtest", dry_run=True)
    assert {r.rule: (r.records, r.outcome) for r in results} == {
        tp.CUSTOMERS: (3, "dry_run"),
        tp.COMPANIES: (0, "off"),
        tp.NOTES: (0, "dry_run"),
    }
    assert (
        await tp.GTCustomer.count().where(
            (tp.GTCustomer.tenant_id == tenant.id) & tp.GTCustomer.anonymized_at.is_not_null()
        )
        == 0
    )
    assert not await GdprRun.exists().where(GdprRun.tenant_id == tenant.id)
    # With proposed settings: 5 days instead of 30 makes the fourth due too.
    results = await sweep(
        tenant.id, "gdprtest", dry_run=True, overrides={tp.CUSTOMERS: RuleSetting("days", 5)}
    )
    assert {r.rule: r.records for r in results}[tp.CUSTOMERS] == 4


async def test_failing_batch_rolls_back_and_is_audited_without_personal_data(tenant):
    now = utcnow()
    good = await add_customer(tenant.id, deleted_at=now - 40 * DAY)
    bad = await add_customer(tenant.id, deleted_at=now - 40 * DAY)
    tp.FAIL_IDS.add(bad)
    results = await sweep(tenant.id, "gdprtest", batch_size=1)
    r = {x.rule: x for x in results}[tp.CUSTOMERS]
    assert r.outcome == "error" and r.records == 1
    assert (await customer(good))["name"] == "Anonymiserad"  # its batch committed
    row = await customer(bad)
    assert row["name"] == "Kalle Anka" and row["anonymized_at"] is None  # rolled back
    run = (
        await GdprRun.select()
        .where((GdprRun.tenant_id == tenant.id) & (GdprRun.rule_key == tp.CUSTOMERS))
        .first()
    )
    assert run["outcome"] == "error" and run["records"] == 1
    assert "RuntimeError" in run["error"]
    for secret in ("Kalle", "kalle@example.org", "+4670"):
        assert secret not in run["error"]
    # The other rules of the plugin still ran.
    assert {x.rule: x.outcome for x in results}[tp.NOTES] == "ok"


async def test_anonymize_records_by_request_ignores_clock_and_other_tenants(tenant, other_tenant):
    mine = await add_customer(tenant.id)  # not deleted at all
    theirs = await add_customer(other_tenant.id)
    n = await anonymize_records(
        tenant.id, "gdprtest", tp.CUSTOMERS, [mine, theirs], reason="erasure"
    )
    assert n == 1
    assert (await customer(mine))["name"] == "Anonymiserad"
    assert (await customer(theirs))["name"] == "Kalle Anka"
    # Again: already done, nothing happens.
    assert (
        await anonymize_records(tenant.id, "gdprtest", tp.CUSTOMERS, [mine], reason="erasure") == 0
    )
    runs = (
        await GdprRun.select(GdprRun.trigger, GdprRun.records)
        .where(GdprRun.tenant_id == tenant.id)
        .order_by(GdprRun.id)
    )
    assert [(r["trigger"], r["records"]) for r in runs] == [("erasure", 1), ("erasure", 0)]
    with pytest.raises(LookupError):
        await anonymize_records(tenant.id, "gdprlinks", tp.CUSTOMERS, [mine], reason="erasure")


async def test_english_word_is_used(tenant_factory):
    t = await tenant_factory(language="en")
    cid = await add_customer(t.id, deleted_at=utcnow() - 40 * DAY)
    await sweep(t.id, "gdprtest")
    assert (await customer(cid))["name"] == "Anonymized"


async def test_disabled_module_is_still_swept_by_the_schedule(tenant_factory, worker, monkeypatch):
    from core.gdpr.jobs import enqueue_sweeps
    from core.plugins import get_host
    from core.tenancy import enabled_modules

    t = await tenant_factory(modules=[])  # gdprtest turned off for this tenant
    assert "gdprtest" not in await enabled_modules(get_host(), t.id)
    cid = await add_customer(t.id, deleted_at=utcnow() - 40 * DAY)

    # Only this tenant (and the system tenant 0), not every tenant earlier tests left behind.
    async def tenants() -> list[int]:
        return [0, t.id]

    monkeypatch.setattr(engine, "tenant_ids", tenants)
    # tenant 0: core only; this tenant: core and gdprtest (gdprlinks declares no rules).
    assert await enqueue_sweeps() == 3
    await asyncio.to_thread(worker.drain)
    assert (await customer(cid))["name"] == "Anonymiserad"
    assert await GdprRun.exists().where(
        (GdprRun.tenant_id == t.id) & (GdprRun.plugin == "gdprtest")
    )


async def test_schedule_registers_the_sweep_job(settings):
    from core.plugins import get_host

    jobs = {j.id: j for j in get_host().collect("register_jobs")}
    assert jobs["core.gdpr_sweeps"].minutes == settings.sweep_interval_minutes


@pytest.mark.pg  # SQLite serializes writers; the row-lock race exists only on PostgreSQL
async def test_two_sweeps_at_once_anonymize_each_record_exactly_once(tenant):
    now = utcnow()
    ids = [await add_customer(tenant.id, deleted_at=now - 40 * DAY) for _ in range(120)]
    a, b = await asyncio.gather(
        sweep(tenant.id, "gdprtest", batch_size=7, rules=[tp.CUSTOMERS]),
        sweep(tenant.id, "gdprtest", batch_size=7, rules=[tp.CUSTOMERS]),
    )
    assert a[0].outcome == b[0].outcome == "ok"
    assert a[0].records + b[0].records == len(ids)
    seen = [i for c in tp.HOOK_CALLS if c.rule == tp.CUSTOMERS for i in c.record_ids]
    assert sorted(seen) == ids  # every record once, none twice
    markers = await tp.GTCustomer.select(tp.GTCustomer.anonymized_at).where(
        tp.GTCustomer.id.is_in(ids)
    )
    assert all(m["anonymized_at"] is not None for m in markers)


def test_engine_exports_the_public_api():
    assert callable(engine.anonymize_if_immediate)
    assert callable(engine.anonymize_records)
    assert callable(engine.sweep)


async def test_old_zero_count_sweep_runs_are_pruned(tenant):
    from core.gdpr.jobs import prune_runs

    now = utcnow()
    cid = await add_customer(tenant.id, deleted_at=now - 40 * DAY)
    with at(now - 100 * DAY):
        await sweep(tenant.id, "gdprtest")  # nothing due yet then: zero-count rows
    await sweep(tenant.id, "gdprtest")  # anonymizes cid
    await sweep(tenant.id, "gdprtest")  # zero-count again, but recent
    assert (await customer(cid))["anonymized_at"] is not None
    await prune_runs()
    runs = (
        await GdprRun.select(GdprRun.records, GdprRun.rule_key)
        .where((GdprRun.tenant_id == tenant.id) & (GdprRun.rule_key == tp.CUSTOMERS))
        .order_by(GdprRun.id)
    )
    assert [r["records"] for r in runs] == [1, 0]
