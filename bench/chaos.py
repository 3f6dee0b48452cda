"""Chaos benchmark: GDPR sweeps on Dramatiq workers that are killed with SIGKILL.

Seeds T tenants (default 1,000), each with due records in every module: ten bench-only
modules ``chaos0``..``chaos9`` (persons with every strategy, two contacts each as a child
table, an activity entry each, a reference from every other module to a ``chaos0`` person)
and the core's event log. Some records are not due and must stay untouched; the first
``--big`` tenants have ``--big-records`` due persons in ``chaos0``, so their sweeps run over
several batches and kills land in the middle of runs.

Then it runs the schedule's job (``enqueue_sweeps``) with N worker processes started the
way ``gallra worker`` starts them (the Dramatiq CLI on a worker module: broker, database
pool, tasks), and kills a random worker process group with SIGKILL every
``--kill-min``..``--kill-max`` seconds, restarting it, until every message was taken.
Then, as the next scheduled sweep would, it marks the sweeps left "running" as
"interrupted" and sweeps again (without kills) until nothing is left, and checks:

* every due record is anonymized (``misses``), by exactly one committed batch: the
  module's ``anonymize`` hook counts every call per record in the batch's transaction
  (``doubles``: a count above 1);
* column by column against its rule, contacts and references included, activity gone
  (``half``); records that were not due are untouched (``over``);
* the audit rows add up to the due set, rule by rule (``audit_records`` ==
  ``records``), and none is left "running".

    python bench/chaos.py --database-url postgresql://postgres@127.0.0.1/gallra_chaos \\
        --broker-url redis://127.0.0.1:6379/12 [--tenants 1000] [--workers 4]
    python bench/chaos.py --database-url ... --broker-url amqp://guest:guest@127.0.0.1:5672/

Prints JSON: {kills, records, misses, doubles, half, over, audit_records, seconds, ...}.
tests/worker/test_chaos.py runs a small version.

This file is also the worker module (``GALLRA_CHAOS_WORKER=1``): imported by the Dramatiq
CLI it installs the core and the chaos modules, then does what core/worker_entry.py does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
import types
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("PICCOLO_CONF", "core.piccolo_conf")

from piccolo.columns import Integer, Text, Timestamptz, Varchar  # noqa: E402
from piccolo.table import Table  # noqa: E402

from core.contracts import AnonymizeContext, PersonalDataField, RecordType, RetentionRule  # noqa: E402
from core.plugins import hookimpl  # noqa: E402

MODULES = 10
SLUG_PREFIX = "chaos-"
WORD = "Anonymiserad"  # the tenants are made in Swedish
DUE_AGE_DAYS = 40  # the rules say 30 days
KEPT_AGE_DAYS = 10
EVENT_RULE = "core.event_log"


def _table(name: str, tablename: str, columns: dict[str, Any]) -> type[Table]:
    return types.new_class(name, (Table,), {"tablename": tablename}, lambda ns: ns.update(columns))


def _person(k: int) -> type[Table]:
    return _table(
        f"Chaos{k}Person",
        f"chaos{k}_person",
        {
            "tenant_id": Integer(),
            "due": Integer(default=0),  # set by the seed, never by the engine: the check's key
            "name": Varchar(length=200),
            "code": Varchar(length=5, default=""),  # too short for the word: ''
            "email": Varchar(length=254, null=True, default=None),
            "notes": Text(default=""),
            "score": Integer(default=0),
            "customer_ref": Integer(default=0),  # a chaos0 person (modules 1-9)
            "ref_orig": Integer(default=0),  # the same, kept for the check
            "hits": Integer(default=0),  # anonymize-hook calls for this record
            "deleted_at": Timestamptz(null=True, default=None),
            "anonymized_at": Timestamptz(null=True, default=None),
        },
    )


def _contact(k: int) -> type[Table]:
    return _table(
        f"Chaos{k}Contact",
        f"chaos{k}_contact",
        {
            "tenant_id": Integer(),
            "person_id": Integer(),
            "owner_id": Integer(),  # the same, kept for the check
            "name": Varchar(length=200),
            "phone": Varchar(length=32, null=True, default=None),
        },
    )


PERSONS = [_person(k) for k in range(MODULES)]
CONTACTS = [_contact(k) for k in range(MODULES)]
TABLES: list[type[Table]] = PERSONS + CONTACTS


def rule_key(k: int) -> str:
    return f"chaos{k}.persons"


class ChaosModule:
    """One bench module: a rule over persons with every strategy, a child table, activity,
    a reference to module 0's persons, and a hook that counts its calls per record."""

    def __init__(self, k: int):
        self.k = k
        self.person = PERSONS[k]
        self.contact = CONTACTS[k]

    @hookimpl
    def declare_record_types(self) -> list[RecordType]:
        return [RecordType("person", self.person, "Person", "Person")]

    @hookimpl
    def declare_retention_rules(self) -> list[RetentionRule]:
        return [
            RetentionRule(
                key=rule_key(self.k),
                label_sv="Personer",
                label_en="Persons",
                clock="deleted",
                table=self.person,
                clock_columns=("deleted_at",),
                default_mode="days",
                default_days=30,
                clears_activity=("comment",),
                record_type="person",
                subject="customer" if self.k == 0 else None,
            )
        ]

    @hookimpl
    def declare_personal_data(self) -> list[PersonalDataField]:
        F = PersonalDataField
        P, C, r = self.person, self.contact, rule_key(self.k)
        fields = [
            F(P, "name", "name", "replace", rule=r),
            F(P, "code", "name", "replace", rule=r),
            F(P, "email", "email", "null", rule=r),
            F(P, "notes", "free_text", "empty", rule=r),
            F(P, "score", "free_text", "zero", rule=r),
            F(C, "name", "name", "replace", rule=r, parent_column="person_id"),
            F(C, "phone", "phone", "null", rule=r, parent_column="person_id"),
        ]
        if self.k:
            fields.append(F(P, "customer_ref", "customer_ref", "zero"))
        return fields

    @hookimpl
    def anonymize(self, context: AnonymizeContext) -> Any:
        return self._count(context)

    async def _count(self, context: AnonymizeContext) -> None:
        from core.db import raw
        from core.gdpr.sql import ids_in

        id_sql, id_args = ids_in('"id"', context.record_ids)
        await raw(
            f'UPDATE "chaos{self.k}_person" SET hits = hits + 1 WHERE tenant_id = {{}} AND {id_sql}',
            context.tenant_id,
            *id_args,
        )


