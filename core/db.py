"""The database engine: a SQLite file by default (WAL), PostgreSQL via GALLRA_DATABASE_URL.

One engine per process. Queries inside ``atomic()`` share its transaction through Piccolo's
context variable, so a request's writes commit or roll back together.

On PostgreSQL every connection carries the tenant it works for in the setting
``gallra.tenant``, which the row-level security policies of every tenant table compare with
``tenant_id`` (see :mod:`core.rls`). A request is narrowed to its tenant as soon as it knows
who it acts for (:func:`bind_tenant`); the worker, the scheduler and the CLI work across
tenants (``*``). Migrations and other DDL run as the tables' owner (:func:`as_owner`).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import sqlite3
import weakref
from contextlib import asynccontextmanager, contextmanager
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
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
        from core.security import private_dir, private_file

        path = settings.sqlite_path
        # Only this user may read the data: the folder 0700, the file 0600 (its -wal and
        # -shm files get the file's mode from SQLite).
        private_dir(path.parent)
        if not private_file(path) and path.stat().st_mode & 0o077:
            logging.getLogger(__name__).warning(
                "%s can be read by other local users; make it private: chmod 600 %s*", path, path
            )
        # WAL is a property of the file: set it once, every later connection sees it.
        con = sqlite3.connect(path)
        try:
            con.execute("PRAGMA journal_mode=WAL")
        finally:
            con.close()
        return SQLiteEngine(path=str(path), timeout=30, check_same_thread=False)
    return LoopPoolPostgresEngine(
        config={"dsn": settings.database_url}, owner_dsn=settings.owner_database_url
    )


# --- the tenant a connection works for (PostgreSQL row-level security) --------------------

SYSTEM_SCOPE = "*"
"""``gallra.tenant`` of work across tenants: sweeps, delivery, the CLI, platform admin."""


@dataclass
class _Scope:
    tenant_id: int | None = None


_scope: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar("gallra_tenant_scope", default=None)
_owner: contextvars.ContextVar[bool] = contextvars.ContextVar("gallra_db_owner", default=False)


def scope_setting() -> str:
    """The value of ``gallra.tenant`` for connections taken now: a tenant id, or ``*``."""
    scope = _scope.get()
    if scope is None or scope.tenant_id is None:
        return SYSTEM_SCOPE
    return str(scope.tenant_id)


def current_tenant() -> int | None:
    """The tenant this request is bound to, or None (not bound, or not in a request)."""
    scope = _scope.get()
    return None if scope is None else scope.tenant_id


@contextmanager
def request_scope() -> Iterator[None]:
    """A request's scope: across tenants until :func:`bind_tenant` narrows it (the ASGI
    middleware of the app opens one per HTTP request). A mutable holder, so a binding made
    in a dependency resolved in a child task reaches the handler's task too."""
    token = _scope.set(_Scope())
    try:
        yield
    finally:
        _scope.reset(token)


def bind_tenant(tenant_id: int) -> None:
    """From now on this request's connections see only ``tenant_id``'s rows.

    Called where a request learns whom it acts for: the employee's session, the portal
    person's session, a public link's token. Outside a request (worker, scheduler, CLI,
    tests calling services directly) it does nothing; use :func:`tenant_scope` there.
    The identity resolved last wins: a request acts for one person at a time.
    """
    scope = _scope.get()
    if scope is not None:
        scope.tenant_id = int(tenant_id)


@contextmanager
def tenant_scope(tenant_id: int | None) -> Iterator[None]:
    """Connections taken inside see only ``tenant_id``'s rows (None: all tenants)."""
    token = _scope.set(_Scope(None if tenant_id is None else int(tenant_id)))
    try:
        yield
    finally:
        _scope.reset(token)


@asynccontextmanager
async def as_owner() -> AsyncIterator[None]:
    """Run as the tables' owner (``GALLRA_DATABASE_OWNER_URL``, else the normal URL): for
    migrations and DDL, which the application's role may not do. Each statement outside a
    transaction opens a connection of its own; a no-op on SQLite."""
    token = _owner.set(True)
    try:
        yield
    finally:
        _owner.reset(token)


