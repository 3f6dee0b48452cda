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
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import pytest_asyncio

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
    return data_dir


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
    """The Argon2id hash of PASSWORD, once per process (hashing is slow on purpose)."""
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

    The keywords name it: slug ``<prefix>-…``, organization ``<organization> <slug>``."""
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


async def login(client: Any, tenant: KitTenant) -> None:
    """Log ``client`` in as the tenant's administrator (fails the test if it cannot)."""
    response = await client.post(
        "/api/auth/login",
        json={"tenant": tenant.slug, "email": tenant.admin_email, "password": tenant.password},
    )
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
    from litestar.testing import AsyncTestClient

    async with AsyncTestClient(app=gallra_app) as client:
        yield client


@pytest_asyncio.fixture
async def gallra_client(gallra_app: Any, gallra_tenant: KitTenant) -> AsyncIterator[Any]:
    """An HTTP client logged in as the administrator of ``gallra_tenant``."""
    from litestar.testing import AsyncTestClient

    async with AsyncTestClient(app=gallra_app) as client:
        await login(client, gallra_tenant)
        yield client


@pytest.fixture
def gallra_login() -> Callable[[Any, KitTenant], Awaitable[None]]:
    """``await gallra_login(client, tenant)`` logs another client in (another tenant's admin)."""
    return login
