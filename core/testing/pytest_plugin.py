"""Gallra's pytest plugin: fixtures for testing a plugin, and (opt-in) the test environment.

Registered through ``[project.entry-points.pytest11] gallra = "core.testing.pytest_plugin"``,
so pytest loads it in every project where Gallra is installed — Gallra's own suite
included. It therefore does nothing at import and nothing in ``pytest_configure`` unless a
project opts in, and its fixtures all start with ``gallra_`` so they never shadow a
project's own ``client`` or ``tenant``.

Opting in (a plugin distribution's ``pyproject.toml``)::

    [tool.pytest.ini_options]
    gallra_plugins = ["contracts"]                      # installed: found by entry point
    # gallra_plugins = ["contracts = gallra_contracts"] # not installed: registered from the module

With the option set, before any conftest is imported, the plugin points Gallra at a fresh
temporary data directory, at SQLite (or at ``GALLRA_TEST_DATABASE_URL`` when that is set,
for PostgreSQL), at the in-process stub broker, with no SMTP; then, at configure time, it
registers the named plugins that are not installed and applies every migration.

Under pytest-xdist (``-n 2``) every worker is a process of its own and gets an environment of
its own: its own data directory (so its own SQLite file), and on PostgreSQL its own database,
``<database>_<worker>`` (``gallra_ci_gw0``), made from ``GALLRA_TEST_DATABASE_OWNER_URL``
(else ``GALLRA_TEST_DATABASE_URL``), migrated by the worker and dropped when it ends; the
application's role keeps its name. The controller runs no test, so it applies no migration.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib
import itertools
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import pytest_asyncio
from argon2 import PasswordHasher

INI = "gallra_plugins"
_ENV_READY = "GALLRA_KIT_ENVIRONMENT"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        INI,
        type="linelist",
        default=[],
        help=(
            "Gallra plugins under test: NAME (installed through the gallra.plugins entry point) "
            "or NAME = module (registered from that module when not installed). Setting it "
            "makes the gallra pytest plugin prepare a temporary Gallra environment."
        ),
    )


def plugin_entries(config: pytest.Config) -> list[tuple[str, str | None]]:
    """The ``gallra_plugins`` ini lines as (name, module or None)."""
    out: list[tuple[str, str | None]] = []
    for line in config.getini(INI) or []:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, module = line.partition("=")
        out.append((name.strip(), module.strip() or None))
    return out


def xdist_worker() -> str | None:
    """The pytest-xdist worker this process is (``gw0``), or None when it is none."""
    return os.environ.get("PYTEST_XDIST_WORKER") or None


def is_xdist_controller(config: pytest.Config) -> bool:
    """True in the process that hands tests to xdist workers and runs none itself."""
    return (
        not hasattr(config, "workerinput")
        and config.getoption("dist", "no") != "no"
        and bool(config.getoption("tx", None))
    )


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def _with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


_worker_databases: list[tuple[str, str]] = []  # (an admin URL, database) made by this process


def _own_worker_database(worker: str) -> None:
    """Give this xdist worker a PostgreSQL database of its own (see the module's docstring).

    Made fresh (an earlier run's is dropped first) as the owner, who then migrates it; the
    test URLs are pointed at it, each keeping its role.
    """
    url = os.environ.get("GALLRA_TEST_DATABASE_URL") or ""
    if not _is_postgres(url):
        return
    owner = os.environ.get("GALLRA_TEST_DATABASE_OWNER_URL") or url
    base = urlsplit(owner).path.lstrip("/") or "postgres"
    name = f"{base}_{worker}"
    admin = _with_database(owner, "postgres")

    async def create() -> None:
        import asyncpg

        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
            # A throw-away database: its commits need not wait for the disk (about 1 ms
            # each, thousands of them per test run). What a test sees is the same.
            await conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        finally:
            await conn.close()

    asyncio.run(create())
    if not _worker_databases:
        # At exit, not in pytest_unconfigure: what the tests register with atexit later (the
        # conformance kit's template databases, dropped through this database's URL) runs
        # first.
        atexit.register(drop_worker_databases)
    _worker_databases.append((admin, name))
    os.environ["GALLRA_TEST_DATABASE_URL"] = _with_database(url, name)
    if os.environ.get("GALLRA_TEST_DATABASE_OWNER_URL"):
        os.environ["GALLRA_TEST_DATABASE_OWNER_URL"] = _with_database(owner, name)


def drop_worker_databases() -> None:
    """Drop the databases :func:`_own_worker_database` made (best effort, at the end)."""
    async def drop(admin: str, name: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    while _worker_databases:
        admin, name = _worker_databases.pop()
        with contextlib.suppress(Exception):  # best effort; the next run drops it first anyway
            asyncio.run(drop(admin, name))


def prepare_environment(data_dir_prefix: str = "gallra-kit-") -> str:
    """Point Gallra at a throw-away environment; returns the data directory.

    Must run before any Gallra module reads its settings (they are read once per process).
    Each process prepares its own (an xdist worker inherits its controller's variables, but
    not its data directory or database).
    """
    ready = os.environ.get(_ENV_READY, "")
    pid, _, ready_dir = ready.partition(":")
    if ready_dir and pid == str(os.getpid()):
        return ready_dir
    worker = xdist_worker()
    if worker:
        _own_worker_database(worker)
    data_dir = tempfile.mkdtemp(prefix=f"{data_dir_prefix}{worker + '-' if worker else ''}")
    os.environ["GALLRA_DATA_DIR"] = data_dir
    if os.environ.get("GALLRA_TEST_DATABASE_URL"):
        os.environ["GALLRA_DATABASE_URL"] = os.environ["GALLRA_TEST_DATABASE_URL"]
    else:
        os.environ.pop("GALLRA_DATABASE_URL", None)
    if os.environ.get("GALLRA_TEST_DATABASE_OWNER_URL") and os.environ.get("GALLRA_TEST_DATABASE_URL"):
        os.environ["GALLRA_DATABASE_OWNER_URL"] = os.environ["GALLRA_TEST_DATABASE_OWNER_URL"]
    else:
        os.environ.pop("GALLRA_DATABASE_OWNER_URL", None)
    for name in ("GALLRA_BROKER_URL", "GALLRA_SMTP_HOST"):
        os.environ.pop(name, None)
    os.environ.setdefault("GALLRA_PLATFORM_TOKEN", "kit-platform-token-" + uuid.uuid4().hex)
    os.environ["PICCOLO_CONF"] = "core.piccolo_conf"
    os.environ[_ENV_READY] = f"{os.getpid()}:{data_dir}"
    from core.config import get_settings

    get_settings.cache_clear()
    cheap_password_hashing()
    return data_dir


def cheap_password_hashing() -> None:
    """Hash and check passwords in this process with Argon2id at its lowest cost (one pass
    over 8 KiB), as Django's test settings swap in a fast hasher.

    The real cost is slow on purpose (19 MiB, 2 passes: some 20 ms of CPU a check), and a
    suite logs in, makes portal accounts and re-checks passwords a few thousand times: an
    eighth of its CPU. Every rule stays as it is: hashes are Argon2id, a wrong password is
    refused, a hash of other parameters is re-hashed at login (to these). A server or worker
    a test starts as a process of its own hashes at the real cost
    (tests/core/test_auth.py checks both)."""
    from core import auth

    if auth.HASHER is not _CHEAP_HASHER:
        auth.HASHER = _CHEAP_HASHER
        auth._dummy_hash.cache_clear()
        _password_hash.clear()


_CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def register_plugins(entries: list[tuple[str, str | None]]) -> None:
    """Make sure every named plugin is on the process's plugin host.

    An installed plugin is already there (entry point); ``NAME = module`` registers the
    module under NAME when it is not, so a plugin can be tested before it is installed.
    """
    from core import builtin  # noqa: F401  (the core's own plugin, before the host)
    from core.plugins import get_host

    host = get_host()
    for name, module in entries:
        if name in host.records:
            continue
        if module is None:
            raise pytest.UsageError(
                f"gallra_plugins names {name!r}, but no installed distribution declares it in "
                f"the 'gallra.plugins' entry-point group. Install yours (pip install -e .) or "
                f"write '{name} = your_package' to register it from its module."
            )
        host.add(importlib.import_module(module), name=name, distribution="local")
    # What start-up checks (a misspelt hook, two owners of a kind) fails the test run too.
    from core.plugins import PluginError

    try:
        host.check()
    except PluginError as exc:
        raise pytest.UsageError(str(exc)) from exc


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    if plugin_entries(early_config):
        prepare_environment()


def pytest_configure(config: pytest.Config) -> None:
    entries = plugin_entries(config)
    if not entries:
        return  # not opted in: the project sets Gallra up itself (Gallra's own tests/conftest.py)
    prepare_environment()
    register_plugins(entries)
    if is_xdist_controller(config):
        return  # the workers migrate their own databases
    from core.migrate import migrate

    asyncio.run(migrate())


def tested_plugins(config: pytest.Config) -> list[str]:
    """Names listed in the ``gallra_plugins`` ini option."""
    return [name for name, _ in plugin_entries(config)]


# --- fixtures -----------------------------------------------------------------------------

_counter = itertools.count(1)
PASSWORD = "kit-password-" + uuid.uuid4().hex[:10]
_password_hash: list[str] = []


def password_hash() -> str:
    """The Argon2id hash of PASSWORD, once per process (with the kit's hasher:
    :func:`cheap_password_hashing`)."""
    if not _password_hash:
        from core.auth import HASHER

        _password_hash.append(HASHER.hash(PASSWORD))
    return _password_hash[0]


_hash = password_hash  # the old private name


def unique_slug(prefix: str = "kit") -> str:
    """A tenant slug no other test, process or xdist worker uses."""
    return f"{prefix}-{os.getpid()}-{next(_counter)}-{uuid.uuid4().hex[:6]}"


@dataclass
class KitTenant:
    """A tenant made for one test, with an administrator who can log in."""

    id: int
    slug: str
    admin_id: int
    admin_email: str
    password: str


async def make_tenant(
    modules: list[str] | None = None,
    language: str = "sv",
    *,
    prefix: str = "kit",
    organization: str = "Kit",
    admin_name: str = "Kit Admin",
) -> KitTenant:
    """A fresh tenant (every module enabled unless ``modules`` says otherwise) and its admin.

    The keywords name it: slug ``<prefix>-…``, organization ``<organization> <slug>``.
    Its statements share pooled connections (:func:`core.db.pooled`), as a request's do."""
    from core.db import pooled

    async with pooled():
        return await _make_tenant(modules, language, prefix, organization, admin_name)


async def _make_tenant(
    modules: list[str] | None, language: str, prefix: str, organization: str, admin_name: str
) -> KitTenant:
    from core.plugins import get_host
    from core.tables import Employee
    from core.tenancy import create_tenant

    slug = unique_slug(prefix)
    tenant = await create_tenant(get_host(), slug, f"{organization} {slug}", modules, language)
    email = f"admin@{slug}.example"
    rows = await Employee.insert(
        Employee(
            tenant_id=int(tenant["id"]),
            name=admin_name,
            email=email,
            role="admin",
            password_hash=password_hash(),
        )
    ).returning(Employee.id)
    return KitTenant(int(tenant["id"]), slug, int(rows[0]["id"]), email, PASSWORD)


# The address the test client's requests come from (litestar.testing's ASGI scope).
TEST_CLIENT_IP = "testclient"


async def api_login(client: Any, tenant: KitTenant, email: str | None = None, password: str | None = None) -> Any:
    """POST /api/auth/login as the tenant's administrator (or ``email``/``password``); the
    response, whatever it is."""
    return await client.post(
        "/api/auth/login",
        json={"tenant": tenant.slug, "email": email or tenant.admin_email, "password": password or tenant.password},
    )


async def fast_login(client: Any, tenant: KitTenant) -> Any:
    """Sign ``client`` in as the tenant's administrator without the Argon2 check, like
    Django's ``force_login``; the 200 answer POST /api/auth/login would give (an
    ``httpx.Response``), or None when the caller must use the real API instead.

    The state afterwards is what the API login leaves: the login throttle's attempt is
    reserved and given back (:func:`core.auth.check_login`), the ``challenge_second_factor``
    hook is asked (:func:`core.auth.ask_login_second_factor`), the client's earlier session
    ends, a new one opens and the system log notes the login (:func:`core.auth.sign_in`), and
    the session cookie is set on the client as the API's answer would set it. Only the
    password check differs: the administrator's stored hash must still be the kit's hash of
    :data:`PASSWORD` (compared as text, which is exact: the kit hashes once per process).

    None (nothing changed): the login is throttled, the administrator is gone, or the
    password was changed; the API answers those. A second factor asked (or the login
    refused by it) fails the test: the hook has started its challenge, so the API cannot be
    asked again; a test of a tenant whose login asks a second factor logs in through the API.

    Its statements share pooled connections (:func:`core.db.pooled`, as requests do in the
    server): outside a request each statement would open a connection of its own, which
    costs more than the Argon2 check saved.
    """
    from core.db import pooled

    async with pooled():
        return await _fast_login(client, tenant)


async def _fast_login(client: Any, tenant: KitTenant) -> Any:
    from datetime import timedelta
    from http.cookiejar import Cookie

    import httpx

    from core import auth, throttle
    from core.config import get_settings
    from core.tables import Employee
    from core.web import SESSION_COOKIE

    settings = get_settings()
    key = auth.login_key(tenant.slug, tenant.admin_email)
    if not await throttle.reserve(key, settings.login_max_failures, timedelta(minutes=settings.login_window_minutes)):
        return None
    employee = (
        await Employee.select(Employee.id, Employee.name, Employee.role, Employee.password_hash)
        .where(
            (Employee.tenant_id == tenant.id)
            & (Employee.email == tenant.admin_email.strip().lower())
            & Employee.deleted_at.is_null()
        )
        .first()
    )
    await throttle.give_back(key)  # right or not: the API's own attempt counts a wrong one
    if employee is None or employee["password_hash"] != password_hash() or tenant.password != PASSWORD:
        return None
    user_agent = client.headers.get("user-agent", "")
    decision = await auth.ask_login_second_factor(
        tenant.id, int(employee["id"]), client.cookies.get("gallra_device"), user_agent
    )
    if decision is not None and (decision.refusal() is not None or decision.required):
        raise AssertionError(
            "fast login: the tenant's login asks a second factor (or refuses it); log in "
            "through POST /api/auth/login in this test"
        )
    token = await auth.sign_in(
        tenant.id, int(employee["id"]), TEST_CLIENT_IP, user_agent, client.cookies.get(SESSION_COOKIE)
    )
    # The cookie as the answer's Set-Cookie would store it (core.web.session_cookie).
    https = client.base_url.scheme == "https"
    client.cookies.jar.set_cookie(
        Cookie(
            version=0, name=SESSION_COOKIE, value=token, port=None, port_specified=False,
            domain=client.base_url.host, domain_specified=False, domain_initial_dot=False,
            path="/", path_specified=True, secure=https,
            expires=int(time.time()) + settings.session_max_hours * 3600, discard=False,
            comment=None, comment_url=None, rest={"HttpOnly": "", "SameSite": "lax"},
        )
    )
    body = {
        "status": "logged_in",
        "employee_id": int(employee["id"]),
        "name": employee["name"],
        "role": employee["role"],
        "second_factor": None,
    }
    return httpx.Response(200, json=body, request=httpx.Request("POST", client.base_url.join("/api/auth/login")))


async def login(client: Any, tenant: KitTenant) -> None:
    """Log ``client`` in as the tenant's administrator (fails the test if it cannot).

    Through :func:`fast_login` (no Argon2 check: a session made directly, with the same
    state as the API's login), else through POST /api/auth/login (a changed password, a
    throttled login: then it must answer 200)."""
    response = await fast_login(client, tenant) or await api_login(client, tenant)
    assert response.status_code == 200, f"kit login failed: {response.status_code} {response.text}"


_apps: list[Any] = []


@pytest.fixture
def gallra_host() -> Any:
    """The process's plugin host (every installed plugin, plus those registered by the kit)."""
    from core.plugins import get_host

    return get_host()


@pytest.fixture
def gallra_app(gallra_host: Any) -> Any:
    """The Litestar application with every plugin of ``gallra_host`` mounted.

    Kept while the host stays the same (building one takes most of a second). Migrations
    were applied when the session started, so the start-up check is skipped.
    """
    from core.app import create_app
    from core.worker import get_broker

    get_broker()  # tasks need a broker before a request sends one (stub unless configured)
    if _apps and _apps[0] is gallra_host:
        return _apps[1]
    app = create_app(host=gallra_host, check_migrations=False)
    _apps[:] = [gallra_host, app]
    return app


@pytest.fixture
def gallra_tenant_factory() -> Callable[..., Awaitable[KitTenant]]:
    """``await gallra_tenant_factory(modules=None, language="sv")`` makes another tenant."""
    return make_tenant


@pytest_asyncio.fixture
async def gallra_tenant() -> KitTenant:
    """A fresh tenant with every module enabled, and its administrator."""
    return await make_tenant()


@pytest_asyncio.fixture
async def gallra_anon_client(gallra_app: Any) -> AsyncIterator[Any]:
    """An HTTP client of ``gallra_app`` that is not logged in."""
    from core.testing.client import AppClient

    async with AppClient(app=gallra_app) as client:
        yield client


@pytest_asyncio.fixture
async def gallra_client(gallra_app: Any, gallra_tenant: KitTenant) -> AsyncIterator[Any]:
    """An HTTP client logged in as the administrator of ``gallra_tenant``: signed in
    directly, without the Argon2 check, with the state the API's login leaves
    (:func:`fast_login`)."""
    from core.testing.client import AppClient

    async with AppClient(app=gallra_app) as client:
        await login(client, gallra_tenant)
        yield client


@pytest.fixture
def gallra_login() -> Callable[[Any, KitTenant], Awaitable[None]]:
    """``await gallra_login(client, tenant)`` logs another client in (another tenant's admin),
    like ``gallra_client`` (:func:`login`: :func:`fast_login`, else the API)."""
    return login
