"""A Dramatiq actor round trip on the real Redis broker (GALLRA_TEST_BROKER_URL).

The test uses its own Redis key namespace, so runs sharing one Redis do not take each
other's messages, and gives the stub broker back when it is done.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import pytest

from core import worker as core_worker
from core.delivery import queue_message
from core.tables import Outbox
from core.testing.client import AppClient

BROKER_URL = os.environ.get("GALLRA_TEST_BROKER_URL")


@pytest.fixture
def redis_broker(stub_broker):  # type: ignore[no-untyped-def]
    if not BROKER_URL:
        pytest.skip("GALLRA_TEST_BROKER_URL is not set: no Redis to run the broker round trip on")
    namespace = f"gallra-test-{uuid.uuid4().hex[:12]}"
    broker = core_worker.setup_broker(BROKER_URL, namespace=namespace)
    try:
        yield broker
    finally:
        try:
            keys = list(broker.client.scan_iter(f"{namespace}*"))
            if keys:
                broker.client.delete(*keys)
        finally:
            broker.close()
            core_worker.install_broker(stub_broker)


async def test_actor_round_trip_on_redis(redis_broker, tenant, make_host):
    make_host()  # the core's outbox delivery, no gateway plugins
    assert type(redis_broker).__name__ == "RedisBroker"
    assert core_worker.get_broker() is redis_broker
    running = core_worker.start_worker(redis_broker, threads=2)
    try:
        mid = await queue_message("email", "anna@example.org", "Hej via Redis", subject="S", tenant_id=tenant.id)
        deadline = time.monotonic() + 20
        row = None
        while time.monotonic() < deadline:
            row = await Outbox.select().where(Outbox.id == mid).first()
            if row["status"] != "queued":
                break
            await asyncio.sleep(0.05)
        assert row is not None
        assert (row["status"], row["provider"], row["attempts"]) == ("sent", "outbox", 1)
    finally:
        running.stop()
    # Nothing is left waiting in this test's queues.
    assert redis_broker.client.llen(f"{redis_broker.namespace}:default") == 0


async def test_health_reports_redis_broker(app, redis_broker):
    async with AppClient(app=app) as c:
        r = await c.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": True, "broker": True}


async def test_health_reports_an_unreachable_broker(app, stub_broker):
    core_worker.setup_broker("redis://127.0.0.1:1/0")  # nothing listens on port 1
    try:
        async with AppClient(app=app) as c:
            r = await c.get("/health")
        assert r.status_code == 503
        assert r.json() == {"status": "degraded", "database": True, "broker": False}
    finally:
        core_worker.install_broker(stub_broker)


def test_the_stub_broker_is_back(stub_broker, worker):
    """Later tests get the stub broker their ``worker`` drains, whatever ran before."""
    assert core_worker.get_broker() is stub_broker
    assert core_worker.actor("core.deliver_message").broker is stub_broker