def make_host() -> Any:
    from core import builtin, plugins  # noqa: F401  (builtin: the core's own plugin)

    host = plugins.PluginHost(load_entry_points=False)
    for k in range(MODULES):
        host.add(ChaosModule(k), name=f"chaos{k}")
    return host


def install_host() -> Any:
    from core import plugins

    host = make_host()
    plugins.set_host(host)
    return host


if os.environ.get("GALLRA_CHAOS_WORKER"):
    # Imported by the Dramatiq CLI in a worker process: core/worker_entry.py with the chaos
    # modules installed first and the bench's own Redis key namespace.
    install_host()
    from core.worker import DatabasePool, setup_broker

    broker = setup_broker(
        os.environ["GALLRA_BROKER_URL"], namespace=os.environ.get("GALLRA_CHAOS_NAMESPACE")
    )
    broker.add_middleware(DatabasePool())
    from core import tasks  # noqa: F401

    _pace = float(os.environ.get("GALLRA_CHAOS_PACE") or 0)
    if _pace > 0:
        # --pace: a pause before each rule's sweep (outside its transactions), so that the
        # sweep lasts long enough for the kills to land in it on a fast machine too.
        from core.gdpr import engine as _engine

        _sweep_rule = _engine._sweep_rule

        async def _paced_sweep_rule(*args: Any, **kwargs: Any) -> Any:
            await asyncio.sleep(_pace)
            return await _sweep_rule(*args, **kwargs)

        _engine._sweep_rule = _paced_sweep_rule  # type: ignore[assignment]


# --- seeding ------------------------------------------------------------------------------


