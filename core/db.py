"""The database engine: a SQLite file by default (WAL), PostgreSQL via GALLRA_DATABASE_URL.

One engine per process. Queries inside ``atomic()`` share its transaction through Piccolo's
context variable, so a request's writes commit or roll back together.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import sqlite3
import weakref
from contextlib import asynccontextmanager
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from core.config import Settings, get_settings

# aiosqlite logs every statement with its parameters at DEBUG: message bodies with one-time
# codes, tokens' hashes and personal data would reach the logs of anyone debugging.
logging.getLogger("aiosqlite").setLevel(logging.INFO)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def make_engine(settings: Settings) -> Engine:
    if settings.is_sqlite:
        path = settings.sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        # WAL is a property of the file: set it once, every later connection sees it.
        con = sqlite3.connect(path)
        try:
            con.execute("PRAGMA journal_mode=WAL")
        finally:
            con.close()
        return SQLiteEngine(path=str(path), timeout=30, check_same_thread=False)
    return LoopPoolPostgresEngine(config={"dsn": settings.database_url})


class LoopPoolPostgresEngine(PostgresEngine):
    """PostgreSQL with one connection pool per event loop.

    Without a pool every query opens a connection, and 200 concurrent logins exceeded the
    server's max_connections (500s). One process runs several loops, though: the web loop,
    and in the embedded set-up the Dramatiq worker's and the scheduler's. An asyncpg pool
    belongs to the loop that made it, so each loop gets its own (see :func:`pooled`); a loop
    without one opens a connection per query as before.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._pools: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
        super().__init__(*args, **kwargs)

    @staticmethod
    def _loop() -> Any:
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            return None

    @property  # type: ignore[override]
    def pool(self) -> Any:
        loop = self._loop()
        return self._pools.get(loop) if loop is not None else None

    @pool.setter
    def pool(self, value: Any) -> None:
        loop = self._loop()
        if loop is None:
            return  # Piccolo's __init__ sets None outside any loop
        if value is None:
            self._pools.pop(loop, None)
        else:
            self._pools[loop] = value


_engine: Engine | None = None


def get_engine() -> Engine:
    global _engine
    if _engine is None:
        _engine = make_engine(get_settings())
    return _engine


def is_sqlite() -> bool:
    return isinstance(get_engine(), SQLiteEngine)


_after_commit: contextvars.ContextVar[list[Callable[[], Any]] | None] = contextvars.ContextVar(
    "gallra_after_commit", default=None
)


@asynccontextmanager
async def atomic() -> AsyncIterator[None]:
    """One transaction; nested calls join the outer one.

    SQLite transactions start IMMEDIATE so that two writers queue on the file lock instead
    of failing on a read-to-write upgrade. Callbacks registered with :func:`after_commit`
    run once the outermost transaction has committed (for example, sending a task message
    about a row the worker must be able to read).
    """
    engine = get_engine()
    outer = _after_commit.get() is None
    token = _after_commit.set([]) if outer else None
    pending: list[Callable[[], Any]] = []
    try:
        if isinstance(engine, SQLiteEngine):
            tx = engine.transaction(transaction_type=TransactionType.immediate, allow_nested=True)
        else:
            tx = engine.transaction(allow_nested=True)
        async with tx:
            yield
            if outer:
                # The person-search index commits with the data it describes.
                from core.gdpr.search import flush

                await flush()
        if outer:
            pending = list(_after_commit.get() or [])
    finally:
        if token is not None:
            _after_commit.reset(token)
    for callback in pending:
        result = callback()
        if hasattr(result, "__await__"):
            await result


@asynccontextmanager
async def snapshot() -> AsyncIterator[None]:
    """Several reads on one connection and one consistent view (a read-only transaction).

    On SQLite each statement outside a transaction opens a connection of its own; a search
    that reads four times would pay for four. Never write inside: on SQLite a deferred
    transaction that starts writing can fail to get the lock.
    """
    engine = get_engine()
    if isinstance(engine, SQLiteEngine):
        tx = engine.transaction(transaction_type=TransactionType.deferred, allow_nested=True)
    else:
        tx = engine.transaction(allow_nested=True)
    async with tx:
        yield


def after_commit(callback: Callable[[], Any]) -> None:
    """Run ``callback`` after the current transaction commits (now, if there is none)."""
    pending = _after_commit.get()
    if pending is None:
        callback()
    else:
        pending.append(callback)


async def raw(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Raw SQL with ``{}`` placeholders, in the current transaction if there is one."""
    from piccolo.querystring import QueryString

    result = await get_engine().run_querystring(QueryString(sql, *args))
    return list(result or [])


@asynccontextmanager
async def pooled() -> AsyncIterator[None]:
    """Run with a connection pool of this event loop on PostgreSQL; a no-op on SQLite.
    The application's lifespan uses it, so each web process holds at most
    ``GALLRA_DB_POOL_MAX`` (20) connections and further requests wait for one."""
    engine = get_engine()
    if isinstance(engine, PostgresEngine) and engine.pool is None:
        size = int(os.environ.get("GALLRA_DB_POOL_MAX", "20"))
        await engine.start_connection_pool(min_size=0, max_size=size)
        try:
            yield
        finally:
            await engine.close_connection_pool()
    else:
        yield
