"""PostgreSQL row-level security (issue #10, part 4).

Every table with a ``tenant_id`` column has the policy with FORCE, and a query that forgets
its tenant filter sees, changes and writes only the rows of the tenant the connection works
for. CI runs the PostgreSQL pass as a role that owns no table and is no superuser
(``GALLRA_REQUIRE_RLS=1``); against a superuser the policies would not apply, so the
behaviour tests skip there unless CI demands them.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
from litestar import get

from core.db import is_sqlite, raw, tenant_scope
from core.plugins import hookimpl
from core.testing.client import AppClient
from core.web import AuthUser
from tests.support import login, make_tenant, record_simple_statements


async def _report() -> Any:
    from core.rls import check

    return await check()


@pytest.fixture
async def enforced() -> None:
    """Skip on SQLite; on PostgreSQL fail if CI demands RLS and the role escapes it."""
    if is_sqlite():
        pytest.skip("SQLite has no row-level security")
    report = await _report()
    held = not (report.role_bypasses or report.role_owns_tables)
    if not held:
        if os.environ.get("GALLRA_REQUIRE_RLS") == "1":
            pytest.fail(f"the test role {report.role!r} is not held to row-level security")
        pytest.skip(f"the role {report.role!r} owns the tables or bypasses row-level security")


@pytest.mark.pg
async def test_every_tenant_table_has_the_forced_policy() -> None:
    from core.tables import Employee
    from plugins.customers.tables import Customer

    report = await _report()
    assert report.problems == []
    # The core's, every plugin's, and the index's tables: dozens, among them these.
    assert report.tables >= 50
    names = set(await _tenant_tables())
    assert {Employee._meta.tablename, Customer._meta.tablename, "gdpr_search_term"} <= names
    if os.environ.get("GALLRA_REQUIRE_RLS") == "1":
        assert not report.role_bypasses and not report.role_owns_tables, report.as_dict()


async def _tenant_tables() -> list[str]:
    from core.rls import tenant_tables

    return await tenant_tables()


async def _customer(tenant_id: int, name: str) -> int:
    from plugins.customers.tables import Customer

    with tenant_scope(tenant_id):
        rows = await Customer.insert(Customer(tenant_id=tenant_id, name=name, kind="company")).returning(
            Customer.id
        )
    return int(rows[0]["id"])


@pytest.mark.pg
async def test_a_query_without_tenant_filter_sees_only_its_tenant(enforced: None) -> None:
    from plugins.customers.tables import Customer

    a, b = await make_tenant(), await make_tenant()
    name_a = f"Alfa {uuid.uuid4().hex[:8]}"
    name_b = f"Beta {uuid.uuid4().hex[:8]}"
    id_a, id_b = await _customer(a.id, name_a), await _customer(b.id, name_b)

    with tenant_scope(b.id):
        # No tenant filter anywhere in these statements.
        everyone = await Customer.select(Customer.id, Customer.tenant_id)
        assert {r["tenant_id"] for r in everyone} == {b.id}
        assert id_b in {r["id"] for r in everyone}
        assert await raw("SELECT id FROM customer WHERE id = {}", id_a) == []
        counted = await raw("SELECT count(*) AS n FROM customer WHERE tenant_id = {}", a.id)
        assert [dict(r) for r in counted] == [{"n": 0}]
        # Writes miss A's row as if it did not exist.
        changed = await Customer.update({Customer.name: "taken over"}).where(Customer.id == id_a).returning(
            Customer.id
        )
        assert changed == []
        gone = await Customer.delete().where(Customer.name == name_a).returning(Customer.id)
        assert gone == []
        # And a row for A cannot be written from B's connection.
        import asyncpg

        with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
            await Customer.insert(Customer(tenant_id=a.id, name="planted", kind="company"))
        with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
            await Customer.update({Customer.tenant_id: a.id}).where(Customer.id == id_b)

    # Work across tenants (the sweep, the CLI) still sees both, and A's row is untouched.
    with tenant_scope(None):
        rows = await Customer.select(Customer.id, Customer.name, Customer.tenant_id).where(
            Customer.id.is_in([id_a, id_b])
        )
    assert {r["id"]: (r["tenant_id"], r["name"]) for r in rows} == {
        id_a: (a.id, name_a),
        id_b: (b.id, name_b),
    }


@pytest.mark.pg
async def test_a_connection_that_never_named_its_tenant_sees_no_tenant_rows(enforced: None) -> None:
    import asyncpg

    from core.config import get_settings

    t = await make_tenant()
    await _customer(t.id, f"Gamma {uuid.uuid4().hex[:8]}")
    # A person's own session under the application's role, without Gallra's set-up.
    connection = await asyncpg.connect(get_settings().database_url)
    try:
        assert await connection.fetchval("SELECT count(*) FROM customer") == 0
        assert await connection.fetchval("SELECT count(*) FROM employee") == 0
        await connection.execute("SELECT set_config('gallra.tenant', '', false)")
        assert await connection.fetchval("SELECT count(*) FROM customer") == 0
        # Anything but a number or '*' fails the statement rather than showing rows.
        await connection.execute("SELECT set_config('gallra.tenant', 'x; drop', false)")
        with pytest.raises(asyncpg.exceptions.DataError):
            await connection.fetchval("SELECT count(*) FROM customer")
        await connection.execute("SELECT set_config('gallra.tenant', $1, false)", str(t.id))
        assert await connection.fetchval("SELECT count(*) FROM customer") == 1
    finally:
        await connection.close()


class _LeakyPlugin:
    """A plugin with the bug RLS exists for: a handler that forgets the tenant filter."""

    @hookimpl
    def register_routes(self) -> list[Any]:
        @get("/api/test-rls/customer-tenants")
        async def leaky(user: AuthUser) -> list[int]:
            rows = await raw("SELECT DISTINCT tenant_id FROM customer ORDER BY 1")
            return [int(r["tenant_id"]) for r in rows]

        return [leaky]


@pytest.mark.pg
async def test_a_handler_forgetting_the_tenant_filter_returns_only_the_users_rows(
    enforced: None, stub_broker: Any
) -> None:
    from core.app import create_app
    from core.plugins import get_host

    a, b = await make_tenant(), await make_tenant()
    await _customer(a.id, "Alfa AB")
    await _customer(b.id, "Beta AB")
    host = get_host()
    host.add(_LeakyPlugin(), name="test_rls_leaky", distribution="gallra-tests")
    try:
        app = create_app(host=host, check_migrations=False)
        async with AppClient(app=app) as client:
            assert (await client.get("/api/test-rls/customer-tenants")).status_code == 401
            assert (await login(client, b)).status_code == 200
            response = await client.get("/api/test-rls/customer-tenants")
            assert response.status_code == 200, response.text
            assert response.json() == [b.id]
        async with AppClient(app=app) as client:
            assert (await login(client, a)).status_code == 200
            assert (await client.get("/api/test-rls/customer-tenants")).json() == [a.id]
    finally:
        host.pm.unregister(name="test_rls_leaky")
        host.records.pop("test_rls_leaky", None)


@pytest.mark.pg
def test_gallra_migrate_reports_row_level_security() -> None:
    from click.testing import CliRunner

    from core.cli import cli

    result = CliRunner().invoke(cli, ["migrate"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Row-level security: " in result.output and ", 0 problem(s)." in result.output
    if os.environ.get("GALLRA_REQUIRE_RLS") == "1":
        assert "Warning" not in result.output


async def test_a_public_link_narrows_the_request_to_its_tenant(admin_client: Any, tenant: Any) -> None:
    """A quote's e-mailed link has no session: once its token is found, the rest of the
    request works for the quote's tenant only (on PostgreSQL: RLS on every statement)."""
    from core.db import current_tenant, request_scope
    from core.errors import NotFound
    from plugins.quotes.services import find_public
    from plugins.quotes.tests.conftest import make_quote, send_quote

    r = await admin_client.post("/api/customers/", json={"name": "Alfa AB", "kind": "company"})
    assert r.status_code == 201, r.text
    quote = await make_quote(admin_client, customer_id=r.json()["id"], contact_person_id=0)
    token = await send_quote(admin_client, quote["id"])
    other = await make_tenant()
    await _customer(other.id, "Beta AB")

    with request_scope():
        with pytest.raises(NotFound):
            await find_public("not-a-token")
        assert current_tenant() is None  # an unknown token binds nothing
        assert int((await find_public(token))["id"]) == quote["id"]
        assert current_tenant() == tenant.id
        if not is_sqlite():
            report = await _report()
            if not (report.role_bypasses or report.role_owns_tables):
                rows = await raw("SELECT DISTINCT tenant_id FROM customer")
                assert [int(r["tenant_id"]) for r in rows] == [tenant.id]
    assert current_tenant() is None  # the scope ends with the request


