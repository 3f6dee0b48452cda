"""Test set-up shared by every test folder.

The suite runs on SQLite by default and on PostgreSQL when GALLRA_TEST_DATABASE_URL is set;
broker tests use Redis when GALLRA_TEST_BROKER_URL is set. The environment is fixed here,
before any Gallra module reads it. Each test makes its own tenants, so tests never see each
other's rows and need no clean-up between them.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

# The test kit (core/testing/pytest_plugin.py, the fixtures plugin authors use) prepares the
# environment: a fresh data directory (the SQLite file), GALLRA_TEST_DATABASE_URL and its
# owner for PostgreSQL, the stub broker, no SMTP; under pytest-xdist each worker gets its own
# data directory and PostgreSQL database. It runs here, before any Gallra module reads it.
from core.testing import pytest_plugin as kit

kit.prepare_environment(data_dir_prefix="gallra-test-")
# Every test client comes from one address ("testclient"); the reset limit per address is
# tested with its own addresses (tests/core/test_auth.py).
os.environ["GALLRA_RESET_MAX_PER_ADDRESS"] = "100000"
os.environ.pop("GALLRA_PLUGINS", None)
os.environ.pop("GALLRA_DISABLE_PLUGINS", None)

import pytest  # noqa: E402

from core.config import get_settings  # noqa: E402
from core.testing.client import AppClient  # noqa: E402

TEST_PASSWORD = kit.PASSWORD
# An end customer as a record names one (core.records.columns.end_customer_fields).
END_CUSTOMER = {
    "end_customer_name": "Anna Svensson",
    "end_customer_address": "Storgatan 1, 111 22 Stockholm",
    "end_customer_phone": "0701234567",
    "end_customer_email": "anna@example.se",
}


def pytest_configure(config: pytest.Config) -> None:
    if kit.is_xdist_controller(config):
        return  # the workers run the tests, each on its own migrated database
    from core.migrate import migrate

    asyncio.run(migrate())


def pytest_collection_finish(session: pytest.Session) -> None:
    """What is alive once the tests are collected (every module, the collected tests, the
    migrated schema's objects) lives until the run ends: moved out of the garbage
    collector's sight (``gc.freeze``), so that each full collection during the run walks
    only what the tests made since."""
    gc.collect()
    gc.freeze()


def pytest_runtest_setup(item: pytest.Item) -> None:
    """``@pytest.mark.pg``: the test runs on PostgreSQL only (it is skipped on SQLite)."""
    if item.get_closest_marker("pg") is not None and get_settings().is_sqlite:
        pytest.skip("PostgreSQL only (marker pg): the suite runs on SQLite")


@pytest.fixture
async def _test_pool() -> AsyncIterator[None]:
    from core.db import pooled

    async with pooled():
        yield


@pytest.fixture(autouse=True)
def _one_pool_per_test(request: pytest.FixtureRequest) -> None:
    """An async test's statements share one connection pool (as a served request's do),
    started before its fixtures run: outside a pool every statement outside a transaction
    opened a connection of its own, and on PostgreSQL each new connection costs its
    statements' first plans and asyncpg's type look-ups (8 ms for an integer array)."""
    if inspect.iscoroutinefunction(getattr(request.node, "obj", None)):
        request.getfixturevalue("_test_pool")


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
    yield _session_stub_broker
    # What a test queued and never ran is not the next test's: a later test's ``worker``
    # would deliver it (the order, and so the neighbours, differ per xdist worker).
    _session_stub_broker.flush_all()


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


@pytest.fixture
def app(stub_broker, gallra_app):  # type: ignore[no-untyped-def]
    """The application for the current plugin host: the test kit's ``gallra_app`` (kept
    while the process's host stays the same; a test that installed its own host with
    core.plugins.set_host gets an app of that host), on the stub broker. Migrations were
    applied in pytest_configure, so the start-up check is skipped (tests/core/test_startup.py
    covers it)."""
    return gallra_app


@pytest.fixture
async def client(app) -> AsyncIterator[AppClient]:  # type: ignore[no-untyped-def]
    async with AppClient(app=app) as c:
        yield c


@pytest.fixture
async def anon_client(app) -> AsyncIterator[AppClient]:  # type: ignore[no-untyped-def]
    async with AppClient(app=app) as c:
        yield c


@pytest.fixture
async def browser(app) -> AsyncIterator[AppClient]:  # type: ignore[no-untyped-def]
    """A customer's own browser in the portal tests: no employee session, beside the
    administrator's client."""
    async with AppClient(app=app) as c:
        yield c


TenantInfo = kit.KitTenant  # id, slug, admin_id, admin_email, password


def unique_slug(prefix: str = "t") -> str:
    return kit.unique_slug(prefix)


def test_password_hash() -> str:
    """The Argon2id hash of TEST_PASSWORD, computed once: hashing per tenant is slow on
    purpose (19 MiB, 2 passes), and every test makes tenants."""
    return kit.password_hash()


test_password_hash.__test__ = False  # type: ignore[attr-defined]  # not a test


async def make_tenant(modules: list[str] | None = None, language: str = "sv") -> TenantInfo:
    """The test kit's tenant, named as this suite's tests expect."""
    return await kit.make_tenant(
        modules, language, prefix="t", organization="Org", admin_name="Admin Person"
    )


