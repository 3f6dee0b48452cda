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
import re
import sqlite3
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType

from core.config import Settings, get_settings

# aiosqlite logs every statement with its parameters at DEBUG: message bodies with one-time
# codes, tokens' hashes and personal data would reach the logs of anyone debugging.
logging.getLogger("aiosqlite").setLevel(logging.INFO)


def utcnow() -> datetime:
    return datetime.now(UTC)


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
        # timeout: SQLite's busy_timeout, so writers of several processes wait for the lock.
        return PooledSQLiteEngine(path=str(path), timeout=30, check_same_thread=False)
    return LoopPoolPostgresEngine(
        config={"dsn": settings.database_url}, owner_dsn=settings.owner_database_url
    )


# --- the tenant a connection works for (PostgreSQL row-level security) --------------------

SYSTEM_SCOPE = "*"
"""``gallra.tenant`` of work across tenants: sweeps, delivery, the CLI, platform admin."""


@dataclass
class _Scope:
    tenant_id: int | None = None
    cache: dict[Any, Any] | None = None
    """What one request has read and may read again (enabled modules), see
    :func:`request_cache`; None outside a request."""


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
    token = _scope.set(_Scope(cache={}))
    try:
        yield
    finally:
        _scope.reset(token)


def request_cache() -> dict[Any, Any] | None:
    """A dict that lives as long as the current HTTP request (None outside one), for
    values a request reads several times (a tenant's enabled modules). Nothing is shared
    across requests or processes, so nothing can go stale beyond one request; the code
    that writes such a value drops its key, and a rolled-back transaction clears it all."""
    scope = _scope.get()
    return None if scope is None else scope.cache


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
    _session_setting[_raw_connection(connection)] = scope_setting()


# What ``gallra.tenant`` holds at session level on each PostgreSQL connection, so that a
# connection taken from the pool is set only when it worked for another tenant last time
# (before: a round trip to set it on every checkout and another to RESET ALL on release).
_session_setting: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def _raw_connection(connection: Any) -> Any:
    return getattr(connection, "_con", None) or connection  # a pool's proxy wraps one


async def _ensure_session_scope(connection: Any) -> None:
    """Set ``gallra.tenant`` on a connection outside a transaction, if it differs."""
    want = scope_setting()
    raw_con = _raw_connection(connection)
    if _session_setting.get(raw_con) != want:
        _session_setting.pop(raw_con, None)  # unknown until the statement succeeded
        await connection.execute("SELECT set_config('gallra.tenant', $1, false)", want)
        _session_setting[raw_con] = want


_builtin_types: dict[tuple[Any, ...], Any] = {}
"""asyncpg's look-ups of built-in types (OIDs below 16384, which never change), by what was
looked up: shared by every connection of the process."""


def _connection_class() -> Any:
    """An asyncpg connection that looks built-in types up once per process.

    asyncpg has no codec of its own for arrays of integers or of varchar, so each new
    connection asked the server about them (a recursive catalog query, 6-8 ms of the
    server's time) before its first statement with one; the search index and most lists
    use them. Only built-in types are shared (a type a migration makes is looked up as
    before). The hook is asyncpg's ``_introspect_types`` (asyncpg 0.27-0.32); without it,
    connections look types up as asyncpg does."""
    import asyncpg

    global _SharedTypesConnection
    base = asyncpg.Connection
    if not hasattr(base, "_introspect_types"):
        return base
    if _SharedTypesConnection is None:
        _SharedTypesConnection = _make_shared_types_connection()
    return _SharedTypesConnection


def _make_shared_types_connection() -> Any:
    import asyncpg

    class SharedTypesConnection(asyncpg.Connection):
        async def _introspect_types(self, typeoids: Any, timeout: Any) -> Any:
            oids = tuple(sorted(int(o) for o in typeoids))
            if not oids or max(oids) >= 16384:
                return await super()._introspect_types(typeoids, timeout)
            hit = _builtin_types.get(oids)
            if hit is not None:
                return hit, _NAMED  # nothing ran: the statement being prepared is intact
            result = await super()._introspect_types(typeoids, timeout)
            # (rows, statement) in the asyncpg releases this was written for; any other
            # answer is passed on as it is and not shared.
            if isinstance(result, tuple) and len(result) == 2:
                _builtin_types[oids] = result[0]
            return result

    return SharedTypesConnection


