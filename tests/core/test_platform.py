"""The platform administrator's API: tenants, behind the bearer token."""

from __future__ import annotations

import os

from core.tables import Tenant, TenantModule
from tests.support import unique_slug


def bearer(token: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token or os.environ['GALLRA_PLATFORM_TOKEN']}"}


async def test_create_and_list_tenants(client):
    slug = unique_slug("p")
    r = await client.post(
        "/api/platform/tenants",
        json={"slug": slug.upper(), "name": " Platform AB ", "language": "en"},
        headers=bearer(),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["slug"], body["name"], body["language"]) == (slug, "Platform AB", "en")
    row = await Tenant.select().where(Tenant.slug == slug).first()
    assert row["id"] == body["id"] and row["anonymization_word"] == "Anonymized"

    # A page like every list (#18.9): newest first, the new tenant is on the first page.
    listed = (await client.get("/api/platform/tenants", headers=bearer(), params={"sort": "-id", "limit": 5})).json()
    assert listed["limit"] == 5 and listed["offset"] == 0 and listed["total"] >= 1
    assert listed["items"][0]["id"] == body["id"] and listed["items"][0]["slug"] == slug


async def test_platform_api_refuses_without_the_token(client):
    slug = unique_slug("p")
    payload = {"slug": slug, "name": "Nope AB"}
    for headers in ({}, bearer("wrong-token"), {"Authorization": os.environ["GALLRA_PLATFORM_TOKEN"]},
                    {"Authorization": "Basic " + os.environ["GALLRA_PLATFORM_TOKEN"]}):
        assert (await client.post("/api/platform/tenants", json=payload, headers=headers)).status_code == 401
        assert (await client.get("/api/platform/tenants", headers=headers)).status_code == 401
    assert not await Tenant.exists().where(Tenant.slug == slug)


async def test_platform_api_is_closed_without_a_configured_token(client, env_settings):
    env_settings(GALLRA_PLATFORM_TOKEN=None)
    r = await client.get("/api/platform/tenants", headers=bearer("anything"))
    assert r.status_code == 403
    assert "GALLRA_PLATFORM_TOKEN" in r.json()["detail"]


async def test_a_tenant_administrator_is_no_platform_administrator(admin_client):
    assert (await admin_client.get("/api/platform/tenants")).status_code == 401


async def test_create_tenant_refuses_bad_input(client, tenant):
    before = await Tenant.count()
    cases = [
        {"slug": "Bad Slug!", "name": "X"},
        {"slug": "-edge", "name": "X"},
        {"slug": "a" * 64, "name": "X"},
        {"slug": unique_slug("p"), "name": "   "},
        {"slug": unique_slug("p"), "name": "X", "language": "de"},
        {"slug": unique_slug("p"), "name": "X", "extra": True},
        {"slug": unique_slug("p")},
        {"slug": tenant.slug, "name": "Duplicate AB"},
        {"slug": unique_slug("p"), "name": "X", "modules": ["nosuchmodule"]},
    ]
    for payload in cases:
        r = await client.post("/api/platform/tenants", json=payload, headers=bearer())
        assert r.status_code == 400, (payload, r.text)
        assert r.json()["detail"], payload
    r = await client.post("/api/platform/tenants", json={"slug": tenant.slug, "name": "Dup"}, headers=bearer())
    assert "already exists" in r.json()["detail"]
    r = await client.post(
        "/api/platform/tenants",
        json={"slug": unique_slug("p"), "name": "X", "modules": ["nosuchmodule"]},
        headers=bearer(),
    )
    assert "nosuchmodule" in r.json()["detail"]
    assert await Tenant.count() == before


async def test_create_tenant_with_a_module_list(client, make_host):
    from core.tenancy import enabled_modules
    from tests.core.fake_plugins import alpha, beta

    host = make_host(alpha, beta)
    from core.app import create_app
    from core.testing.client import AppClient

    async with AppClient(app=create_app(host=host, check_migrations=False)) as c:
        slug = unique_slug("p")
        r = await c.post(
            "/api/platform/tenants", json={"slug": slug, "name": "Beta Only AB", "modules": ["beta"]}, headers=bearer()
        )
        assert r.status_code == 201, r.text
    tid = r.json()["id"]
    assert await enabled_modules(host, tid) == {"beta"}
    rows = await TenantModule.select(TenantModule.module, TenantModule.enabled).where(TenantModule.tenant_id == tid)
    assert sorted((x["module"], x["enabled"]) for x in rows) == [("alpha", False), ("beta", True)]
