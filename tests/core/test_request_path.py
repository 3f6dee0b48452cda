"""The request path's database handling (#19.1): reused connections keep every guarantee.

Connections are reused inside :func:`core.db.pooled` (the app's lifespan): a rolled-back
transaction leaves nothing behind on the connection the next statement gets, and on
PostgreSQL a connection that last worked for one tenant never shows that tenant's rows to
code bound to another (its ``gallra.tenant`` is cached, checked before every statement).
"""

from __future__ import annotations

import os

import pytest

from core.db import atomic, bind_tenant, is_sqlite, pooled, raw, request_scope, tenant_scope
from core.tables import Employee
from tests.support import login, make_tenant


async def _names(tenant_id: int) -> set[str]:
    rows = await Employee.select(Employee.name).where(Employee.tenant_id == tenant_id)
    return {r["name"] for r in rows}


async def test_a_failed_transaction_leaves_nothing_on_a_reused_connection(tenant):
    async with pooled():
        with pytest.raises(RuntimeError):
            async with atomic():
                await Employee.update({Employee.name: "Half written"}).where(
                    Employee.tenant_id == tenant.id
                )
                raise RuntimeError("the handler failed")
        # The next statements run on the pooled connections: none is left inside the
        # rolled-back transaction, and a write outside any transaction commits.
        for _ in range(3):
            assert "Half written" not in await _names(tenant.id)
        await Employee.update({Employee.notes: "kept"}).where(Employee.tenant_id == tenant.id)
    rows = await Employee.select(Employee.notes).where(Employee.tenant_id == tenant.id)
    assert rows and all(r["notes"] == "kept" for r in rows)


async def test_many_concurrent_writers_all_commit(tenant):
    import asyncio

    async def write(i: int) -> None:
        async with atomic():
            await raw(
                "UPDATE employee SET notes = notes || {} WHERE tenant_id = {}", f"{i},", tenant.id
            )

    async with pooled():
        await asyncio.gather(*(write(i) for i in range(16)))
    row = (await Employee.select(Employee.notes).where(Employee.tenant_id == tenant.id).first())
    assert sorted(int(x) for x in row["notes"].split(",") if x) == list(range(16))


async def _tenants() -> list[int]:
    return sorted(int(r["tenant_id"]) for r in await raw("SELECT DISTINCT tenant_id FROM employee"))


def _rls_held() -> None:
    if is_sqlite():
        pytest.skip("SQLite has no row-level security")
    if os.environ.get("GALLRA_REQUIRE_RLS") != "1":
        pytest.skip("needs the application's role held to row-level security (CI)")


async def test_a_reused_connection_follows_the_tenant_of_the_code():
    _rls_held()
    a, b = await make_tenant(), await make_tenant()
    async with pooled():
        for _ in range(3):  # the same few pooled connections, alternately for a and b
            with tenant_scope(a.id):
                assert await _tenants() == [a.id]
            with tenant_scope(b.id):
                assert await _tenants() == [b.id]
                async with atomic():
                    rows = await _tenants()
                assert rows == [b.id]


async def test_binding_inside_a_transaction_applies_to_its_next_statement():
    _rls_held()
    a, b = await make_tenant(), await make_tenant()
    async with pooled():
        with request_scope():
            bind_tenant(a.id)
            async with atomic():
                assert await _tenants() == [a.id]
                bind_tenant(b.id)
                assert await _tenants() == [b.id]
            # after the transaction, outside one: still b (the setting is checked per statement)
            assert await _tenants() == [b.id]


async def test_module_switched_off_in_a_request_is_off_for_the_rest_of_it(client, tenant):
    """Enabled modules are read once per request and dropped by their own write."""
    from core.plugins import get_host
    from core.tenancy import enabled_modules, set_module_enabled

    host = get_host()
    with request_scope():
        assert "customers" in await enabled_modules(host, tenant.id)
        await set_module_enabled(host, tenant.id, "customers", False)
        assert "customers" not in await enabled_modules(host, tenant.id)
        with pytest.raises(RuntimeError):
            async with atomic():
                await set_module_enabled(host, tenant.id, "customers", True)
                assert "customers" in await enabled_modules(host, tenant.id)
                raise RuntimeError("rolled back")
        assert "customers" not in await enabled_modules(host, tenant.id)
    assert (await login(client, tenant)).status_code == 200
    assert (await client.get("/api/customers")).status_code == 404


async def test_module_choices_read_with_the_session_are_never_kept_past_the_request(client, tenant):
    """The session's statement brings the tenant's module choices (no query of its own);
    a choice changed between two requests (another process, another worker) holds from
    the very next request, both ways."""
    from core.plugins import get_host
    from core.tenancy import set_module_enabled

    assert (await login(client, tenant)).status_code == 200
    assert (await client.get("/api/customers")).status_code == 200
    await set_module_enabled(get_host(), tenant.id, "customers", False)
    assert (await client.get("/api/customers")).status_code == 404
    await set_module_enabled(get_host(), tenant.id, "customers", True)
    assert (await client.get("/api/customers")).status_code == 200


async def test_the_session_statement_primes_the_modules_of_the_request(client, tenant):
    """A module's route after authentication costs no read of the tenant's modules."""
    from core.db import count_queries
    from core.plugins import get_host
    from core.tenancy import enabled_modules

    assert (await login(client, tenant)).status_code == 200
    from core.auth import authenticate

    token = client.cookies.get("gallra_session")
    assert token
    with request_scope():
        with count_queries() as counted:
            user = await authenticate(token)
            assert user is not None and user.tenant_id == tenant.id
            before = counted[0]
            modules = await enabled_modules(get_host(), tenant.id)
        assert counted[0] == before  # from the request's cache
    with request_scope():
        assert await enabled_modules(get_host(), tenant.id) == modules  # the same as read alone


async def test_a_transaction_that_runs_nothing_commits_and_leaves_the_connection_clean(tenant):
    """BEGIN travels with a transaction's first statement: one that runs none sends
    nothing, and one whose first statement fails is rolled back, not left open."""
    from core.numbering import lock_numbers

    async with pooled():
        async with atomic():
            pass
        with pytest.raises(Exception):  # noqa: B017 (the engine's own error type)
            async with atomic():
                await lock_numbers(1, tenant.id)
                await raw("SELECT * FROM no_such_table")
        with pytest.raises(RuntimeError):
            async with atomic():
                await lock_numbers(1, tenant.id)
                await Employee.update({Employee.notes: "rolled back"}).where(
                    Employee.tenant_id == tenant.id
                )
                raise RuntimeError("the handler failed")
        for _ in range(3):
            assert "rolled back" not in {
                r["notes"] for r in await Employee.select(Employee.notes).where(
                    Employee.tenant_id == tenant.id
                )
            }
        async with atomic():
            await lock_numbers(1, tenant.id)
            await Employee.update({Employee.notes: "kept"}).where(Employee.tenant_id == tenant.id)
    rows = await Employee.select(Employee.notes).where(Employee.tenant_id == tenant.id)
    assert rows and all(r["notes"] == "kept" for r in rows)


async def test_a_transaction_begun_with_the_lock_sees_only_its_tenant():
    _rls_held()
    from core.numbering import lock_numbers

    a, b = await make_tenant(), await make_tenant()
    async with pooled():
        for _ in range(3):
            for t in (a, b):
                with tenant_scope(t.id):
                    async with atomic():
                        await lock_numbers(7, t.id)  # BEGIN and the tenant go with it
                        assert await _tenants() == [t.id]
