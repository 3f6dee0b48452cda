"""Benchmark: the GDPR engine's sweep against hand-written set-based SQL on the same data.

Seeds N customers-like rows (default 100,000; 1,000,000 is #19's size), each with two
contacts and three activity entries, all due, through a bench-only plugin with its own tables
(it does not depend on plugins/customers) whose names, e-mail addresses, phone and
organization numbers are person-search sources. Then it times ``core.gdpr.engine.sweep``
over them, against two references measured in the same run:

* ``noindex``: the same engine sweep over a second tenant's identical rows with the
  search index's triggers removed from the bench tables and from ``activity`` and the
  engine's own set-based term replacement switched off (what the index upkeep costs);
* ``raw``: the same anonymization written by hand as three set-based statements on an
  identical copy.

Peak memory: the process's maximum resident set (``resource.getrusage``) after the seed and
after the sweep, and with ``--tracemalloc`` Python's own peak allocation in each (slower).

    python bench/sweep.py [--n 100000] [--batch 1000] [--tracemalloc]

SQLite by default (a fresh file in a temporary folder); PostgreSQL when
GALLRA_DATABASE_URL is set (use a fresh database). Prints JSON:
{engine, n, sweep_records_per_s, noindex_records_per_s, ratio_noindex, raw_records_per_s,
ratio, seed_peak_rss_mb, sweep_peak_rss_mb, load_average, ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
if not os.environ.get("GALLRA_DATABASE_URL"):
    os.environ["GALLRA_DATA_DIR"] = tempfile.mkdtemp(prefix="gallra-bench-")
os.environ.setdefault("PICCOLO_CONF", "core.piccolo_conf")

from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from core.contracts import PersonalDataField, RecordType, RetentionRule, SearchSource
from core.plugins import hookimpl

RULE = "bench.customers"
KINDS = ("comment", "note", "work_report")


class BenchCustomer(Table, tablename="bench_customer"):
    tenant_id = Integer()
    name = Varchar(length=200)
    org_number = Varchar(length=20, null=True, default=None)
    email = Varchar(length=254, null=True, default=None)
    phone = Varchar(length=32, null=True, default=None)
    street = Varchar(length=200, default="")
    postcode = Varchar(length=10, default="")
    notes = Text(default="")
    deleted_at = Timestamptz(null=True, default=None)
    anonymized_at = Timestamptz(null=True, default=None)


class BenchContact(Table, tablename="bench_contact"):
    tenant_id = Integer()
    customer_id = Integer()
    name = Varchar(length=200)
    email = Varchar(length=254, null=True, default=None)
    phone = Varchar(length=32, null=True, default=None)


class BenchCustomerRaw(BenchCustomer, tablename="bench_customer_raw"):
    pass


class BenchContactRaw(BenchContact, tablename="bench_contact_raw"):
    pass


class BenchPlugin:
    @hookimpl
    def declare_record_types(self) -> list[RecordType]:
        return [RecordType("customer", BenchCustomer, "Kund", "Customer")]

    @hookimpl
    def declare_retention_rules(self) -> list[RetentionRule]:
        return [
            RetentionRule(
                key=RULE,
                label_sv="Kunder",
                label_en="Customers",
                clock="deleted",
                table=BenchCustomer,
                clock_columns=("deleted_at",),
                default_mode="days",
                default_days=365,
                clears_activity=KINDS,
                record_type="customer",
                subject="customer",
            )
        ]

    @hookimpl
    def declare_search_sources(self) -> list[SearchSource]:
        out = []
        for table, column, category in (
            (BenchCustomer, "name", "name"),
            (BenchCustomer, "org_number", "national_id"),
            (BenchCustomer, "email", "email"),
            (BenchCustomer, "phone", "phone"),
            (BenchContact, "name", "name"),
            (BenchContact, "email", "email"),
            (BenchContact, "phone", "phone"),
        ):
            out.append(SearchSource(table, column, category, "workcloud", "Bänk", "Bench", record_type="customer"))  # type: ignore[arg-type]
        return out

    @hookimpl
    def declare_personal_data(self) -> list[PersonalDataField]:
        F = PersonalDataField
        return [
            F(BenchCustomer, "name", "name", "replace", rule=RULE),
            F(BenchCustomer, "org_number", "national_id", "null", rule=RULE),
            F(BenchCustomer, "email", "email", "null", rule=RULE),
            F(BenchCustomer, "phone", "phone", "null", rule=RULE),
            F(BenchCustomer, "street", "address", "replace", rule=RULE),
            F(BenchCustomer, "postcode", "address", "empty", rule=RULE),
            F(BenchCustomer, "notes", "free_text", "empty", rule=RULE),
            F(BenchContact, "name", "name", "replace", rule=RULE, parent_column="customer_id"),
            F(BenchContact, "email", "email", "null", rule=RULE, parent_column="customer_id"),
            F(BenchContact, "phone", "phone", "null", rule=RULE, parent_column="customer_id"),
            # The link to the customer: set to 0 by the subject cascade.
            F(BenchContact, "customer_id", "customer_ref", "zero"),
        ]


async def seed(tenant_id: int, n: int, customer: str, contact: str, plugin: str) -> None:
    from core.db import atomic, is_sqlite, raw, utcnow

    deleted = utcnow() - timedelta(days=400)
    now = utcnow()
    if is_sqlite():
        series = (
            f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {int(n)}) "
        )
        source = "s"
        cast = ""
    else:
        series = ""
        source = f"generate_series(1, {int(n)}) AS s(i)"
        cast = "::text"
    async with atomic():
        await raw(
            f"{series}INSERT INTO {customer} (tenant_id, name, org_number, email, phone, street, "
            "postcode, notes, deleted_at, anonymized_at) "
            f"SELECT {{}}, 'Customer ' || i{cast}, '556036-0793', 'c' || i{cast} || '@example.org', "
            f"'+4670' || i{cast}, 'Storgatan ' || i{cast}, '12345', 'Notes about customer ' || i{cast}, "
            f"{{}}, NULL FROM {source}",
            tenant_id,
            deleted,
        )
        await raw(
            f"INSERT INTO {contact} (tenant_id, customer_id, name, email, phone) "
            f"SELECT c.tenant_id, c.id, 'Contact ' || k.k{cast} || ' of ' || c.id{cast}, "
            f"'p' || k.k{cast} || '.' || c.id{cast} || '@example.org', '+4673' || c.id{cast} "
            f"FROM {customer} c CROSS JOIN (SELECT 1 AS k UNION ALL SELECT 2) k WHERE c.tenant_id = {{}}",
            tenant_id,
        )
        await raw(
            "INSERT INTO activity (tenant_id, plugin, record_type, record_id, kind, body, author_id, "
            "author_name, created_at) "
            f"SELECT c.tenant_id, {{}}, 'customer', c.id, k.kind, 'Talked to ' || c.name, NULL, 'Olle', {{}} "
            f"FROM {customer} c CROSS JOIN (SELECT 'comment' AS kind UNION ALL SELECT 'note' "
            "UNION ALL SELECT 'work_report') k WHERE c.tenant_id = {}",
            plugin,
            now,
            tenant_id,
        )


async def raw_anonymization(tenant_id: int, word: str) -> int:
    """What a careful person would write by hand: three set-based statements, one transaction."""
    from core.db import atomic, raw, utcnow

    now = utcnow()
    cutoff = now - timedelta(days=365)
    due = (
        "SELECT id FROM bench_customer_raw WHERE tenant_id = {} AND anonymized_at IS NULL "
        "AND deleted_at < {}"
    )
    async with atomic():
        await raw(
            f"UPDATE bench_contact_raw SET name = {{}}, email = NULL, phone = NULL, customer_id = 0 "
            f"WHERE tenant_id = {{}} AND customer_id IN ({due})",
            word,
            tenant_id,
            tenant_id,
            cutoff,
        )
        await raw(
            "DELETE FROM activity WHERE tenant_id = {} AND plugin = 'bench_raw' AND record_type = 'customer' "
            f"AND kind IN ('comment', 'note', 'work_report') AND record_id IN ({due})",
            tenant_id,
            tenant_id,
            cutoff,
        )
        rows = await raw(
            "UPDATE bench_customer_raw SET name = {}, org_number = NULL, email = NULL, phone = NULL, "
            "street = {}, postcode = '', notes = '', anonymized_at = {} "
            "WHERE tenant_id = {} AND anonymized_at IS NULL AND deleted_at < {} RETURNING id",
            word,
            word,
            now,
            tenant_id,
            cutoff,
        )
    return len(rows)


async def check(tenant_id: int, n: int) -> dict[str, Any]:
    from core.db import raw

    out = {}
    for label, sql in (
        (
            "customers_left",
            "SELECT COUNT(*) AS n FROM {t} WHERE tenant_id = {{}} AND anonymized_at IS NULL",
        ),
        (
            "contacts_left",
            "SELECT COUNT(*) AS n FROM {c} WHERE tenant_id = {{}} AND name <> 'Anonymiserad'",
        ),
    ):
        for suffix in ("", "_raw"):
            q = sql.format(t=f"bench_customer{suffix}", c=f"bench_contact{suffix}")
            out[label + (suffix or "_engine")] = int((await raw(q, tenant_id))[0]["n"])
    rows = await raw(
        "SELECT plugin, COUNT(*) AS n FROM activity WHERE tenant_id = {} GROUP BY plugin", tenant_id
    )
    out["activity_left"] = {r["plugin"]: int(r["n"]) for r in rows}
    return out


async def settle() -> None:
    """Start each timed run from the same state: statistics fresh, dirty pages written."""
    from core.db import is_sqlite, raw

    if is_sqlite():
        await raw("PRAGMA wal_checkpoint(TRUNCATE)")
        await raw("ANALYZE")
    else:
        await raw("VACUUM ANALYZE")
        await raw("CHECKPOINT")


def _rss_mb() -> float:
    """The process's peak resident set so far, in MB (Linux reports kB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class Phase:
    """Time, peak RSS and (optionally) Python's peak allocation of one phase."""

    def __init__(self, trace: bool) -> None:
        self.trace = trace
        self.seconds = 0.0
        self.rss_mb = 0.0
        self.py_peak_mb: float | None = None

    def __enter__(self) -> Phase:
        if self.trace:
            tracemalloc.start()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.seconds = time.perf_counter() - self.t0
        self.rss_mb = _rss_mb()
        if self.trace:
            self.py_peak_mb = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
            tracemalloc.stop()


