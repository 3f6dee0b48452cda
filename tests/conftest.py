"""Test set-up shared by every test folder.

The suite runs on SQLite by default and on PostgreSQL when GALLRA_TEST_DATABASE_URL is set;
broker tests use Redis when GALLRA_TEST_BROKER_URL is set. The environment is fixed here,
before any Gallra module reads it. Each test makes its own tenants, so tests never see each
other's rows and need no clean-up between them.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_tmp = Path(tempfile.mkdtemp(prefix="gallra-test-"))
os.environ["GALLRA_DATA_DIR"] = str(_tmp)
if os.environ.get("GALLRA_TEST_DATABASE_URL"):
    os.environ["GALLRA_DATABASE_URL"] = os.environ["GALLRA_TEST_DATABASE_URL"]
else:
    os.environ.pop("GALLRA_DATABASE_URL", None)
# The tables' owner, for migrations (CI: the application's role owns nothing, so PostgreSQL's
# row-level security holds it; see core/rls.py).
if os.environ.get("GALLRA_TEST_DATABASE_OWNER_URL") and os.environ.get("GALLRA_TEST_DATABASE_URL"):
    os.environ["GALLRA_DATABASE_OWNER_URL"] = os.environ["GALLRA_TEST_DATABASE_OWNER_URL"]
else:
    os.environ.pop("GALLRA_DATABASE_OWNER_URL", None)
os.environ.pop("GALLRA_BROKER_URL", None)  # tests use the stub broker unless they ask
os.environ.setdefault("GALLRA_PLATFORM_TOKEN", "test-platform-token-" + uuid.uuid4().hex)
# Every test client comes from one address ("testclient"); the reset limit per address is
# tested with its own addresses (tests/core/test_auth.py).
os.environ["GALLRA_RESET_MAX_PER_ADDRESS"] = "100000"
os.environ.pop("GALLRA_SMTP_HOST", None)
os.environ.pop("GALLRA_PLUGINS", None)
os.environ.pop("GALLRA_DISABLE_PLUGINS", None)
os.environ["PICCOLO_CONF"] = "core.piccolo_conf"

import pytest  # noqa: E402
from litestar.testing import AsyncTestClient  # noqa: E402

from core.config import get_settings  # noqa: E402

TEST_PASSWORD = "test-password-" + uuid.uuid4().hex[:8]
_counter = itertools.count(1)


def pytest_configure(config: pytest.Config) -> None:
    from core.migrate import migrate

    asyncio.run(migrate())


@pytest.fixture(scope="session")
def settings():  # type: ignore[no-untyped-def]
    return get_settings()


@pytest.fixture(scope="session")
def _session_stub_broker():  # type: ignore[no-untyped-def]
    from core import tasks  # noqa: F401
    from core.worker import setup_broker

    return setup_broker(None)


@pytest.fixture
def stub_broker(_session_stub_broker):  # type: ignore[no-untyped-def]
    """The in-process stub broker, made current again if an earlier test switched brokers
    (the Redis round trip does), so every test's tasks land where ``worker`` drains."""
    from core import worker

    if worker._broker is not _session_stub_broker:
        worker.install_broker(_session_stub_broker)
    return _session_stub_broker


@pytest.fixture
def worker(stub_broker):  # type: ignore[no-untyped-def]
    """A Dramatiq worker on the stub broker; ``worker.drain()`` runs everything queued."""
    from core.worker import start_worker

    w = start_worker(stub_broker, threads=2)

    def drain() -> None:
        stub_broker.join("default", timeout=20_000)
        w.join()

    w.drain = drain  # type: ignore[attr-defined]
    yield w
    w.stop()


_app_cache: list[Any] = []


@pytest.fixture
def app(stub_broker):  # type: ignore[no-untyped-def]
    """The application for the current plugin host.

    Building a Litestar app takes most of a second, so one is kept while the process's
    host stays the same; a test that installed its own host (core.plugins.set_host) gets an
    app of that host. Migrations were applied in pytest_configure, so the start-up check is
    skipped here (tests/core/test_startup.py covers it).
    """
    from core.app import create_app
    from core.plugins import get_host

    host = get_host()
    if _app_cache and _app_cache[0] is host:
        return _app_cache[1]
    app = create_app(host=host, check_migrations=False)
    _app_cache[:] = [host, app]
    return app