@dataclass
class Config:
    database_url: str
    broker_url: str
    tenants: int = 1000
    workers: int = 4
    threads: int = 4
    due_per_module: int = 3
    kept_per_module: int = 1
    big: int = 10
    big_records: int = 2500
    kill_min: float = 1.0
    kill_max: float = 4.0
    chaos_seconds: float = 300.0
    stall_seconds: float = 10.0
    min_kills: int = 0
    pace: float = 0.0  # seconds of pause before each rule's sweep while the kills go on
    round_timeout: float = 600.0
    max_rounds: int = 3
    seed: int | None = None
    log: str = "/tmp/gallra-chaos-workers.log"
    namespace: str = field(default_factory=lambda: f"gallra-chaos-{uuid.uuid4().hex[:8]}")


def _series(n: int) -> tuple[str, str, str]:
    from core.db import is_sqlite

    if is_sqlite():
        return (
            f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {int(n)}) ",
            "s",
            "",
        )
    return "", f"generate_series(1, {int(n)}) AS s(i)", "::text"


async def ensure_tenants(n: int) -> list[int]:
    from core.plugins import get_host
    from core.tables import Tenant
    from core.tenancy import create_tenant

    have = await Tenant.count().where(Tenant.slug.like(f"{SLUG_PREFIX}%"))
    for i in range(have, n):
        await create_tenant(get_host(), f"{SLUG_PREFIX}{i}", f"Chaos {i} AB", language="sv")
    rows = await Tenant.select(Tenant.id).where(Tenant.slug.like(f"{SLUG_PREFIX}%"))
    return sorted(int(r["id"]) for r in rows)[:n]


def _in(ids: list[int]) -> str:
    return "(" + ",".join(str(int(i)) for i in ids) + ")"


async def seed(cfg: Config, tenant_ids: list[int]) -> None:
    """Fresh chaos tables and fresh rows for these tenants (their old audit rows, activity,
    settings and event log go first)."""
    from core.db import as_owner, atomic, raw, utcnow

    now = utcnow()
    due_at = now - timedelta(days=DUE_AGE_DAYS)
    kept_at = now - timedelta(days=KEPT_AGE_DAYS)
    tin = _in(tenant_ids)
    async with as_owner():  # DDL: the tables' owner (the application's role may not)
        for table in TABLES:
            await raw(f'DROP TABLE IF EXISTS "{table._meta.tablename}"')
            await table.create_table()
        for k in range(MODULES):
            await raw(f"CREATE INDEX chaos{k}_person_due ON chaos{k}_person (tenant_id, anonymized_at)")
            await raw(f"CREATE INDEX chaos{k}_contact_person ON chaos{k}_contact (tenant_id, person_id)")
            await raw(f"CREATE INDEX chaos{k}_person_ref ON chaos{k}_person (tenant_id, customer_ref)")
    async with atomic():
        for t in ("gdpr_run", "activity", "event_log", "system_log", "gdpr_retention_setting"):
            await raw(f"DELETE FROM {t} WHERE tenant_id IN {tin}")
    async with atomic():
        for k in range(MODULES):
            person = f"chaos{k}_person"
            for label, n, due, at in (
                ("Due", cfg.due_per_module, 1, due_at),
                ("Kept", cfg.kept_per_module, 0, kept_at),
                ("Big", cfg.big_records if k == 0 else 0, 1, due_at),
            ):
                if n <= 0:
                    continue
                who = tenant_ids[: cfg.big] if label == "Big" else tenant_ids
                if not who:
                    continue
                series, source, cast = _series(n)
                await raw(
                    f"{series}INSERT INTO {person} (tenant_id, due, name, code, email, notes, score, "
                    "customer_ref, ref_orig, hits, deleted_at, anonymized_at) "
                    f"SELECT t.id, {due}, '{label} ' || i{cast}, 'C' || i{cast}, "
                    f"'p' || i{cast} || '@example.org', 'Notes ' || i{cast}, i, 0, 0, 0, {{}}, NULL "
                    f"FROM tenant t CROSS JOIN {source} WHERE t.id IN {_in(who)}",
                    at,
                )
            await raw(
                f"INSERT INTO chaos{k}_contact (tenant_id, person_id, owner_id, name, phone) "
                f"SELECT p.tenant_id, p.id, p.id, 'Contact ' || k.k, '+46701234567' "
                f"FROM {person} p CROSS JOIN (SELECT 1 AS k UNION ALL SELECT 2) k"
            )
            await raw(
                "INSERT INTO activity (tenant_id, plugin, record_type, record_id, kind, body, "
                "author_id, author_name, created_at) "
                f"SELECT p.tenant_id, 'chaos{k}', 'person', p.id, 'comment', 'Talked to ' || p.name, "
                f"NULL, 'Olle', {{}} FROM {person} p",
                now,
            )
            if k:
                await raw(
                    f"UPDATE {person} SET customer_ref = (SELECT MIN(c.id) FROM chaos0_person c "
                    f"WHERE c.tenant_id = {person}.tenant_id AND c.due = 1)"
                )
                await raw(f"UPDATE {person} SET ref_orig = customer_ref")
        for label, at in (("due", due_at), ("kept", kept_at)):
            await raw(
                "INSERT INTO event_log (tenant_id, at, employee_id, user_name, email, ip, action, "
                "plugin, record_type, record_id, anonymized_at) "
                f"SELECT t.id, {{}}, NULL, 'Olle {label}', 'olle@example.org', '192.0.2.1', "
                f"'chaos.{label}', '', '', NULL, NULL FROM tenant t WHERE t.id IN {tin}",
                at,
            )
    for table in TABLES:
        await raw(f'ANALYZE "{table._meta.tablename}"')


