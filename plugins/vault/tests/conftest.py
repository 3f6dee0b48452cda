"""Fixtures of the vault tests.

Every test runs on a host holding the core, the vault and two test-only plugins
(tests/vault/fakes.py: an SMS two-factor answerer and a customer register), so the
tests do not depend on the other modules being installed or finished.

The master key file lives in the session's temporary GALLRA_DATA_DIR while a PostgreSQL
test database outlives the session: the vault's tables are emptied before and after the
session, or the next session's fresh key would (rightly) refuse the old ciphertexts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from core.db import as_owner
from core.testing.client import AppClient
from plugins.vault.tests import fakes
from tests.support import TEST_PASSWORD, TenantInfo, test_password_hash, unique_slug

VAULT_TABLES = (
    "vault_entry", "vault_access", "vault_field", "vault_form", "vault_audit", "vault_key_version",
    "vault_pending",
)


async def _wipe() -> None:
    from core.db import raw

    for table in VAULT_TABLES:
        await raw(f'DELETE FROM "{table}"')


@pytest.fixture(scope="session", autouse=True)
def _vault_session() -> Iterator[None]:
    async def setup() -> None:
        async with as_owner():  # DDL: the tables' owner
            await fakes.VTCustomer.create_table(if_not_exists=True)
        await _wipe()

    asyncio.run(setup())
    from plugins.vault import keys

    keys.reset_cache()
    yield
    asyncio.run(_wipe())
    keys.reset_cache()


class _Host:
    """The vault tests' plugin host and its application, made once per process: building
    an application takes most of a second of CPU, and about a hundred tests ran on one each.
    The two-factor stand-in is the host's, its state emptied before each test
    (:func:`two_factor`). A test that changes the host (unregisters a plugin) has it made
    again for the next test (:func:`vault_host`)."""

    two_factor: fakes.FakeTwoFactor | None = None
    host: Any = None
    app: Any = None

    @classmethod
    def get(cls) -> Any:
        if cls.host is None:
            import plugins.vault as vault_plugin
            from core import plugins

            cls.two_factor = fakes.FakeTwoFactor()
            host = plugins.PluginHost(load_entry_points=False)
            host.add(vault_plugin, name="vault", distribution="gallra")
            host.add(cls.two_factor, name="faketwofactor", distribution="gallra-tests")
            host.add(fakes.FakeCustomers(), name="fakecustomers", distribution="gallra-tests")
            cls.host, cls.app = host, None
        return cls.host

    @classmethod
    def changed(cls) -> bool:
        return cls.host is not None and cls.host.pm.get_plugin("faketwofactor") is not cls.two_factor


@pytest.fixture
def two_factor() -> fakes.FakeTwoFactor:
    """The host's two-factor stand-in, as new: no requests, codes or error."""
    _Host.get()
    fake = _Host.two_factor
    assert fake is not None
    fake.requests.clear()
    fake.codes.clear()
    fake.verified.clear()
    fake.error, fake.status = None, 409
    return fake


@pytest.fixture(autouse=True)
def vault_host(stub_broker: Any, two_factor: fakes.FakeTwoFactor) -> Iterator[Any]:
    from core import plugins

    previous = plugins._host
    host = _Host.get()
    plugins.set_host(host)
    yield host
    plugins.set_host(previous)
    if _Host.changed():
        _Host.host = _Host.app = None


@pytest.fixture
def app(stub_broker: Any, vault_host: Any) -> Any:
    from core.app import create_app

    # Migrations were applied at session start (tests/conftest.py); checking them again
    # per test costs more than the tests themselves.
    if _Host.app is None:
        _Host.app = create_app(vault_host, check_migrations=False)
    return _Host.app


async def add_employee(tenant_id: int, name: str = "User", role: str = "user") -> tuple[int, str]:
    from core.tables import Employee

    email = f"{unique_slug('u')}@example.org"
    rows = await Employee.insert(
        Employee(tenant_id=tenant_id, name=name, email=email, role=role, password_hash=test_password_hash())
    ).returning(Employee.id)
    return int(rows[0]["id"]), email


async def add_group(tenant_id: int, members: list[int], permissions: str = "") -> int:
    from core.tables import EmployeeGroup, GroupMember

    rows = await EmployeeGroup.insert(
        EmployeeGroup(tenant_id=tenant_id, name=unique_slug("g"), permissions=permissions)
    ).returning(EmployeeGroup.id)
    gid = int(rows[0]["id"])
    for eid in members:
        await GroupMember.insert(GroupMember(tenant_id=tenant_id, group_id=gid, employee_id=eid))
    return gid


class As:
    """Requests as one logged-in person, sharing the test client (its cookie is swapped)."""

    def __init__(self, client: AppClient, token: str, employee_id: int, tenant: TenantInfo):
        self.client = client
        self.token = token
        self.employee_id = employee_id
        self.tenant = tenant

    async def renew(self) -> As:
        """A new session at the (travelled) current time; the old one may have expired."""
        from core.auth import create_session

        self.token = await create_session(self.tenant.id, self.employee_id, "127.0.0.1", "vault-tests")
        return self

    def _use(self) -> None:
        self.client.cookies.clear()
        self.client.cookies.set("gallra_session", self.token)

    async def get(self, url: str, **kw: Any) -> Any:
        self._use()
        return await self.client.get(url, **kw)

    async def post(self, url: str, **kw: Any) -> Any:
        self._use()
        return await self.client.post(url, **kw)

    async def patch(self, url: str, **kw: Any) -> Any:
        self._use()
        return await self.client.patch(url, **kw)

    async def put(self, url: str, **kw: Any) -> Any:
        self._use()
        return await self.client.put(url, **kw)

    async def delete(self, url: str, **kw: Any) -> Any:
        self._use()
        return await self.client.delete(url, **kw)


