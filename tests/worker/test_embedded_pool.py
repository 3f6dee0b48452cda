"""``gallra serve``'s in-process worker reuses its PostgreSQL connections.

Its async tasks run on Dramatiq's own event loop; without a pool there, every statement
opened a connection of its own (PostgreSQL forks a backend for each): several per SMS code
sent at a login. :func:`core.worker.start_embedded_worker` gives that loop a pool.
"""

from __future__ import annotations

import uuid

import dramatiq
import pytest

from core.worker import make_broker, start_embedded_worker, start_worker

pytestmark = pytest.mark.pg

STATEMENTS = 6


def _backends_of_one_task(start) -> list[int]:  # type: ignore[no-untyped-def]
    """The backend (connection) each of a task's statements ran on."""
    broker = make_broker(None)
    pids: list[int] = []

    @dramatiq.actor(broker=broker, actor_name=f"test_backends_{uuid.uuid4().hex[:8]}", max_retries=0)
    async def backends() -> None:
        from core.db import raw

        for _ in range(STATEMENTS):
            pids.append(int((await raw("SELECT pg_backend_pid() AS pid"))[0]["pid"]))

    running = start(broker)
    try:
        backends.send()
        broker.join(backends.queue_name, timeout=20_000, fail_fast=True)
        running.join()
    finally:
        running.stop()
    assert len(pids) == STATEMENTS
    return pids


def test_the_embedded_worker_runs_a_task_on_one_pooled_connection():
    assert len(set(_backends_of_one_task(start_embedded_worker))) == 1


def test_a_worker_without_the_pool_opens_a_connection_per_statement():
    # Why the pool matters (and that the check above can tell the difference).
    assert len(set(_backends_of_one_task(start_worker))) == STATEMENTS