@pytest.fixture
async def client(app) -> AsyncIterator[AsyncTestClient]:  # type: ignore[no-untyped-def]
    async with AsyncTestClient(app=app) as c:
        yield c


@pytest.fixture
async def anon_client(app) -> AsyncIterator[AsyncTestClient]:  # type: ignore[no-untyped-def]
    async with AsyncTestClient(app=app) as c:
        yield c


@dataclass
class TenantInfo:
    id: int
    slug: str
    admin_id: int
    admin_email: str
    password: str


def unique_slug(prefix: str = "t") -> str:
    return f"{prefix}-{os.getpid()}-{next(_counter)}-{uuid.uuid4().hex[:6]}"


_test_hash: str | None = None


def test_password_hash() -> str:
    """The Argon2id hash of TEST_PASSWORD, computed once: hashing per tenant is slow on
    purpose (19 MiB, 2 passes), and every test makes tenants."""
    global _test_hash
    if _test_hash is None:
        from core.auth import HASHER

        _test_hash = HASHER.hash(TEST_PASSWORD)
    return _test_hash


test_password_hash.__test__ = False  # type: ignore[attr-defined]  # not a test


async def make_tenant(modules: list[str] | None = None, language: str = "sv") -> TenantInfo:
    from core.plugins import get_host
    from core.tables import Employee
    from core.tenancy import create_tenant

    slug = unique_slug()
    tenant = await create_tenant(get_host(), slug, f"Org {slug}", modules, language)
    email = f"admin@{slug}.example"
    rows = await Employee.insert(
        Employee(
            tenant_id=int(tenant["id"]),
            name="Admin Person",
            email=email,
            role="admin",
            password_hash=test_password_hash(),
        )
    ).returning(Employee.id)
    return TenantInfo(int(tenant["id"]), slug, int(rows[0]["id"]), email, TEST_PASSWORD)


@pytest.fixture
def tenant_factory() -> Callable[..., Any]:
    return make_tenant


@pytest.fixture
async def tenant() -> TenantInfo:
    return await make_tenant()


@pytest.fixture
async def other_tenant() -> TenantInfo:
    return await make_tenant()


async def login(client: AsyncTestClient, t: TenantInfo, email: str | None = None, password: str | None = None) -> Any:
    response = await client.post(
        "/api/auth/login",
        json={"tenant": t.slug, "email": email or t.admin_email, "password": password or t.password},
    )
    return response


@pytest.fixture
async def admin_client(client, tenant):  # type: ignore[no-untyped-def]
    """A client logged in as the administrator of ``tenant``."""
    response = await login(client, tenant)
    assert response.status_code == 200, response.text
    return client


async def add_party(
    tenant_id: int, contacts: int = 1, name: str = "Kund AB", **values: Any
) -> tuple[int, list[int]]:
    """A customer of the tenant and ``contacts`` contact persons of it, written straight to
    the customer register's tables: a record that names a customer or contact person must
    name a real one of its own organization (core.references.check_party). Returns the
    customer's id and the contact persons' ids."""
    from plugins.customers.tables import ContactPerson, Customer

    last = await Customer.select(Customer.number).where(Customer.tenant_id == tenant_id).order_by(
        Customer.number, ascending=False
    ).first()
    rows = await Customer.insert(
        Customer(tenant_id=tenant_id, number=(last["number"] if last else 0) + 1, name=name, **values)
    ).returning(Customer.id)
    customer_id = int(rows[0]["id"])
    contact_ids = []
    for i in range(contacts):
        rows = await ContactPerson.insert(
            ContactPerson(tenant_id=tenant_id, customer_id=customer_id, name=f"Kontakt {i + 1}")
        ).returning(ContactPerson.id)
        contact_ids.append(int(rows[0]["id"]))
    return customer_id, contact_ids


async def make_party(client: AsyncTestClient, contact: bool = True) -> dict[str, int]:
    """A new customer (and a contact person of it) of the client's organization, made
    through the customer register's API: a record may name only those (core.references)."""
    r = await client.post("/api/customers/", json={"name": "Kund AB"})
    assert r.status_code == 201, r.text
    party = {"customer_id": r.json()["id"], "contact_person_id": 0}
    if contact:
        r = await client.post(f"/api/customers/{party['customer_id']}/contacts", json={"name": "Kim"})
        assert r.status_code == 201, r.text
        party["contact_person_id"] = r.json()["id"]
    return party