# --- checking -----------------------------------------------------------------------------


async def check(tenant_ids: list[int]) -> dict[str, Any]:
    """Every figure of the verdict, module by module and in total."""
    from core.db import raw

    tin = _in(tenant_ids)
    totals = dict.fromkeys(
        ("records", "anonymized", "misses", "doubles", "half", "over", "audit_records"), 0
    )
    per_rule: dict[str, dict[str, int]] = {}
    for k in range(MODULES):
        p, c = f"chaos{k}_person", f"chaos{k}_contact"
        row = (
            await raw(
                "SELECT "
                "SUM(due) AS records, "
                "SUM(CASE WHEN due = 1 AND anonymized_at IS NOT NULL THEN 1 ELSE 0 END) AS anonymized, "
                "SUM(CASE WHEN due = 1 AND anonymized_at IS NULL THEN 1 ELSE 0 END) AS misses, "
                "SUM(CASE WHEN hits > 1 THEN 1 ELSE 0 END) AS doubles, "
                "SUM(CASE WHEN due = 1 AND anonymized_at IS NOT NULL AND NOT ("
                f"name = '{WORD}' AND code = '' AND email IS NULL AND notes = '' AND score = 0 "
                "AND hits = 1) THEN 1 ELSE 0 END) AS half, "
                "SUM(CASE WHEN due = 0 AND (anonymized_at IS NOT NULL OR hits <> 0 "
                "OR name NOT LIKE 'Kept %' OR email IS NULL OR score = 0) THEN 1 ELSE 0 END) AS over, "
                # references to chaos0 persons, all due: zero after the cascade
                "SUM(CASE WHEN ref_orig <> 0 AND customer_ref <> 0 THEN 1 ELSE 0 END) AS refs_left "
                f"FROM {p} WHERE tenant_id IN {tin}"
            )
        )[0]
        kids = (
            await raw(
                "SELECT "
                f"SUM(CASE WHEN p.due = 1 AND NOT (c.name = '{WORD}' AND c.phone IS NULL) "
                "THEN 1 ELSE 0 END) AS half, "
                "SUM(CASE WHEN p.due = 0 AND (c.name NOT LIKE 'Contact %' OR c.phone IS NULL) "
                "THEN 1 ELSE 0 END) AS over "
                f"FROM {c} c JOIN {p} p ON p.id = c.owner_id WHERE c.tenant_id IN {tin}"
            )
        )[0]
        act = (
            await raw(
                "SELECT SUM(CASE WHEN p.due = 1 THEN 1 ELSE 0 END) AS left_due, "
                "SUM(CASE WHEN p.due = 0 THEN 1 ELSE 0 END) AS kept "
                f"FROM activity a JOIN {p} p ON p.id = a.record_id "
                f"WHERE a.tenant_id IN {tin} AND a.plugin = 'chaos{k}' AND a.record_type = 'person'"
            )
        )[0]
        kept = int((await raw(f"SELECT COUNT(*) AS n FROM {p} WHERE due = 0 AND tenant_id IN {tin}"))[0]["n"])
        audit = await audit_sum(rule_key(k), tin)
        figures = {
            "records": int(row["records"] or 0),
            "anonymized": int(row["anonymized"] or 0),
            "misses": int(row["misses"] or 0),
            "doubles": int(row["doubles"] or 0),
            "half": int(row["half"] or 0) + int(kids["half"] or 0) + int(act["left_due"] or 0)
            + int(row["refs_left"] or 0),
            "over": int(row["over"] or 0) + int(kids["over"] or 0) + (kept - int(act["kept"] or 0)),
            "audit_records": audit,
        }
        per_rule[rule_key(k)] = figures
    ev = (
        await raw(
            "SELECT "
            "SUM(CASE WHEN action = 'chaos.due' THEN 1 ELSE 0 END) AS records, "
            "SUM(CASE WHEN action = 'chaos.due' AND anonymized_at IS NOT NULL THEN 1 ELSE 0 END) AS anonymized, "
            "SUM(CASE WHEN action = 'chaos.due' AND anonymized_at IS NULL THEN 1 ELSE 0 END) AS misses, "
            "SUM(CASE WHEN action = 'chaos.due' AND anonymized_at IS NOT NULL AND NOT "
            "(user_name IS NULL AND email IS NULL AND ip IS NULL) THEN 1 ELSE 0 END) AS half, "
            "SUM(CASE WHEN action = 'chaos.kept' AND (anonymized_at IS NOT NULL OR ip IS NULL) "
            "THEN 1 ELSE 0 END) AS over "
            f"FROM event_log WHERE tenant_id IN {tin}"
        )
    )[0]
    ev_audit = await audit_sum(EVENT_RULE, tin)
    per_rule[EVENT_RULE] = {
        "records": int(ev["records"] or 0),
        "anonymized": int(ev["anonymized"] or 0),
        "misses": int(ev["misses"] or 0),
        # No hook counter on the core's table: a double shows as audit > anonymized.
        "doubles": max(0, ev_audit - int(ev["anonymized"] or 0)),
        "half": int(ev["half"] or 0),
        "over": int(ev["over"] or 0),
        "audit_records": ev_audit,
    }
    for figures in per_rule.values():
        for key in totals:
            totals[key] += figures[key]
    runs = await raw(
        f"SELECT outcome, COUNT(*) AS n FROM gdpr_run WHERE tenant_id IN {tin} GROUP BY outcome"
    )
    outcomes = {r["outcome"]: int(r["n"]) for r in runs}
    totals["audit_matches"] = all(
        f["audit_records"] == f["anonymized"] == f["records"] for f in per_rule.values()
    )
    totals["runs"] = outcomes
    totals["per_rule"] = per_rule
    return totals


