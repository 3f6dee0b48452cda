"""People list and revoke their own trusted devices; administrators revoke a person's."""

from __future__ import annotations

from plugins.twofactor.services import device_label
from plugins.twofactor.tables import TrustedDevice
from tests.support import login
from tests.twofactor_kit import add_employee, forget_last_send, last_code, setup_login_2fa

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"


async def trust(client, tenant, email, ua=FIREFOX):
    await forget_last_send(tenant.id)
    r = await client.post(
        "/api/auth/login",
        json={"tenant": tenant.slug, "email": email, "password": tenant.password},
        headers={"user-agent": ua},
    )
    assert r.status_code == 202, r.text
    cid = r.json()["second_factor"]["challenge_id"]
    r = await client.post(
        f"/api/twofactor/challenges/{cid}/verify", json={"code": await last_code(tenant.id)}, headers={"user-agent": ua}
    )
    assert r.status_code == 200, r.text
    return client.cookies.get("gallra_device")


def test_device_label_is_coarse():
    assert device_label(FIREFOX) == "Firefox on Windows"
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Mobile Safari/604.1"
    assert device_label(iphone) == "Safari on iOS"
    assert device_label("") == "Unknown browser"


async def test_list_and_revoke_own_devices(client, anon_client, app, tenant):
    from core.testing.client import AppClient

    await setup_login_2fa(client, tenant)
    emp_id, email = await add_employee(tenant, "Ann Devices")
    await trust(anon_client, tenant, email)
    async with AppClient(app=app) as phone:
        await trust(phone, tenant, email, ua="Mozilla/5.0 (Linux; Android 14) Chrome/120.0 Mobile Safari/537.36")
    r = await anon_client.get("/api/twofactor/devices")
    assert r.status_code == 200
    devices = r.json()
    assert [d["label"] for d in devices] == ["Firefox on Windows", "Chrome on Android"]
    assert [d["current"] for d in devices] == [True, False]
    assert all(d["expires_at"] > d["created_at"] for d in devices)

    # Someone else's device id is simply not found.
    _, bo = await add_employee(tenant, "Bo Devices", mobile="+46709998877")
    async with AppClient(app=app) as bo_client:
        await trust(bo_client, tenant, bo)
        bo_device = (await bo_client.get("/api/twofactor/devices")).json()[0]["id"]
    assert (await anon_client.delete(f"/api/twofactor/devices/{bo_device}")).status_code == 404

    r = await anon_client.delete(f"/api/twofactor/devices/{devices[1]['id']}")
    assert r.status_code == 200 and r.json() == {"revoked": 1}
    assert [d["id"] for d in (await anon_client.get("/api/twofactor/devices")).json()] == [devices[0]["id"]]
    r = await anon_client.delete("/api/twofactor/devices")
    assert r.json() == {"revoked": 1}
    assert await TrustedDevice.count().where(TrustedDevice.employee_id == emp_id) == 0
    assert await TrustedDevice.count().where(TrustedDevice.tenant_id == tenant.id) == 1  # Bo's


async def test_admin_lists_and_revokes_a_persons_devices(client, anon_client, tenant, other_tenant):
    await setup_login_2fa(client, tenant)
    emp_id, email = await add_employee(tenant, "Ann Admin Revoke")
    await trust(anon_client, tenant, email)
    r = await client.get(f"/api/twofactor/people/employee/{emp_id}/devices")
    assert r.status_code == 200 and len(r.json()) == 1
    assert (await client.get(f"/api/twofactor/people/employee/{emp_id}/status")).json()["devices"] == 1
    device_id = r.json()[0]["id"]
    assert (await client.delete(f"/api/twofactor/people/employee/{emp_id}/devices/999999")).status_code == 404
    r = await client.delete(f"/api/twofactor/people/employee/{emp_id}/devices/{device_id}")
    assert r.status_code == 200
    await anon_client.post("/api/auth/logout")
    await trust(anon_client, tenant, email)
    r = await client.delete(f"/api/twofactor/people/employee/{emp_id}/devices")
    assert r.json() == {"revoked": 1}
    await anon_client.post("/api/auth/logout")
    await forget_last_send(tenant.id)
    assert (await login(anon_client, tenant, email=email, api=True)).status_code == 202

    # Another organization's administrator sees and revokes nothing of ours: to them our
    # employee's id is no person at all (404, as for an id that does not exist).
    await trust(anon_client, tenant, email)
    assert (await login(client, other_tenant, api=True)).status_code == 200
    assert (await client.get(f"/api/twofactor/people/employee/{emp_id}/devices")).status_code == 404
    r = await client.delete(f"/api/twofactor/people/employee/{emp_id}/devices")
    assert r.status_code == 404
    assert await TrustedDevice.count().where(TrustedDevice.employee_id == emp_id) == 1


async def test_device_endpoints_need_login_and_admin(client, anon_client, tenant):
    assert (await anon_client.get("/api/twofactor/devices")).status_code == 401
    assert (await anon_client.delete("/api/twofactor/devices/1")).status_code == 401
    _, email = await add_employee(tenant, "Plain Devices")
    await login(client, tenant, email=email, api=True)
    assert (await client.get("/api/twofactor/devices")).status_code == 200
    assert (await client.get(f"/api/twofactor/people/employee/{tenant.admin_id}/devices")).status_code == 403
    assert (await client.delete(f"/api/twofactor/people/employee/{tenant.admin_id}/devices")).status_code == 403
