"""Benchmark: what PostgreSQL row-level security costs a query.

Migrates the database as its owner (which installs the policies and grants the
application's role), puts ``--rows`` customers in each of two tenants, then times the same
statements three ways, each on its own asyncpg pool of 4 connections and ``--queries`` runs:

* ``plain``: the owner (a superuser: no policy applies), no tenant setting: the baseline.
* ``setting``: the owner, with ``gallra.tenant`` set on every acquire (what core/db.py does):
  the cost of the extra round trip alone.
* ``rls``: the application's role (held to the policies), with the setting: the real path.

Statements (all filter on the tenant themselves, as Gallra's queries do): a row by id, a
page of 50 in id order, and a count of the tenant's rows.

    python bench/rls.py --owner-url postgresql://postgres@127.0.0.1/gallra_rls \\
        --app-url postgresql://gallra_app@127.0.0.1/gallra_rls [--rows 50000] [--queries 3000]

Prints JSON: per way and statement, p50/p95 in milliseconds, and ``rls`` against ``plain``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TENANTS = (900001, 900002)

STATEMENTS = {
    "by_id": "SELECT id, name FROM customer WHERE tenant_id = $1 AND id = $2",
    "page_50": "SELECT id, name FROM customer WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT 50",
    "count": "SELECT count(*) FROM customer WHERE tenant_id = $1 AND $2::int IS NOT NULL",
}


async def prepare(owner_url: str, app_url: str, rows: int) -> dict[int, list[int]]:
    os.environ["GALLRA_DATABASE_URL"] = app_url
    os.environ["GALLRA_DATABASE_OWNER_URL"] = owner_url
    os.environ.setdefault("PICCOLO_CONF", "core.piccolo_conf")
    os.environ.setdefault("GALLRA_DATA_DIR", str(ROOT / "data" / "bench-rls"))
    from core.migrate import migrate

    await migrate()
    import asyncpg

    conn = await asyncpg.connect(owner_url)
    try:
        ids: dict[int, list[int]] = {}
        for tenant in TENANTS:
            have = await conn.fetchval("SELECT count(*) FROM customer WHERE tenant_id = $1", tenant)
            if have < rows:
                await conn.execute(
                    "INSERT INTO customer (tenant_id, number, kind, name) "
                    "SELECT $1, g, 'company', 'Bench ' || g FROM generate_series($2::int, $3::int) g",
                    tenant, have + 1, rows,
                )
            ids[tenant] = [r["id"] for r in await conn.fetch("SELECT id FROM customer WHERE tenant_id = $1", tenant)]
        await conn.execute("DELETE FROM gdpr_search_dirty")  # the triggers noted the rows; not searched here
        await conn.execute("ANALYZE customer")
    finally:
        await conn.close()
    return ids


async def measure(url: str, with_setting: bool, ids: dict[int, list[int]], queries: int) -> dict[str, Any]:
    import asyncpg

    tenant_of: dict[str, str] = {}

    async def setup(connection: Any) -> None:
        if with_setting:
            await connection.execute("SELECT set_config('gallra.tenant', $1, false)", tenant_of["now"])

    pool = await asyncpg.create_pool(url, min_size=4, max_size=4, setup=setup)
    out: dict[str, Any] = {}
    try:
        rng = random.Random(7)
        for name, sql in STATEMENTS.items():
            times: list[float] = []
            for i in range(queries):
                tenant = TENANTS[i % 2]
                tenant_of["now"] = str(tenant)
                arg = rng.choice(ids[tenant])
                start = time.perf_counter()
                async with pool.acquire() as connection:
                    result = await connection.fetch(sql, tenant, arg)
                times.append((time.perf_counter() - start) * 1000)
                if name == "count":
                    assert result[0][0] == len(ids[tenant]), (name, result[0][0])
                elif name == "by_id":
                    assert len(result) == 1
            times.sort()
            out[name] = {
                "p50_ms": round(statistics.median(times), 3),
                "p95_ms": round(times[int(len(times) * 0.95) - 1], 3),
            }
    finally:
        await pool.close()
    return out


async def main(a: argparse.Namespace) -> dict[str, Any]:
    ids = await prepare(a.owner_url, a.app_url, a.rows)
    result: dict[str, Any] = {"rows_per_tenant": a.rows, "queries": a.queries}
    for way, url, setting in (
        ("plain", a.owner_url, False),
        ("setting", a.owner_url, True),
        ("rls", a.app_url, True),
    ):
        await measure(url, setting, ids, min(200, a.queries))  # warm the caches
        result[way] = await measure(url, setting, ids, a.queries)
    result["rls_over_plain_p50"] = {
        name: round(result["rls"][name]["p50_ms"] / result["plain"][name]["p50_ms"], 2) for name in STATEMENTS
    }
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--owner-url", required=True)
    parser.add_argument("--app-url", required=True)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=3_000)
    print(json.dumps(asyncio.run(main(parser.parse_args())), indent=2))