async def audit_sum(rule: str, tin: str) -> int:
    from core.db import raw

    rows = await raw(
        "SELECT COALESCE(SUM(records), 0) AS n FROM gdpr_run "
        f"WHERE rule_key = {{}} AND trigger = 'sweep' AND tenant_id IN {tin}",
        rule,
    )
    return int(rows[0]["n"])


async def left_due(tenant_ids: list[int]) -> int:
    from core.db import raw

    tin = _in(tenant_ids)
    n = 0
    for k in range(MODULES):
        n += int(
            (
                await raw(
                    f"SELECT COUNT(*) AS n FROM chaos{k}_person WHERE due = 1 "
                    f"AND anonymized_at IS NULL AND tenant_id IN {tin}"
                )
            )[0]["n"]
        )
    n += int(
        (
            await raw(
                "SELECT COUNT(*) AS n FROM event_log WHERE action = 'chaos.due' "
                f"AND anonymized_at IS NULL AND tenant_id IN {tin}"
            )
        )[0]["n"]
    )
    return n


# --- workers ------------------------------------------------------------------------------


class Slot:
    """One worker process (a Dramatiq CLI with one worker process) in its own process group."""

    def __init__(self, cfg: Config, index: int):
        self.cfg = cfg
        self.index = index
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, pace: float = 0.0) -> None:
        env = dict(
            os.environ,
            GALLRA_CHAOS_WORKER="1",
            GALLRA_CHAOS_PACE=str(pace),
            GALLRA_CHAOS_NAMESPACE=self.cfg.namespace,
            GALLRA_DATABASE_URL=self.cfg.database_url,
            GALLRA_BROKER_URL=self.cfg.broker_url,
            GALLRA_LOG_LEVEL="WARNING",
            PYTHONPATH=os.pathsep.join([str(ROOT / "bench"), str(ROOT)]),
        )
        log = open(self.cfg.log, "ab")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dramatiq", "chaos", "--processes", "1", "--threads",
             str(self.cfg.threads)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL to the group: the Dramatiq parent and its worker process, mid-whatever."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        """A graceful stop (SIGTERM): running messages finish, prefetched ones go back."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGTERM)  # the Dramatiq parent passes it on
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


