"""Module enablement: a disabled module's API is 404 for that tenant, through API and CLI."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner

from core.tables import TenantModule
from core.tenancy import enabled_modules
from tests.core.fake_plugins import alpha, beta, svc
from tests.support import login, make_tenant


@pytest.fixture
def module_host(make_host):
    return make_host(alpha, beta, svc)


@pytest.fixture
def module_app(module_host):
    from core.app import create_app

    return create_app(host=module_host)


async def test_disabled_module_api_is_404_for_that_tenant_only(module_host, module_app, clients):
    a = await make_tenant()
    b = await make_tenant()
    ca, cb = await clients(module_app), await clients(module_app)
    assert (await login(ca, a)).status_code == 200
    assert (await login(cb, b)).status_code == 200
    assert (await ca.get("/api/alpha/ping")).json() == {"module": "alpha", "tenant": a.slug}

    r = await ca.put("/api/modules/alpha", json={"enabled": False})
    assert r.status_code == 200
    assert r.json() == {"name": "alpha", "label_sv": "Alfa", "label_en": "Alpha", "enabled": False}

    r = await ca.get("/api/alpha/ping")
    assert r.status_code == 404
    assert "not enabled" in r.json()["detail"]
    r = await cb.get("/api/alpha/ping")
    assert r.status_code == 200 and r.json()["tenant"] == b.slug

    listed = {m["name"]: m["enabled"] for m in (await ca.get("/api/modules")).json()}
    assert listed == {"alpha": False, "beta": False}
    listed = {m["name"]: m["enabled"] for m in (await cb.get("/api/modules")).json()}
    assert listed == {"alpha": True, "beta": False}

    assert (await ca.put("/api/modules/alpha", json={"enabled": True})).status_code == 200
    assert (await ca.get("/api/alpha/ping")).status_code == 200
    # One row per tenant and module, however often it is switched.
    assert await TenantModule.count().where(
        (TenantModule.tenant_id == a.id) & (TenantModule.module == "alpha")
    ) == 1


async def test_module_routes_need_a_session(module_host, module_app, clients):
    c = await clients(module_app)
    r = await c.get("/api/alpha/ping")
    assert r.status_code == 401


async def test_module_switch_is_for_administrators_only(module_host, module_app, clients):
    a = await make_tenant()
    admin = await clients(module_app)
    await login(admin, a)
    r = await admin.post(
        "/api/employees/",
        json={"name": "Plain User", "email": f"user@{a.slug}.example", "password": "plain-user-password"},
    )
    assert r.status_code == 201, r.text
    plain = await clients(module_app)
    assert (await login(plain, a, email=f"user@{a.slug}.example", password="plain-user-password")).status_code == 200
    r = await plain.put("/api/modules/alpha", json={"enabled": False})
    assert r.status_code == 403
    assert await enabled_modules(module_host, a.id) == {"alpha"}
    # Reading the list is for everyone in the organization.
    assert (await plain.get("/api/modules")).status_code == 200
    anon = await clients(module_app)
    assert (await anon.put("/api/modules/alpha", json={"enabled": False})).status_code == 401


async def test_module_switch_refuses_unknown_module_and_bad_body(module_host, module_app, clients):
    a = await make_tenant()
    c = await clients(module_app)
    await login(c, a)
    r = await c.put("/api/modules/nosuchmodule", json={"enabled": False})
    assert r.status_code == 404
    assert "nosuchmodule" in r.json()["detail"]
    r = await c.put("/api/modules/alpha", json={"enabled": "maybe"})
    assert r.status_code == 400
    r = await c.put("/api/modules/alpha", json={"enabled": False, "other": 1})
    assert r.status_code == 400
    # A service plugin is no module: it cannot be switched off.
    assert (await c.put("/api/modules/svc", json={"enabled": False})).status_code == 404
    assert await enabled_modules(module_host, a.id) == {"alpha"}


def test_module_switch_through_cli(module_host):
    from core.cli import cli

    t = asyncio.run(make_tenant())
    runner = CliRunner()
    r = runner.invoke(cli, ["tenant", "disable-module", t.slug, "alpha"])
    assert r.exit_code == 0, r.output
    assert "alpha disabled" in r.output
    assert asyncio.run(enabled_modules(module_host, t.id)) == set()
    r = runner.invoke(cli, ["tenant", "enable-module", t.slug, "beta"])
    assert r.exit_code == 0, r.output
    assert asyncio.run(enabled_modules(module_host, t.id)) == {"beta"}

    r = runner.invoke(cli, ["tenant", "enable-module", t.slug, "nosuchmodule"])
    assert r.exit_code != 0
    assert "nosuchmodule" in r.output
    r = runner.invoke(cli, ["tenant", "disable-module", "no-such-tenant", "alpha"])
    assert r.exit_code != 0
    assert "No tenant 'no-such-tenant'" in r.output
    assert asyncio.run(enabled_modules(module_host, t.id)) == {"beta"}


async def test_tenant_created_with_module_list_gets_only_those(module_host):
    from core.tenancy import create_tenant
    from tests.support import unique_slug

    row = await create_tenant(module_host, unique_slug(), "Only Beta AB", ["beta"])
    assert await enabled_modules(module_host, int(row["id"])) == {"beta"}


async def test_a_module_is_off_while_a_module_it_requires_is_off(make_host):
    """#18.6: a module declaring ``requires`` (the portal needs the customers module) is off
    for a tenant whenever one it needs is off or not installed, fail closed; it comes back
    with it."""
    from core.tenancy import set_module_enabled
    from tests.core.fake_plugins import gamma

    host = make_host(alpha, beta, gamma)
    t = await make_tenant()
    assert await enabled_modules(host, t.id) == {"alpha"}  # beta is off by default
    await set_module_enabled(host, t.id, "beta", True)
    assert await enabled_modules(host, t.id) == {"alpha", "beta", "gamma"}
    await set_module_enabled(host, t.id, "beta", False)
    assert await enabled_modules(host, t.id) == {"alpha"}
    await set_module_enabled(host, t.id, "gamma", True)  # its own choice does not help
    assert await enabled_modules(host, t.id) == {"alpha"}

    alone = make_host(alpha, gamma)  # beta not installed at all
    assert await enabled_modules(alone, t.id) == {"alpha"}