BENCH_TABLES = ("bench_customer", "bench_contact")
#: Every table the sweep writes that the index watches: the bench tables and the activity
#: the rule clears.
INDEXED_TABLES = (*BENCH_TABLES, "activity")


async def drop_index_triggers() -> None:
    """Take the search index's triggers off every table the sweep writes (the no-index
    reference, and the untimed seeds of the reference copies: rows written without them
    leave no notes, so no timed phase indexes another phase's backlog at its commits)."""
    from core.db import as_owner, is_sqlite, raw
    from core.gdpr.search import _trigger_name

    async with as_owner():
        for tbl in INDEXED_TABLES:
            for op in ("ins", "upd", "anon", "del"):
                on = "" if is_sqlite() else f" ON {tbl}"
                await raw(f'DROP TRIGGER IF EXISTS "{_trigger_name(tbl, op)}"{on}')


@contextlib.contextmanager
def no_index_upkeep() -> Iterator[None]:
    """The engine's own index upkeep off too (it replaces the terms of the child rows it
    sets to constants itself, core.gdpr.search.quiet/replace_terms): the reference does no
    index work at all."""
    from core.gdpr import search

    @contextlib.asynccontextmanager
    async def quiet(tbl: str) -> AsyncIterator[None]:
        yield

    async def replace_terms(tbl: str, ids: list[int], values: dict[str, Any]) -> None:
        return None

    saved = (search.quiet, search.replace_terms)
    search.quiet, search.replace_terms = quiet, replace_terms
    try:
        yield
    finally:
        search.quiet, search.replace_terms = saved


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