def queue_ready(cfg: Config, broker: Any) -> int:
    """Messages waiting to be taken (not those a worker holds)."""
    if cfg.broker_url.startswith("redis"):
        ns = cfg.namespace
        return int(broker.client.llen(f"{ns}:default")) + int(broker.client.llen(f"{ns}:default.DQ"))
    ready, delayed, _ = broker.get_queue_message_counts("default")
    return int(ready) + int(delayed)


async def wait_round(cfg: Config, tenant_ids: list[int], since: Any, rules: list[str]) -> bool:
    """Until every (tenant, rule) has a sweep that started after ``since`` and finished."""
    from core.db import raw

    want = len(tenant_ids) * len(rules)
    tin = _in(tenant_ids)
    marks = ", ".join("{}" for _ in rules)
    deadline = time.monotonic() + cfg.round_timeout
    while time.monotonic() < deadline:
        rows = await raw(
            "SELECT COUNT(*) AS n FROM (SELECT DISTINCT tenant_id, rule_key FROM gdpr_run "
            f"WHERE tenant_id IN {tin} AND rule_key IN ({marks}) AND started_at >= {{}} "
            "AND outcome IN ('ok', 'error')) d",
            *rules,
            since,
        )
        if int(rows[0]["n"]) >= want:
            return True
        await asyncio.sleep(0.5)
    return False