class _Named:
    """Stands for the introspection statement when none ran: a named one (asyncpg then
    knows that the statement being prepared was not replaced)."""

    name = "gallra_shared_types"


_NAMED = _Named()
_SharedTypesConnection: Any = None


async def _keep_session(connection: Any) -> None:
    """The pool's reset on release: asyncpg has already rolled back an open transaction;
    nothing else is reset, so the cached ``gallra.tenant`` stays true (every statement
    checks it) and no round trip is spent. Advisory locks are transaction-level only."""


class GallraPostgresTransaction(PostgresTransaction):
    """A transaction whose BEGIN (and the tenant of the code, set for this transaction only
    with ``set_config(..., true)``) is sent with its first statement's round trip, not in
    one of its own; a transaction that ran nothing sends neither BEGIN nor COMMIT. A later
    :func:`bind_tenant` inside the transaction is applied before its next statement."""

    __slots__ = ("_begun", "may_note", "setting")

    async def begin(self) -> None:
        self._begun = False  # sent by _start, with the first statement
        self.setting = ""
        # Whether a statement of this transaction may have noted rows for the search index
        # (:func:`may_have_noted`): set by every statement that is neither a plain SELECT
        # nor run under :func:`indexes_itself`.
        self.may_note = False

    def _begin_sql(self) -> str:
        raw_con = _raw_connection(self.connection)
        want = scope_setting()
        self.setting = want
        if _session_setting.get(raw_con) == want:
            return "BEGIN"
        # ``want`` is ``*`` or an int (scope_setting): safe to write into the statement.
        return f"BEGIN; SELECT set_config('gallra.tenant', '{want}', true)"

    async def _start(self, then: str = "") -> None:
        """Send BEGIN now, with ``then`` (statements without parameters or results) in the
        same round trip."""
        sql = self._begin_sql()
        self._begun = True  # from here a failure is rolled back (ROLLBACK outside one: a warning)
        await self.connection.execute(f"{sql}; {then}" if then else sql)

    async def run_simple(self, sql: str) -> None:
        """Run ``sql`` (no parameters, no result wanted) in this transaction; the first
        statement shares its round trip with BEGIN."""
        _note_statement(self, sql)
        if not self._begun:
            await self._start(sql)
            return
        await self.ensure_scope()
        await self.connection.execute(sql)

    async def ensure_scope(self) -> None:
        if not self._begun:
            await self._start()
            return
        want = scope_setting()
        if self.setting != want:
            await self.connection.execute("SELECT set_config('gallra.tenant', $1, true)", want)
            self.setting = want

    async def savepoint(self, name: str | None = None) -> Any:
        await self.ensure_scope()
        return await super().savepoint(name)

    async def commit(self) -> None:
        if self._begun:
            await self.connection.execute("COMMIT")
        self._committed = True

    async def rollback(self) -> None:
        if self._begun:
            await self.connection.execute("ROLLBACK")
        self._rolled_back = True


# -- statements that index what they write --------------------------------------------
# A PostgreSQL transaction remembers whether any of its statements may have noted rows for
# the search index (its tables' triggers do; core.gdpr.search). Its flush before commit
# skips the claim's round trip when none may have: a create whose one INSERT wrote its own
# search terms (:func:`indexes_itself`) and whose other statements only read.

_indexes_itself: contextvars.ContextVar[bool] = contextvars.ContextVar("gallra_indexes_itself", default=False)

_WRITE_WORD = re.compile(r"\b(insert|update|delete|merge|copy|call|do|create|alter|drop|truncate)\b", re.IGNORECASE)


def _note_statement(tx: GallraPostgresTransaction, sql: str) -> None:
    """``tx.may_note`` from here on if ``sql`` may write: anything but a statement that
    starts with SELECT and names no writing command (a SELECT ... FOR UPDATE counts as
    writing; that only costs the claim it would have cost anyway). A SQL function that
    writes to a table must therefore not be called by a plain SELECT (none does: the
    session functions only read); if one were, its rows would still be found, by the next
    commit that claims or by a search, which catches up before answering."""
    if tx.may_note or _indexes_itself.get():
        return
    head = sql.lstrip()[:6].lower()
    if head != "select" or _WRITE_WORD.search(sql):
        tx.may_note = True


_row_indexer: list[Callable[[list[tuple[str, dict[str, Any], str]]], Any]] = []