async def login_as(client: AppClient, tenant: TenantInfo, email: str, employee_id: int) -> As:
    """A session for the employee, opened the way a login does (without Argon2 again:
    login itself is the core's tests' business)."""
    from core.auth import create_session

    token = await create_session(tenant.id, employee_id, "127.0.0.1", "vault-tests")
    return As(client, token, employee_id, tenant)


async def quick_tenant() -> TenantInfo:
    """A tenant with an administrator whose password hash is the shared one."""
    from core.plugins import get_host
    from core.tenancy import create_tenant

    slug = unique_slug()
    tenant = await create_tenant(get_host(), slug, f"Org {slug}")
    admin_id, email = await add_employee(int(tenant["id"]), "Admin Person", "admin")
    return TenantInfo(int(tenant["id"]), slug, admin_id, email, TEST_PASSWORD)


async def new_user(client: AppClient, tenant: TenantInfo, role: str = "user", name: str = "User") -> As:
    eid, email = await add_employee(tenant.id, name, role)
    return await login_as(client, tenant, email, eid)


async def admin_of(client: AppClient, tenant: TenantInfo) -> As:
    return await login_as(client, tenant, tenant.admin_email, tenant.admin_id)


FIELDS = [
    {"name": "Användarnamn", "type": "text"},
    {"name": "Lösenord", "type": "password", "encrypted": True},
    {"name": "Adress", "type": "url"},
    {"name": "Anteckning", "type": "note", "encrypted": True},
]
SECRET_PASSWORD = "Hemligt-lösen-8f3k!"
SECRET_NOTE = "PIN 7391 to the server room"


@dataclass
class World:
    """A tenant with a customer form: a writer on the plain list, a reader on the
    encrypted list (through a group), an outsider on neither; one entry."""

    tenant: TenantInfo
    admin: As
    writer: As
    reader: As
    outsider: As
    form: dict[str, Any]
    entry: dict[str, Any]
    group_id: int
    customer_id: int = 0  # the fake register's customer the entry is kept for

    def field_id(self, name: str) -> int:
        return next(f["id"] for f in self.form["fields"] if f["name"] == name)

    def values(self, **by_name: Any) -> list[dict[str, Any]]:
        return [{"field_id": self.field_id(n), "value": v} for n, v in by_name.items()]


async def make_form(admin: As, purpose: str = "customer", **extra: Any) -> dict[str, Any]:
    body = {"name": extra.pop("name", "Inloggningar"), "purpose": purpose, "fields": extra.pop("fields", FIELDS)}
    body.update(extra)
    response = await admin.post("/api/vault/forms", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def build_world(client: AppClient, tenant: TenantInfo | None = None, **form_extra: Any) -> World:
    from core.db import atomic

    async with atomic():  # one commit for the set-up rows: the suite stays fast
        tenant = tenant or await quick_tenant()
        admin = await admin_of(client, tenant)
        writer = await new_user(client, tenant, name="Writer")
        reader = await new_user(client, tenant, name="Reader")
        outsider = await new_user(client, tenant, name="Outsider")
        group_id = await add_group(tenant.id, [reader.employee_id])
        customer_id = await fakes.add_customer(tenant.id)
    form = await make_form(
        admin,
        access={"plain": {"users": [writer.employee_id]}, "encrypted": {"groups": [group_id]}},
        **form_extra,
    )
    world = World(tenant, admin, writer, reader, outsider, form, {}, group_id, customer_id)
    response = await writer.post(
        "/api/vault/entries",
        json={
            "form_id": form["id"],
            "customer_id": customer_id,
            "values": world.values(
                Användarnamn="admin@kund.se",
                Lösenord=SECRET_PASSWORD,
                Adress="https://router.kund.se",
                Anteckning=SECRET_NOTE,
            ),
        },
    )
    assert response.status_code == 201, response.text
    world.entry = response.json()
    return world


@pytest.fixture
async def world(client: AppClient) -> World:
    return await build_world(client)


async def reveal(who: As, entry_id: int, password: str = TEST_PASSWORD, **extra: Any) -> Any:
    return await who.post(f"/api/vault/entries/{entry_id}/reveal", json={"password": password, **extra})


@pytest.fixture
async def fresh_keys(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    """A key file of its own for this test, restored afterwards (with the registry)."""
    from plugins.vault import keys
    from plugins.vault.tables import VaultKeyVersion

    saved = await VaultKeyVersion.select()
    monkeypatch.delenv("GALLRA_MASTER_KEY", raising=False)
    monkeypatch.setenv("GALLRA_MASTER_KEY_FILE", str(tmp_path / "master.key"))
    keys.reset_cache()
    yield tmp_path / "master.key"
    monkeypatch.undo()
    keys.reset_cache()
    await VaultKeyVersion.delete(force=True)
    if saved:
        await VaultKeyVersion.insert(*[VaultKeyVersion(**{k: v for k, v in r.items() if k != "id"}) for r in saved])
