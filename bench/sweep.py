"""Benchmark: the GDPR engine's sweep against hand-written set-based SQL on the same data.

Seeds N customers-like rows (default 100,000), each with two contacts and three activity
entries, all due, through a bench-only plugin with its own tables (it does not depend on
plugins/customers). Then it times ``core.gdpr.engine.sweep`` over them, and the same
anonymization written by hand as three set-based statements on an identical copy.

    python bench/sweep.py [--n 100000] [--batch 1000]

SQLite by default (a fresh file in a temporary folder); PostgreSQL when
GALLRA_DATABASE_URL is set (use a fresh database). Prints JSON:
{engine, n, sweep_records_per_s, raw_records_per_s, ratio, ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
if not os.environ.get("GALLRA_DATABASE_URL"):
    os.environ["GALLRA_DATA_DIR"] = tempfile.mkdtemp(prefix="gallra-bench-")
os.environ.setdefault("PICCOLO_CONF", "core.piccolo_conf")

from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from core.contracts import PersonalDataField, RecordType, RetentionRule
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


async def main(n: int, batch: int) -> dict[str, Any]:
    from core import builtin, plugins  # noqa: F401  (builtin: the core's own plugin)
    from core.db import is_sqlite, pooled, raw
    from core.gdpr.engine import sweep
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
        tenant = await create_tenant(host, f"bench-{os.getpid()}-{int(time.time())}", "Bench AB")
        tid = int(tenant["id"])
        t0 = time.perf_counter()
        await seed(tid, n, "bench_customer", "bench_contact", "bench")
        await seed(tid, n, "bench_customer_raw", "bench_contact_raw", "bench_raw")
        seeded = time.perf_counter() - t0

        await settle()
        t0 = time.perf_counter()
        results = await sweep(tid, "bench", batch_size=batch)
        sweep_s = time.perf_counter() - t0
        swept = sum(r.records for r in results)

        await settle()
        t0 = time.perf_counter()
        raw_done = await raw_anonymization(tid, "Anonymiserad")
        raw_s = time.perf_counter() - t0
        checked = await check(tid, n)
    sweep_rate = swept / sweep_s
    raw_rate = raw_done / raw_s
    return {
        "engine": "sqlite" if is_sqlite() else "postgresql",
        "n": n,
        "batch": batch,
        "sweep_records": swept,
        "sweep_seconds": round(sweep_s, 3),
        "sweep_records_per_s": round(sweep_rate),
        "raw_records": raw_done,
        "raw_seconds": round(raw_s, 3),
        "raw_records_per_s": round(raw_rate),
        "ratio": round(sweep_rate / raw_rate, 3),
        "seed_seconds": round(seeded, 1),
        "check": checked,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="customers to seed (default 100000)")
    parser.add_argument("--batch", type=int, default=1000, help="engine batch size (default 1000)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.n, args.batch))))