def provide_row_indexer(indexer: Callable[[list[tuple[str, dict[str, Any], str]]], Any]) -> None:
    """core.gdpr.search gives the kernel the function that writes new rows' search terms in
    the statement that inserts them (``new_rows_terms``); the kernel does not import it."""
    _row_indexer[:] = [indexer]


def new_rows_index(rows: list[tuple[str, dict[str, Any], str]]) -> tuple[Any, Any] | None:
    """The search terms of the rows one statement inserts, as (a data-modifying WITH's
    INSERT, a one-row derived table that statement must join, whose ``notes_waiting`` the
    caller passes on to :func:`notes_waiting`), for a caller that runs the statement under
    :func:`indexes_itself`; None where the rows are indexed at commit as usual. ``rows``:
    (table, the row's column values, SQL naming the new row's id there)."""
    return _row_indexer[0](rows) if _row_indexer else None


@contextmanager
def indexes_itself() -> Iterator[None]:
    """The statements run inside write the search terms of every indexed row they write
    themselves and leave no note (core.gdpr.search.new_rows_terms): they do not count as
    statements that may have noted rows (:func:`may_have_noted`)."""
    token = _indexes_itself.set(True)
    try:
        yield
    finally:
        _indexes_itself.reset(token)


def notes_waiting() -> None:
    """Notes that other writes left are waiting (a self-indexing statement saw them): the
    current transaction's commit claims and indexes them, as every commit does."""
    current = get_engine().current_transaction.get()
    if isinstance(current, GallraPostgresTransaction):
        current.may_note = True


def may_have_noted() -> bool:
    """Whether a statement of the current transaction may have noted rows for the search
    index. Only a PostgreSQL transaction keeps track; anything else answers True."""
    current = get_engine().current_transaction.get()
    if isinstance(current, GallraPostgresTransaction):
        return bool(current.may_note)
    return True


async def run_simple(sql: str) -> None:
    """A statement without parameters whose result is not wanted (``sql`` built from the
    caller's constants and integers only, never input). Inside a PostgreSQL transaction
    that has not run anything yet, it travels with the BEGIN: one round trip, not two."""
    engine = get_engine()
    current = engine.current_transaction.get()
    if isinstance(current, GallraPostgresTransaction):
        _count_query()
        await current.run_simple(sql)
        return
    await raw(sql)


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

    @property
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
        # Every statement checks the tenant of the code that runs it against the one its
        # connection was last set to (see _ensure_session_scope), so neither a set-up on
        # checkout nor a RESET ALL on release is needed.
        kwargs.setdefault("reset", _keep_session)
        kwargs.setdefault("connection_class", _connection_class())
        await super().start_connection_pool(**kwargs)

    async def get_new_connection(self) -> Any:
        import asyncpg

        config = dict(self.config)
        if _owner.get():
            config["dsn"] = self.owner_dsn
        connection = await asyncpg.connect(**config, connection_class=_connection_class())
        try:
            await _apply_scope(connection)
        except BaseException:
            await connection.close()
            raise
        return connection

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return GallraPostgresTransaction(engine=self, allow_nested=allow_nested)

    async def _run_in_pool(self, query: str, args: Sequence[Any] | None = None) -> Any:
        if not self.pool:
            raise ValueError("A pool isn't currently running.")
        async with self.pool.acquire() as connection:
            await _ensure_session_scope(connection)
            return await connection.fetch(query, *(args or []))

    async def _run(self, query: str, args: Sequence[Any], in_pool: bool) -> Any:
        _count_query()
        current = self.current_transaction.get()
        if current:
            if isinstance(current, GallraPostgresTransaction):
                _note_statement(current, query)
                await current.ensure_scope()
            return await current.connection.fetch(query, *args)
        if in_pool and self.pool:
            return await self._run_in_pool(query, args)
        return await self._run_in_new_connection(query, args)

    async def run_querystring(self, querystring: Any, in_pool: bool = True) -> Any:
        query, query_args = querystring.compile_string(engine_type=self.engine_type)
        return await self._run(query, query_args, in_pool)

    async def run_ddl(self, ddl: str, in_pool: bool = True) -> Any:
        return await self._run(ddl, [], in_pool)

    async def run_self_scoped(self, query: str, args: Sequence[Any]) -> Any:
        """:func:`raw_self_scoped`: on a pooled connection, whatever tenant it holds."""
        if self.current_transaction.get() or not self.pool:
            return await self._run(query, args, True)
        _count_query()
        async with self.pool.acquire() as connection:
            return await connection.fetch(query, *args)