async def run(cfg: Config) -> dict[str, Any]:
    """The whole bench; the database, broker and host must be set up by the caller."""
    from core.db import utcnow
    from core.gdpr.engine import mark_interrupted_runs
    from core.gdpr.jobs import enqueue_sweeps
    from core.worker import get_broker

    rng = random.Random(cfg.seed)
    t_setup = time.perf_counter()
    tenant_ids = await ensure_tenants(cfg.tenants)
    await seed(cfg, tenant_ids)
    setup_s = time.perf_counter() - t_setup
    rules = [rule_key(k) for k in range(MODULES)] + [EVENT_RULE]
    broker = get_broker()
    if not cfg.broker_url.startswith("redis"):
        broker.flush_all()  # what an earlier run left
    slots = [Slot(cfg, i) for i in range(cfg.workers)]
    kills = 0
    kills_mid_sweep = 0
    rounds = 0
    try:
        for s in slots:
            s.start(cfg.pace)
        # Phase 1: the scheduled sweep, with worker processes killed at random moments.
        t0 = time.perf_counter()
        sweeps = await enqueue_sweeps()
        # Kill while there is work: until everything is done, or nothing moved for a while
        # although messages were taken (what killed workers held waits for the broker to
        # give it back, on Redis only after the dead worker's heartbeat expired).
        chaos_end = time.monotonic() + cfg.chaos_seconds
        left = await left_due(tenant_ids)
        moved = time.monotonic()
        await asyncio.sleep(rng.uniform(cfg.kill_min, cfg.kill_max))
        while time.monotonic() < chaos_end and (left > 0 or kills < cfg.min_kills):
            victim = rng.choice(slots)
            # A kill counts as mid-sweep when due records were left the moment before it.
            if await left_due(tenant_ids) > 0:
                kills_mid_sweep += 1
            victim.kill()
            kills += 1
            await asyncio.sleep(rng.uniform(0, 0.3))
            victim.start(cfg.pace)
            await asyncio.sleep(rng.uniform(cfg.kill_min, cfg.kill_max))
            now_left = await left_due(tenant_ids)
            if now_left != left:
                left, moved = now_left, time.monotonic()
            elif (
                time.monotonic() - moved > cfg.stall_seconds
                and queue_ready(cfg, broker) == 0
                and kills >= cfg.min_kills
            ):
                break
        for s in slots:
            s.stop()
        chaos_s = time.perf_counter() - t0
        left_after_chaos = await left_due(tenant_ids)
        # Phase 2: the next scheduled sweeps. Nothing runs now, so every "running" row is
        # a killed sweep: the scheduler marks it interrupted (here without waiting for the
        # rows to age) and sweeps again.
        interrupted = await mark_interrupted_runs(older_than=timedelta(0))
        finished = False
        while rounds < cfg.max_rounds:
            rounds += 1
            for s in slots:
                s.start()
            since = utcnow()
            await enqueue_sweeps()
            finished = await wait_round(cfg, tenant_ids, since, rules)
            for s in slots:
                s.stop()
            if finished and await left_due(tenant_ids) == 0:
                break
        seconds = time.perf_counter() - t0
    finally:
        for s in slots:
            s.kill()
        if cfg.broker_url.startswith("redis"):
            keys = list(broker.client.scan_iter(f"{cfg.namespace}*"))
            if keys:
                broker.client.delete(*keys)
        else:
            broker.flush_all()
    verdict = await check(tenant_ids)
    return {
        "broker": cfg.broker_url.split(":", 1)[0],
        "tenants": len(tenant_ids),
        "modules": MODULES + 1,
        "workers": cfg.workers,
        "threads": cfg.threads,
        "sweeps_per_round": sweeps,
        "kills": kills,
        "kills_mid_sweep": kills_mid_sweep,
        "records": verdict["records"],
        "anonymized": verdict["anonymized"],
        "misses": verdict["misses"],
        "doubles": verdict["doubles"],
        "half": verdict["half"],
        "over": verdict["over"],
        "audit_records": verdict["audit_records"],
        "audit_matches": verdict["audit_matches"],
        "runs": verdict["runs"],
        "interrupted_runs": interrupted,
        "left_after_chaos": left_after_chaos,
        "recovery_rounds": rounds,
        "finished": finished,
        "seconds_chaos": round(chaos_s, 1),
        "seconds": round(seconds, 1),
        "setup_seconds": round(setup_s, 1),
        "per_rule": verdict["per_rule"],
    }


async def main(cfg: Config) -> dict[str, Any]:
    os.environ["GALLRA_DATABASE_URL"] = cfg.database_url
    os.environ["GALLRA_BROKER_URL"] = cfg.broker_url
    from core.db import pooled
    from core.migrate import migrate
    from core.worker import setup_broker

    install_host()
    await migrate()
    setup_broker(cfg.broker_url, namespace=cfg.namespace)
    async with pooled():
        return await run(cfg)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--broker-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4, help="worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker process")
    parser.add_argument("--due", type=int, default=3, help="due persons per tenant and module")
    parser.add_argument("--big", type=int, default=10, help="tenants with a large backlog")
    parser.add_argument("--big-records", type=int, default=2500, help="their due persons in chaos0")
    parser.add_argument("--kill-min", type=float, default=1.0, help="seconds between kills, least")
    parser.add_argument("--kill-max", type=float, default=4.0, help="seconds between kills, most")
    parser.add_argument("--chaos-seconds", type=float, default=300, help="stop killing after this")
    parser.add_argument("--pace", type=float, default=0.0,
                        help="seconds of pause before each rule's sweep while the kills go on")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--log", default="/tmp/gallra-chaos-workers.log")
    a = parser.parse_args()
    config = Config(
        database_url=a.database_url, broker_url=a.broker_url, tenants=a.tenants,
        workers=a.workers, threads=a.threads, due_per_module=a.due, big=a.big,
        big_records=a.big_records, kill_min=a.kill_min, kill_max=a.kill_max,
        chaos_seconds=a.chaos_seconds, pace=a.pace, seed=a.seed, log=a.log,
    )
    print(json.dumps(asyncio.run(main(config))))