async def _apply_scope(connection: Any) -> None:
    await connection.execute("SELECT set_config('gallra.tenant', $1, false)", scope_setting())


class LoopPoolPostgresEngine(PostgresEngine):
    """PostgreSQL with one connection pool per event loop.

    Without a pool every query opens a connection, and 200 concurrent logins exceeded the
    server's max_connections (500s). One process runs several loops, though: the web loop,
    and in the embedded set-up the Dramatiq worker's and the scheduler's. An asyncpg pool
    belongs to the loop that made it, so each loop gets its own (see :func:`pooled`); a loop
    without one opens a connection per query as before.
    """

    def __init__(self, *args: Any, owner_dsn: str | None = None, **kwargs: Any) -> None:
        self._pools: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
        super().__init__(*args, **kwargs)
        self.owner_dsn = owner_dsn or self.config.get("dsn")

    @staticmethod
    def _loop() -> Any:
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            return None

    @property  # type: ignore[override]
    def pool(self) -> Any:
        if _owner.get():
            return None  # the owner's statements open connections of their own
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

    async def start_connection_pool(self, **kwargs: Any) -> None:
        # Every connection handed out carries the tenant of the code that takes it.
        kwargs.setdefault("setup", _apply_scope)
        await super().start_connection_pool(**kwargs)

    async def get_new_connection(self) -> Any:
        import asyncpg

        config = dict(self.config)
        if _owner.get():
            config["dsn"] = self.owner_dsn
        connection = await asyncpg.connect(**config)
        try:
            await _apply_scope(connection)
        except BaseException:
            await connection.close()
            raise
        return connection


_engine: Engine | None = None


def get_engine() -> Engine:
    global _engine
    if _engine is None:
        _engine = make_engine(get_settings())
    return _engine


def is_sqlite() -> bool:
    return isinstance(get_engine(), SQLiteEngine)


# -- before-commit registry (#18.6) ------------------------------------------------------
# The kernel does not know who must write inside each transaction just before it commits;
# higher layers subscribe at start-up (core.gdpr.search: the person-search index commits
# with the data it describes) instead of db importing them.
from collections.abc import Awaitable  # noqa: E402  (kept in this block: see #18.6)

_before_commit: list[Callable[[], Awaitable[Any]]] = []


def on_before_commit(callback: Callable[[], Awaitable[Any]]) -> None:
    """Await ``callback()`` inside every outermost :func:`atomic` transaction, just before
    it commits (an error rolls the transaction back). Registering twice is a no-op."""
    if callback not in _before_commit:
        _before_commit.append(callback)


# -- end of before-commit registry ------------------------------------------------------

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
                for before in tuple(_before_commit):
                    await before()
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


def contains_text(
    column: str, text: str, *, number_column: str | None = None, max_number: int = 2_000_000_000
) -> Any:
    """A WHERE condition for a list's search box: ``column`` holds ``text`` anywhere, case
    ignored, with ``%``, ``_`` and ``\\`` taken literally; or, when ``number_column`` is
    given and ``text`` is a whole number, that column equals it. ``column`` names are the
    caller's own constants, never input."""
    from piccolo.columns.combination import WhereRaw

    term = text.strip()[:200]
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = "LIKE" if is_sqlite() else "ILIKE"  # SQLite's LIKE already ignores (ASCII) case
    match = f"{column} {like} {{}} ESCAPE '\\'"
    if number_column and term.isdigit() and len(term) <= 10 and int(term) <= max_number:
        return WhereRaw(f"({match} OR {number_column} = {{}})", f"%{escaped}%", int(term))
    return WhereRaw(match, f"%{escaped}%")


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


async def lock_row(table: str, row_id: int) -> None:
    """Hold one row until the current transaction ends, so that a read-then-write on what
    hangs off it (for example "delete the older link, insert the new one") cannot run twice
    at once. PostgreSQL: ``SELECT … FOR UPDATE``; SQLite already lets one writer at a time
    change anything, so nothing more is needed there. Call it inside :func:`atomic`."""
    if is_sqlite():
        return
    await raw(f'SELECT id FROM "{table}" WHERE id = {{}} FOR UPDATE', int(row_id))