# --- SQLite: reused connections ---------------------------------------------------------


class _SQLitePool:
    """Open aiosqlite connections of one event loop, each with its own thread (opening one
    costs a thread and the file's set-up: 0.66 ms against 0.08 ms for a statement on a
    reused one). Connections are taken and given back; when all are out a new one is opened
    (and closed again if the pool is full), so nothing ever waits for a connection here:
    writers wait for SQLite's lock (``busy_timeout``) and, within one loop, for
    :attr:`PooledSQLiteEngine.writer_lock`."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.idle: list[Any] = []
        self.closed = False

    async def close(self) -> None:
        self.closed = True
        idle, self.idle = self.idle, []
        for connection in idle:
            try:
                await connection.close()
            except Exception:  # closing anyway
                logging.getLogger(__name__).debug("closing a pooled connection failed", exc_info=True)


def _sqlite_run(conn: sqlite3.Connection, query: str, args: Any, commit: bool) -> list[Any]:
    """One statement in the connection's own thread: one hop instead of three."""
    cursor = conn.execute(query, args)
    try:
        rows = cursor.fetchall()
    finally:
        cursor.close()
    if commit and conn.in_transaction:
        conn.commit()
    return rows


class PooledSQLiteTransaction(SQLiteTransaction):
    """A transaction on a pooled connection, given back instead of closed. IMMEDIATE
    transactions of one event loop queue on the engine's writer lock first, in order,
    instead of polling the file lock with SQLite's growing sleeps (up to 100 ms each)."""

    __slots__ = ("_writer",)

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        engine: PooledSQLiteEngine = self.engine  # type: ignore[assignment]
        self._writer = None
        if self.transaction_type == TransactionType.immediate:
            lock = engine.writer_lock()
            if lock is not None:
                await lock.acquire()
                self._writer = lock
        try:
            self.connection = await engine.get_connection()
            try:
                await self.begin()
            except BaseException:
                await engine.release_connection(self.connection)
                raise
        except BaseException:
            if self._writer is not None:
                self._writer.release()
            raise
        self.context = engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: object, exception: object, traceback: object) -> bool:
        if self._parent:
            return exception is None
        engine: PooledSQLiteEngine = self.engine  # type: ignore[assignment]
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            try:
                await engine.release_connection(self.connection)
            finally:
                engine.current_transaction.reset(self.context)
                if self._writer is not None:
                    self._writer.release()
        return exception is None