@pytest.mark.pg
async def test_the_session_lookup_sets_its_own_scope_and_leaves_the_connections(enforced: None) -> None:
    """gallra_employee_session() finds a session by its token hash whatever tenant the
    connection works for, and leaves the connection's setting as it found it: at session
    level, and inside a transaction that set its own. Its answer is the one the statement
    it wraps gives under ``*`` (SQLite still runs that statement)."""
    import asyncpg

    from core.auth import _session_sql, create_session, token_hash
    from core.config import get_settings

    a, b = await make_tenant(), await make_tenant()
    token = await create_session(b.id, b.admin_id, "127.0.0.1", "test")
    with tenant_scope(None):
        wrapped = [dict(r) for r in await raw(_session_sql(), token_hash(token))]
    connection = await asyncpg.connect(get_settings().database_url)
    try:
        await connection.execute("SELECT set_config('gallra.tenant', $1, false)", str(a.id))
        found = await connection.fetch("SELECT * FROM gallra_employee_session($1)", token_hash(token))
        assert [dict(r) for r in found] == wrapped
        assert wrapped[0]["tenant_id"] == b.id and wrapped[0]["employee_id"] == b.admin_id
        # The connection still works for A: B's rows stay out of sight.
        assert await connection.fetchval("SELECT current_setting('gallra.tenant')") == str(a.id)
        assert await connection.fetchval("SELECT count(*) FROM employee WHERE tenant_id = $1", b.id) == 0
        async with connection.transaction():
            await connection.execute("SELECT set_config('gallra.tenant', $1, true)", str(b.id))
            assert await connection.fetch("SELECT * FROM gallra_employee_session($1)", token_hash(token))
            assert await connection.fetchval("SELECT current_setting('gallra.tenant')") == str(b.id)
        assert await connection.fetchval("SELECT current_setting('gallra.tenant')") == str(a.id)
        assert await connection.fetch("SELECT * FROM gallra_employee_session($1)", "0" * 64) == []
    finally:
        await connection.close()


@pytest.mark.pg
async def test_a_tenants_requests_do_not_switch_their_connections_to_every_tenant_and_back(
    enforced: None, admin_client: AppClient, tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each request used to look its session up with the connection set to ``*`` and then
    set it back to its tenant: two round trips of ``set_config`` for every request that
    wrote anything. Now a tenant's requests leave the connection set to that tenant."""
    sent = record_simple_statements(monkeypatch)
    for i in range(2):  # the first may find a connection another test left on another tenant
        sent.clear()
        r = await admin_client.post("/api/customers/", json={"name": f"Scope {i}", "kind": "company"})
        assert r.status_code == 201, r.text
    assert [s for s in sent if "gallra.tenant" in s] == []
    assert (await admin_client.get("/api/auth/me")).status_code == 200
