"""A small bench/chaos.py: real worker processes, killed with SIGKILL while they sweep.

20 tenants with due records in ten modules and the event log, two of them with a backlog
of several batches; two Dramatiq worker processes (the Dramatiq CLI, as ``gallra worker``
starts them) on Redis, killed at random and restarted; then the next scheduled sweep. Every
due record must be anonymized exactly once, column by column, with the audit adding up.

Runs on the suite's database (the SQLite file, several processes through WAL, or
PostgreSQL) and on GALLRA_TEST_BROKER_URL, else the local Redis (database 12) when it
answers; its keys live under a namespace of their own and are deleted afterwards.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BROKER_URL = os.environ.get("GALLRA_TEST_BROKER_URL") or "redis://127.0.0.1:6379/12"


def _redis_answers(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:  # no Redis: the test says so and skips
        return False


def _load_bench() -> Any:
    spec = importlib.util.spec_from_file_location("gallra_bench_chaos", ROOT / "bench" / "chaos.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def chaos(stub_broker, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    if not _redis_answers(BROKER_URL):
        pytest.skip(f"no Redis answers at {BROKER_URL}: the worker processes need a real broker")
    from core import plugins
    from core import worker as core_worker
    from core.config import get_settings
    from core.gdpr import engine, jobs

    bench = _load_bench()
    cfg = bench.Config(
        database_url=get_settings().database_url,
        broker_url=BROKER_URL,
        tenants=20,
        workers=2,
        threads=2,
        due_per_module=2,
        big=2,
        big_records=1500,  # two batches each: kills can land between them
        # A kill every 1-2 s (a worker process starts in about one): three kills fit in
        # 7 s however the intervals fall (at most 2 + 2 x 2.3 s to the third). While they
        # go on, each rule's sweep starts after a pause of 0.15 s (220 of them, four at a
        # time: at least 8 s), so the sweep is not done by then on a fast machine either.
        kill_min=1.0,
        kill_max=2.0,
        pace=0.15,
        min_kills=3,
        chaos_seconds=7,
        stall_seconds=2,
        round_timeout=60,
        max_rounds=2,
        seed=11,
        log=str(tmp_path / "workers.log"),
    )
    # Smaller messages than the schedule's 20 tenants, so a kill loses less at a time.
    monkeypatch.setattr(jobs, "TENANTS_PER_MESSAGE", 3)

    # The schedule sweeps every tenant; here only the bench's (not every tenant that
    # earlier tests left in the database).
    async def chaos_tenants() -> list[int]:
        return [0, *await bench.ensure_tenants(cfg.tenants)]

    monkeypatch.setattr(engine, "tenant_ids", chaos_tenants)
    previous = plugins._host
    bench.install_host()
    broker = core_worker.setup_broker(BROKER_URL, namespace=cfg.namespace)
    try:
        yield bench, cfg
    finally:
        try:
            keys = list(broker.client.scan_iter(f"{cfg.namespace}*"))
            if keys:
                broker.client.delete(*keys)
        finally:
            broker.close()
            core_worker.install_broker(stub_broker)
            plugins.set_host(previous)


@pytest.mark.slow
async def test_sigkilled_workers_anonymize_every_due_record_exactly_once(chaos, tmp_path):
    bench, cfg = chaos
    result = await bench.run(cfg)
    log = (tmp_path / "workers.log").read_text(errors="replace")[-3000:]
    summary = {k: v for k, v in result.items() if k != "per_rule"}
    print(json.dumps(summary))  # the figures, with pytest -s
    assert result["kills"] >= cfg.min_kills, summary
    # The kills hit a sweep at work: due records were left the moment before each of them.
    assert result["kills_mid_sweep"] >= cfg.min_kills, summary
    assert result["finished"], (summary, log)
    expected = 20 * 10 * 2 + 2 * 1500 + 20  # persons in ten modules, backlogs, event log
    assert result["records"] == expected, summary
    assert (result["misses"], result["doubles"], result["half"], result["over"]) == (0, 0, 0, 0), (
        summary,
        result["per_rule"],
    )
    assert result["anonymized"] == result["audit_records"] == expected, summary
    assert result["audit_matches"], result["per_rule"]
    assert "running" not in result["runs"], summary
