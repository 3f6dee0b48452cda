"""Dramatiq broker setup and the task registry.

Dramatiq binds an actor to the broker that is current when the actor is declared, so
declaring actors at import time would tie them to whatever broker happened to exist. Code
instead marks coroutines with :func:`task`; :func:`setup_broker` creates the broker from
``GALLRA_BROKER_URL`` (or an in-process stub broker for the embedded default) and only then
declares every task as an actor on it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO

log = logging.getLogger(__name__)

_TASKS: dict[str, tuple[Callable[..., Awaitable[Any]], dict[str, Any]]] = {}
_actors: dict[str, dramatiq.Actor[Any, Any]] = {}
_broker: dramatiq.Broker | None = None
_lock = threading.Lock()


def task(
    name: str | None = None, **options: Any
) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Mark an ``async def`` as a background task (a Dramatiq actor once a broker is set)."""

    def decorate(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        key = name or f"{fn.__module__}.{fn.__name__}"
        _TASKS[key] = (fn, options)
        if _broker is not None:
            _declare(key)
        return fn

    return decorate


def _declare(key: str) -> None:
    assert _broker is not None
    if key in _broker.actors:  # a broker made current again already has its actors
        _actors[key] = _broker.get_actor(key)
        return
    fn, options = _TASKS[key]
    opts = {"max_retries": 5, "min_backoff": 1000, "max_backoff": 60_000, **options}
    _actors[key] = dramatiq.actor(actor_name=key, broker=_broker, **opts)(fn)


def make_broker(url: str | None, namespace: str | None = None) -> dramatiq.Broker:
    """The broker for ``url``; ``namespace`` prefixes Redis keys (tests sharing one Redis)."""
    broker: dramatiq.Broker
    if not url or url.startswith("stub"):
        broker = StubBroker()
        broker.emit_after("process_boot")
    elif url.startswith(("redis://", "rediss://")):
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=url, namespace=namespace or "dramatiq")
    elif url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=url)
    else:
        raise SystemExit("GALLRA_BROKER_URL must start with redis:// or amqp://")
    if not any(isinstance(m, AsyncIO) for m in broker.middleware):
        broker.add_middleware(AsyncIO())
    return broker


def setup_broker(url: str | None, namespace: str | None = None) -> dramatiq.Broker:
    """Create the broker, make it current, and declare every known task on it."""
    return install_broker(make_broker(url, namespace))


def install_broker(broker: dramatiq.Broker) -> dramatiq.Broker:
    """Make an existing broker current again and declare every known task on it.

    Tests that switch to a real broker give the stub broker back this way, so fixtures
    holding it keep working.
    """
    global _broker
    with _lock:
        _broker = broker
        dramatiq.set_broker(broker)
        _actors.clear()
        for key in list(_TASKS):
            _declare(key)
        return broker


def get_broker() -> dramatiq.Broker:
    if _broker is None:
        from core.config import get_settings

        return setup_broker(get_settings().broker_url)
    return _broker


def actor(name: str) -> dramatiq.Actor[Any, Any]:
    get_broker()
    return _actors[name]


def enqueue(name: str, *args: Any, **kwargs: Any) -> None:
    """Send a task message. Messages are hints: the database says what is due (decision 4)."""
    actor(name).send(*args, **kwargs)


class DatabasePool(dramatiq.Middleware):
    """Worker processes: one PostgreSQL connection pool on the event loop the async tasks
    run on, so a task's statements reuse connections instead of opening one each (a sweep
    with nothing due is a few statements; connecting would cost more than running them).

    Added by ``core.worker_entry`` and by :func:`start_embedded_worker` (``gallra serve``):
    the engine keeps one pool per event loop (core.db.LoopPoolPostgresEngine), so the
    worker's loop gets its own beside the web loop's.
    """

    def __init__(self, max_size: int = 10) -> None:
        self.max_size = max_size

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        from dramatiq.asyncio import get_event_loop_thread
        from piccolo.engine.postgres import PostgresEngine

        from core.db import get_engine

        engine = get_engine()
        loop = get_event_loop_thread()
        if isinstance(engine, PostgresEngine) and loop is not None and engine.pool is None:
            size = max(self.max_size, getattr(worker, "worker_threads", 1) + 2)
            loop.run_coroutine(engine.start_connection_pool(min_size=1, max_size=size))

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        from dramatiq.asyncio import get_event_loop_thread

        from core.db import get_engine

        engine = get_engine()
        loop = get_event_loop_thread()
        if getattr(engine, "pool", None) is not None and loop is not None:
            try:
                loop.run_coroutine(engine.close_connection_pool())
            except Exception:  # shutting down anyway
                log.exception("could not close the database pool")


def task_names() -> list[str]:
    return sorted(_TASKS)


def start_worker(broker: dramatiq.Broker, threads: int = 4) -> dramatiq.Worker:
    """Run a Dramatiq worker in this process (the embedded default and tests)."""
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=100)
    worker.start()
    return worker


def start_embedded_worker(broker: dramatiq.Broker, threads: int = 2) -> dramatiq.Worker:
    """The in-process worker of ``gallra serve`` (no GALLRA_BROKER_URL), with a connection
    pool on its event loop: without one, every statement of a delivery or a sweep opened
    (and PostgreSQL forked) a connection of its own, several per SMS code sent."""
    if not any(isinstance(m, DatabasePool) for m in broker.middleware):
        broker.add_middleware(DatabasePool(max_size=threads + 2))
    return start_worker(broker, threads=threads)


def check_broker(broker: dramatiq.Broker) -> bool:
    """Whether the broker answers (for /health)."""
    try:
        if isinstance(broker, StubBroker):
            return True
        client = getattr(broker, "client", None)
        if client is not None:  # Redis
            return bool(client.ping())
        connection = getattr(broker, "connection", None)
        return connection is not None and connection.is_open
    except Exception:  # health answers yes/no, never raises
        return False
