"""Benchmark: the scheduled GDPR fan-out with nothing due.

Makes (or reuses) N tenants (default 1,000), starts ``gallra worker`` with 2 worker
processes on Redis, runs the scheduler's job once (``enqueue_sweeps``: one
``core.gdpr_sweep`` message per tenant x installed plugin with rules, 10,000 for 1,000
tenants and 10 plugins) and times until every message is done.

    python bench/fanout.py --database-url postgresql://postgres@127.0.0.1/gallra_fanout \\
        --broker-url redis://127.0.0.1:6379/12 [--tenants 1000] [--processes 2] [--threads 8]
        [--modes default|days]

``--modes days`` sets every rule a tenant may change to "days" first, so every sweep checks
every rule of its plugin (with the defaults most plugins' rules are "off"). The Redis
database is the bench's own: its Dramatiq keys are deleted before the run. Prints JSON:
{sweeps, seconds, sweeps_per_s, run_rows, records, errors, ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SLUG_PREFIX = "fanout-"


def configure(database_url: str, broker_url: str) -> None:
    os.environ["GALLRA_DATABASE_URL"] = database_url
    os.environ["GALLRA_BROKER_URL"] = broker_url
    os.environ.setdefault("PICCOLO_CONF", "core.piccolo_conf")


def start_workers(processes: int, threads: int, log_path: Path) -> subprocess.Popen[bytes]:
    """``gallra worker`` exactly as an operator starts it, in its own process group."""
    gallra = Path(sys.executable).parent / "gallra"
    cmd = [str(gallra), "worker", "--processes", str(processes), "--threads", str(threads)]
    env = dict(os.environ, GALLRA_LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT))
    log = open(log_path, "ab")  # noqa: SIM115 - the child keeps it
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop_workers(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


async def ensure_tenants(n: int) -> list[int]:
    from core import builtin  # noqa: F401  (the core's own plugin, before the host)
    from core.plugins import get_host
    from core.tables import Tenant
    from core.tenancy import create_tenant

    rows = await Tenant.select(Tenant.id).where(Tenant.slug.like(f"{SLUG_PREFIX}%"))
    have = len(rows)
    for i in range(have, n):
        await create_tenant(get_host(), f"{SLUG_PREFIX}{i}", f"Fan-out {i} AB")
    rows = await Tenant.select(Tenant.id).where(Tenant.slug.like(f"{SLUG_PREFIX}%"))
    return sorted(int(r["id"]) for r in rows)[:n]


async def set_all_days(tenant_ids: list[int]) -> None:
    """Every changeable rule to "days" (365) for these tenants."""
    from core.db import atomic, raw, utcnow
    from core.gdpr.registry import get_declarations

    keys = [r.key for r in get_declarations().rules.values() if not r.rule.fixed]
    keys = [k for k in keys if "days" in get_declarations().rules[k].rule.allowed_modes]
    async with atomic():
        for tid in tenant_ids:
            await raw("DELETE FROM gdpr_retention_setting WHERE tenant_id = {}", tid)
            for key in keys:
                await raw(
                    "INSERT INTO gdpr_retention_setting (tenant_id, rule_key, mode, days, changed_at) "
                    "VALUES ({}, {}, 'days', 365, {})",
                    tid,
                    key,
                    utcnow(),
                )


async def expected_rows(tenant_ids: list[int]) -> int:
    """Audit rows the fan-out writes: one per swept rule not in mode "off"."""
    from core.gdpr.engine import sweep_plugins
    from core.gdpr.registry import get_declarations
    from core.gdpr.settings import effective_settings

    decl = get_declarations()
    total = 0
    for tid in [0, *tenant_ids]:
        settings = await effective_settings(tid, decl)
        for plugin in sweep_plugins():
            if tid == 0 and plugin != "core":
                continue
            total += sum(1 for r in decl.rules_of(plugin) if settings[r.key].mode != "off")
    return total


def redis_client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url)


def pending_messages(client: Any) -> int:
    """Messages not yet acknowledged (queued, being processed, or delayed for a retry)."""
    return int(client.hlen("dramatiq:default.msgs")) + int(client.hlen("dramatiq:default.DQ.msgs"))


async def main(args: argparse.Namespace) -> dict[str, Any]:
    configure(args.database_url, args.broker_url)
    from core.db import is_sqlite, pooled, raw, utcnow
    from core.gdpr.engine import sweep_plugins
    from core.gdpr.jobs import enqueue_sweeps
    from core.migrate import migrate
    from core.worker import setup_broker

    if not args.broker_url.startswith("redis"):
        raise SystemExit("bench/fanout.py measures on Redis (--broker-url redis://...)")
    client = redis_client(args.broker_url)
    for key in client.scan_iter("dramatiq:*"):
        client.delete(key)
    await migrate()
    setup_broker(args.broker_url)
    async with pooled():
        t0 = time.perf_counter()
        tenant_ids = await ensure_tenants(args.tenants)
        if args.modes == "days":
            await set_all_days(tenant_ids)
        else:
            await raw(
                "DELETE FROM gdpr_retention_setting WHERE tenant_id IN "
                "(SELECT id FROM tenant WHERE slug LIKE {})",
                f"{SLUG_PREFIX}%",
            )
        expected = await expected_rows(tenant_ids)
        setup_s = time.perf_counter() - t0

        log_path = Path(args.log)
        workers = start_workers(args.processes, args.threads, log_path)
        try:
            deadline = time.monotonic() + 120
            while len(client.zrange("dramatiq:__heartbeats__", 0, -1)) < args.processes:
                if workers.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"workers did not start; see {log_path}")
                await asyncio.sleep(0.2)
            await asyncio.sleep(1)  # every worker thread is waiting for messages
            since = utcnow()
            t0 = time.perf_counter()
            sweeps = await enqueue_sweeps()
            enqueue_s = time.perf_counter() - t0
            deadline = time.monotonic() + args.timeout
            while pending_messages(client) > 0:
                if workers.poll() is not None:
                    raise SystemExit(f"workers exited; see {log_path}")
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
            seconds = time.perf_counter() - t0
            left = pending_messages(client)
        finally:
            stop_workers(workers)
        rows = await raw(
            "SELECT COUNT(*) AS n, COALESCE(SUM(records), 0) AS records, "
            "SUM(CASE WHEN outcome <> 'ok' THEN 1 ELSE 0 END) AS bad "
            "FROM gdpr_run WHERE trigger = 'sweep' AND started_at >= {}",
            since,
        )
    return {
        "engine": "sqlite" if is_sqlite() else "postgresql",
        "broker": "redis",
        "tenants": len(tenant_ids),
        "plugins": len(sweep_plugins()),
        "modes": args.modes,
        "processes": args.processes,
        "threads": args.threads,
        "sweeps": sweeps,
        "messages_left": left,
        "seconds": round(seconds, 2),
        "enqueue_seconds": round(enqueue_s, 2),
        "sweeps_per_s": round(sweeps / seconds),
        "within_60_s": left == 0 and seconds <= 60,
        "run_rows": int(rows[0]["n"]),
        "run_rows_expected": expected,
        "records": int(rows[0]["records"]),
        "errors": int(rows[0]["bad"] or 0),
        "setup_seconds": round(setup_s, 1),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="postgresql://... (its own database)")
    parser.add_argument("--broker-url", default="redis://127.0.0.1:6379/12", help="Redis for the workers")
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=2, help="worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker process")
    parser.add_argument("--modes", choices=("default", "days"), default="default")
    parser.add_argument("--timeout", type=float, default=600, help="give up after this many seconds")
    parser.add_argument("--log", default="/tmp/gallra-fanout-workers.log", help="the workers' output")
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