async def main(n: int, batch: int, trace: bool = False) -> dict[str, Any]:
    from core import builtin, plugins  # noqa: F401  (builtin: the core's own plugin)
    from core.db import is_sqlite, pooled, raw
    from core.gdpr.engine import sweep
    from core.gdpr.search import ensure_index, index_backlog
    from core.migrate import migrate
    from core.tenancy import create_tenant

    host = plugins.PluginHost(load_entry_points=False)
    host.add(BenchPlugin(), name="bench")
    plugins.set_host(host)
    await migrate()
    async with pooled():
        for table in (BenchCustomer, BenchContact, BenchCustomerRaw, BenchContactRaw):
            await table.create_table(if_not_exists=True)
        for name in ("bench_contact", "bench_contact_raw"):
            await raw(
                f"CREATE INDEX IF NOT EXISTS {name}_customer_idx ON {name} (tenant_id, customer_id)"
            )
        await ensure_index(host)  # the bench tables are search sources: their triggers
        stamp = f"{os.getpid()}-{int(time.time())}"
        tid = int((await create_tenant(host, f"bench-{stamp}", "Bench AB"))["id"])
        ref = int((await create_tenant(host, f"bench-ref-{stamp}", "Bench Ref AB"))["id"])
        load_seed = load()
        with Phase(trace) as seeded:  # with the index: every row noted and indexed
            await seed(tid, n, "bench_customer", "bench_contact", "bench")
            # A bulk write leaves all but its first chunk to the background task
            # (core.gdpr.search.flush); this process is that task here, timed with the seed.
            backlog = await index_backlog()
        terms = int((await raw("SELECT COUNT(*) AS n FROM gdpr_search_term WHERE tenant_id = {}", tid))[0]["n"])
        # The references' rows are written without triggers (their activity too): otherwise
        # they leave ~6n notes that every timed sweep's commits would index a chunk of.
        await drop_index_triggers()
        t0 = time.perf_counter()
        await seed(ref, n, "bench_customer", "bench_contact", "bench")
        seed_noindex_s = time.perf_counter() - t0
        await seed(tid, n, "bench_customer_raw", "bench_contact_raw", "bench_raw")
        notes_left = int((await raw("SELECT COUNT(*) AS n FROM gdpr_search_dirty"))[0]["n"])

        # Reference 1: the engine's sweep without index upkeep (no triggers on its tables).
        await settle()
        load_noindex = load()
        t0 = time.perf_counter()
        with no_index_upkeep():
            noindex = sum(r.records for r in await sweep(ref, "bench", batch_size=batch))
        noindex_s = time.perf_counter() - t0
        await ensure_index(host)  # the triggers back (the fields are known: no reindex)

        await settle()
        load_sweep = load()
        with Phase(trace) as swept_phase:
            results = await sweep(tid, "bench", batch_size=batch)
        swept = sum(r.records for r in results)
        terms_left = int((await raw(
            "SELECT COUNT(*) AS n FROM gdpr_search_term t JOIN gdpr_search_field f ON f.id = t.field_id "
            "WHERE t.tenant_id = {} AND f.tbl = 'bench_customer'", tid,
        ))[0]["n"])

        # Reference 2: the same anonymization by hand, set-based.
        await settle()
        load_raw = load()
        t0 = time.perf_counter()
        raw_done = await raw_anonymization(tid, "Anonymiserad")
        raw_s = time.perf_counter() - t0
        checked = await check(tid, n)
    sweep_rate = swept / swept_phase.seconds
    noindex_rate = noindex / noindex_s
    raw_rate = raw_done / raw_s
    return {
        "engine": "sqlite" if is_sqlite() else "postgresql",
        "n": n,
        "batch": batch,
        "sweep_records": swept,
        "sweep_seconds": round(swept_phase.seconds, 3),
        "sweep_records_per_s": round(sweep_rate),
        "noindex_records": noindex,
        "noindex_seconds": round(noindex_s, 3),
        "noindex_records_per_s": round(noindex_rate),
        "ratio_noindex": round(sweep_rate / noindex_rate, 3),
        "raw_records": raw_done,
        "raw_seconds": round(raw_s, 3),
        "raw_records_per_s": round(raw_rate),
        "ratio": round(sweep_rate / raw_rate, 3),
        "seed_seconds": round(seeded.seconds, 1),
        "seed_noindex_seconds": round(seed_noindex_s, 1),
        "seed_terms": terms,
        "seed_indexed_in_background": backlog,
        "notes_left_before_sweeps": notes_left,
        "customer_terms_left_after_sweep": terms_left,
        "seed_peak_rss_mb": seeded.rss_mb,
        "sweep_peak_rss_mb": swept_phase.rss_mb,
        "seed_py_peak_mb": seeded.py_peak_mb,
        "sweep_py_peak_mb": swept_phase.py_peak_mb,
        "load_average": {"seed": load_seed, "noindex": load_noindex, "sweep": load_sweep, "raw": load_raw},
        "check": checked,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="customers to seed (default 100000)")
    parser.add_argument("--batch", type=int, default=1000, help="engine batch size (default 1000)")
    parser.add_argument("--tracemalloc", action="store_true", help="also Python's peak allocation per phase")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.n, args.batch, args.tracemalloc))))