class PooledSQLiteEngine(SQLiteEngine):
    """SQLite with reused connections inside :func:`pooled` (the web app's lifespan);
    elsewhere (CLI, tests calling services) each statement outside a transaction opens a
    connection as before. ``PRAGMA foreign_keys`` is set once per connection, not before
    every statement."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pools: weakref.WeakKeyDictionary[Any, _SQLitePool] = weakref.WeakKeyDictionary()
        self._locks: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()

    def _pool(self) -> _SQLitePool | None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        pool = self._pools.get(loop)
        return pool if pool is not None and not pool.closed else None

    def writer_lock(self) -> asyncio.Lock | None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        if self._pools.get(loop) is None:
            return None  # not a pooled loop: as before, the file lock alone
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    async def start_pool(self, size: int) -> _SQLitePool:
        loop = asyncio.get_running_loop()
        pool = self._pools[loop] = _SQLitePool(size)
        return pool

    async def close_pool(self) -> None:
        loop = asyncio.get_running_loop()
        pool = self._pools.pop(loop, None)
        self._locks.pop(loop, None)
        if pool is not None:
            await pool.close()

    async def get_connection(self) -> Any:
        pool = self._pool()
        if pool is not None and pool.idle:
            return pool.idle.pop()
        return await super().get_connection()

    async def release_connection(self, connection: Any) -> None:
        pool = self._pool()
        if pool is not None and len(pool.idle) < pool.size:
            try:
                if connection.in_transaction:
                    await connection.rollback()
            except Exception:  # a broken connection is closed instead
                await connection.close()
                return
            pool.idle.append(connection)
            return
        await connection.close()

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> SQLiteTransaction:
        return PooledSQLiteTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )

    async def _run_in_new_connection(
        self, query: str, args: Any = None, query_type: str = "generic", table: Any = None
    ) -> Any:
        if self._pool() is None:
            return await super()._run_in_new_connection(query, args, query_type, table)
        connection = await self.get_connection()
        try:
            return await connection._execute(_sqlite_run, connection._conn, query, args or [], True)
        finally:
            await self.release_connection(connection)

    async def _run_in_existing_connection(
        self, connection: Any, query: str, args: Any = None, query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        # foreign_keys is on from the connection's opening (SQLiteEngine.get_connection)
        return await connection._execute(_sqlite_run, connection._conn, query, args or [], False)

    async def run_querystring(self, querystring: Any, in_pool: bool = False) -> Any:
        _count_query()
        return await super().run_querystring(querystring, in_pool)

    async def run_ddl(self, ddl: str, in_pool: bool = False) -> Any:
        _count_query()
        return await super().run_ddl(ddl, in_pool)


# --- statements per request (observability) -----------------------------------------------

_queries: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "gallra_queries", default=None
)


def _count_query() -> None:
    counter = _queries.get()
    if counter is not None:
        counter[0] += 1


@contextmanager
def count_queries() -> Iterator[list[int]]:
    """Count the statements run inside (``[n]``, a mutable holder so child tasks add to
    the same count)."""
    counter = [0]
    token = _queries.set(counter)
    try:
        yield counter
    finally:
        _queries.reset(token)


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
    rolled_back = True
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
        rolled_back = False
        if outer:
            pending = list(_after_commit.get() or [])
    finally:
        if token is not None:
            _after_commit.reset(token)
        if rolled_back:
            cache = request_cache()
            if cache:
                cache.clear()  # it may hold what the rolled-back transaction wrote
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


async def custom_plans() -> None:
    """Plan every further statement of the current transaction for its own arguments
    (PostgreSQL; nothing on SQLite). asyncpg prepares each statement once, and after five
    runs PostgreSQL may keep a generic plan made without the arguments: for a query whose
    rows depend on which tenant or record type it asks for, such a plan reads a whole table
    where an index finds nothing (13.8 ms instead of 0.05 ms for "any activity on this
    record type?" at 1M values). For reads whose cost varies that much with their
    arguments (the person search); planning each costs a few hundredths of a millisecond."""
    if not is_sqlite():
        await raw("SET LOCAL plan_cache_mode = force_custom_plan")


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


async def raw_query(querystring: Any) -> list[dict[str, Any]]:
    """A Piccolo ``QueryString`` (which may nest others), in the current transaction if
    there is one."""
    result = await get_engine().run_querystring(querystring)
    return list(result or [])


async def raw_self_scoped(sql: str, *args: Any) -> list[dict[str, Any]]:
    """A statement that sets the ``gallra.tenant`` it needs itself, for itself only (a
    function that calls ``set_config(..., true)`` first and puts the caller's value back,
    as ``gallra_employee_session``): on PostgreSQL it runs on a pooled connection
    whatever tenant that connection was last set to, so neither it nor the request's next
    statement spends a round trip switching the connection to ``*`` and back. In a
    transaction, or on SQLite, it is :func:`raw`."""
    from piccolo.querystring import QueryString

    engine = get_engine()
    if isinstance(engine, LoopPoolPostgresEngine):
        query, query_args = QueryString(sql, *args).compile_string(engine_type=engine.engine_type)
        return [dict(r) for r in await engine.run_self_scoped(query, query_args)]
    return await raw(sql, *args)


async def raw(sql: str, *args: Any) -> list[dict[str, Any]]:
    """Raw SQL with ``{}`` placeholders, in the current transaction if there is one."""
    from piccolo.querystring import QueryString

    result = await get_engine().run_querystring(QueryString(sql, *args))
    return list(result or [])


@asynccontextmanager
async def pooled() -> AsyncIterator[None]:
    """Run with a connection pool of this event loop. The application's lifespan uses it.
    PostgreSQL: each web process holds at most ``GALLRA_DB_POOL_MAX`` (20) connections and
    further requests wait for one. SQLite: up to that many open connections are kept and
    reused, and the loop's IMMEDIATE transactions queue on one lock."""
    engine = get_engine()
    size = int(os.environ.get("GALLRA_DB_POOL_MAX", "20"))
    if isinstance(engine, PostgresEngine) and engine.pool is None:
        await engine.start_connection_pool(min_size=0, max_size=size)
        try:
            yield
        finally:
            await engine.close_connection_pool()
    elif isinstance(engine, PooledSQLiteEngine) and engine._pool() is None:
        await engine.start_pool(size)
        try:
            yield
        finally:
            await engine.close_pool()
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