@pytest.fixture
def tenant_factory() -> Callable[..., Any]:
    return make_tenant


@pytest.fixture
async def tenant() -> TenantInfo:
    return await make_tenant()


@pytest.fixture
async def other_tenant() -> TenantInfo:
    return await make_tenant()


async def login(
    client: AppClient, t: TenantInfo, email: str | None = None, password: str | None = None, *, api: bool = False
) -> Any:
    """Log ``client`` in; the answer of POST /api/auth/login (or one just like it).

    As the tenant's administrator with the tenant's password (no ``email``, no ``password``)
    the session is made directly, without the Argon2 check (``kit.fast_login``: the same
    signed-in state, throttle rows, system-log row and cookie as the API's login, and its
    200 answer). Everything else goes through the API: another person or password, a login
    the API would refuse (a changed password, a throttled one), and ``api=True`` — the
    tests of the login itself, and of tenants whose login asks a second factor (the fast
    path fails the test then, since the hook has already started its challenge)."""
    if email is None and password is None and not api:
        response = await kit.fast_login(client, t)
        if response is not None:
            return response
    return await kit.api_login(client, t, email, password)


@pytest.fixture
async def admin_client(client, tenant):  # type: ignore[no-untyped-def]
    """A client logged in as the administrator of ``tenant`` (:func:`login`: signed in
    directly, with the state the API's login leaves)."""
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


async def make_party(client: AppClient, contact: bool = True) -> dict[str, int]:
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


async def make_customer(client: AppClient, **fields: Any) -> dict:
    """A customer of the client's organization, made through the customer register's API."""
    body = {"name": "Acme AB", "kind": "company", **fields}
    response = await client.post("/api/customers/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def make_contact(client: AppClient, customer_id: int, **fields: Any) -> dict:
    """A contact person of the customer, made through the customer register's API."""
    body = {"name": "Karin Kontakt", **fields}
    response = await client.post(f"/api/customers/{customer_id}/contacts", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def created(client: AppClient, url: str, body: dict[str, Any]) -> dict:
    """POST ``body`` to ``url``, which must answer 201; the created record."""
    response = await client.post(url, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def token_in_mail(email: str, path: str) -> str:
    """The token of the link ``<path>/<token>`` in the newest e-mail queued to ``email``
    (what the customer who got it would open)."""
    import re

    from core.tables import Outbox

    row = (
        await Outbox.select(Outbox.body)
        .where(Outbox.recipient == email.lower())
        .order_by(Outbox.id, ascending=False)
        .first()
    )
    assert row, f"no e-mail was queued to {email}"
    match = re.search(re.escape(path) + r"/([A-Za-z0-9_\-]+)", row["body"])
    assert match, f"the e-mail holds the link {path}/<token>"
    return match.group(1)


async def created_for_a_party(client: AppClient, url: str, body: dict[str, Any]) -> dict:
    """A record that names a customer, created through its API: unless ``body`` names a
    customer, of a new customer and (unless it names a contact person) one of its contacts."""
    party = {} if "customer_id" in body else await make_party(client, "contact_person_id" not in body)
    return await created(client, url, {**party, **body})


async def send_for_token(client: AppClient, url: str, email: str, path: str) -> str:
    """Send a record by e-mail (``POST url {"email": ...}``, 200) and return the token of the
    link ``<path>/<token>`` the e-mail holds."""
    response = await client.post(url, json={"email": email})
    assert response.status_code == 200, response.text
    return await token_in_mail(email, path)


async def each_answers(
    client: AppClient, status: int, calls: Any, *, under: str = "", detail: str | None = None
) -> None:
    """Send each call, ``(method, url, body)`` or ``(method, url, body, text)`` (a body of
    None sends none; ``under`` goes before each url): each must answer ``status``, hold
    ``text`` in its answer and, when given, ``detail`` in its problem's detail."""
    for method, url, body, *texts in calls:
        r = await client.request(method.upper(), under + url, json=body)
        assert r.status_code == status, (method, url, body, r.status_code, r.text)
        for text in texts:
            assert text in r.text, (method, url, body, r.text)
        if detail is not None:
            assert detail in r.json()["detail"], (method, url, r.text)


async def logged(tenant_id: int, plugin: str, record_id: int | None = None) -> list[dict[str, Any]]:
    """The event-log rows of the plugin (of one of its records), oldest first."""
    from core.eventlog import EventLog

    where = (EventLog.tenant_id == tenant_id) & (EventLog.plugin == plugin)
    if record_id is not None:
        where = where & (EventLog.record_id == record_id)
    return list(await EventLog.select().where(where).order_by(EventLog.id))


def record_simple_statements(monkeypatch: pytest.MonkeyPatch, method: str = "execute") -> list[str]:
    """Every statement sent with asyncpg's ``Connection.execute`` from here on (PostgreSQL:
    BEGIN, COMMIT and the ``set_config`` of a connection's tenant go that way), in a list
    the caller may clear between requests. ``method="fetch"``: the statements with
    parameters (everything the engine runs) instead."""
    import asyncpg

    sent: list[str] = []
    original = getattr(asyncpg.Connection, method)

    async def recording(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(query)
        return await original(self, query, *args, **kwargs)

    monkeypatch.setattr(asyncpg.Connection, method, recording)
    return sent
