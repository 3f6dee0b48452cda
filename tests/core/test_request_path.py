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
