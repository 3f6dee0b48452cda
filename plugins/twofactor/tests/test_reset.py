"""Employee password reset with an SMS code (M4 2), and forgetting devices (M8)."""

from __future__ import annotations

import pytest

from core import auth
from core.tables import PasswordResetToken
from plugins.twofactor.tables import TrustedDevice
from tests.support import login
from tests.twofactor_kit import add_employee, forget_last_send, last_code, setup_login_2fa, switch

NEW_PASSWORD = "brand-new-password-42"


async def trust_device(client, tenant, email) -> None:
    r = await login(client, tenant, email=email, api=True)
    assert r.status_code == 202, r.text
    cid = r.json()["second_factor"]["challenge_id"]
    r = await client.post(f"/api/twofactor/challenges/{cid}/verify", json={"code": await last_code(tenant.id)})
    assert r.status_code == 200, r.text


async def test_reset_without_the_context_needs_no_code(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)  # login on, reset off
    _, email = await add_employee(tenant, "Ann Plainreset")
    token = await auth.start_password_reset(tenant.slug, email)
    r = await anon_client.post("/api/auth/password-reset/complete", json={"token": token, "password": NEW_PASSWORD})
    assert r.status_code == 200 and r.json()["status"] == "changed"


async def test_reset_asks_code_before_accepting_password_and_forgets_devices(client, anon_client, tenant):
    await setup_login_2fa(client, tenant, "employee_login", "employee_reset")
    emp_id, email = await add_employee(tenant, "Ann Reset")
    await trust_device(anon_client, tenant, email)
    assert await TrustedDevice.count().where(TrustedDevice.employee_id == emp_id) == 1

    await forget_last_send(tenant.id)
    token = await auth.start_password_reset(tenant.slug, email)
    body = {"token": token, "password": NEW_PASSWORD}
    r = await anon_client.post("/api/auth/password-reset/complete", json=body)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "second_factor_required"
    cid = r.json()["second_factor"]["challenge_id"]
    assert r.json()["second_factor"]["masked_phone"] == "+46 70•••••67"
    # Not accepted yet: the token is not burnt, the old password still works.
    row = await PasswordResetToken.select().where(PasswordResetToken.employee_id == emp_id).first()
    assert row["used_at"] is None
    await auth.check_credentials(tenant.slug, email, tenant.password)

    # Re-submitting with a challenge that was never verified does nothing.
    r = await anon_client.post("/api/auth/password-reset/complete", json={**body, "challenge_id": cid})
    assert r.status_code == 409 and "has not been entered" in r.json()["detail"]

    r = await anon_client.post(f"/api/twofactor/challenges/{cid}/verify", json={"code": await last_code(tenant.id)})
    assert r.status_code == 200
    assert r.json()["purpose"] == "reset" and r.json()["logged_in"] is False
    assert "gallra_session" not in r.headers.get("set-cookie", "")

    r = await anon_client.post("/api/auth/password-reset/complete", json={**body, "challenge_id": cid})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "changed"
    # M8: every device of the person is gone; not logged in by the reset.
    assert await TrustedDevice.count().where(TrustedDevice.employee_id == emp_id) == 0
    assert (await anon_client.get("/api/auth/me")).status_code == 401
    await forget_last_send(tenant.id)
    r = await login(anon_client, tenant, email=email, password=NEW_PASSWORD, api=True)
    assert r.status_code == 202  # the remembered device is forgotten: SMS again

    # The verified challenge was used once; it does not work a second time.
    token2 = await auth.start_password_reset(tenant.slug, email)
    r = await anon_client.post(
        "/api/auth/password-reset/complete",
        json={"token": token2, "password": "third-password-123", "challenge_id": cid},
    )
    assert r.status_code == 409


async def test_anothers_verified_challenge_cannot_complete_my_reset(client, anon_client, tenant):
    await setup_login_2fa(client, tenant, "employee_reset")
    _, ann = await add_employee(tenant, "Ann Mine")
    _, bo = await add_employee(tenant, "Bo Theirs", mobile="+46709998877")
    bo_token = await auth.start_password_reset(tenant.slug, bo)
    r = await anon_client.post("/api/auth/password-reset/complete", json={"token": bo_token, "password": NEW_PASSWORD})
    bo_cid = r.json()["second_factor"]["challenge_id"]
    r = await anon_client.post(f"/api/twofactor/challenges/{bo_cid}/verify", json={"code": await last_code(tenant.id)})
    assert r.status_code == 200
    ann_token = await auth.start_password_reset(tenant.slug, ann)
    r = await anon_client.post(
        "/api/auth/password-reset/complete",
        json={"token": ann_token, "password": NEW_PASSWORD, "challenge_id": bo_cid},
    )
    assert r.status_code == 409
    await auth.check_credentials(tenant.slug, ann, tenant.password)  # unchanged


async def test_reset_without_phone_stops_with_the_message(client, anon_client, tenant):
    await setup_login_2fa(client, tenant, "employee_reset")
    _, email = await add_employee(tenant, "Ann Resetnophone", mobile=None)
    token = await auth.start_password_reset(tenant.slug, email)
    r = await anon_client.post("/api/auth/password-reset/complete", json={"token": token, "password": NEW_PASSWORD})
    assert r.status_code == 409 and "phone number is missing" in r.json()["detail"]
    row = await PasswordResetToken.select().where(PasswordResetToken.tenant_id == tenant.id).first()
    assert row["used_at"] is None


@pytest.mark.slow
async def test_phone_change_and_set_password_forget_devices(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    emp_id, email = await add_employee(tenant, "Ann Newphone")
    await trust_device(anon_client, tenant, email)
    assert await TrustedDevice.count().where(TrustedDevice.employee_id == emp_id) == 1
    # Another field: devices stay.
    assert (await client.patch(f"/api/employees/{emp_id}", json={"notes": "hello"})).status_code == 200
    assert await TrustedDevice.count().where(TrustedDevice.employee_id == emp_id) == 1
    r = await client.patch(f"/api/employees/{emp_id}", json={"mobile_phone": "+46 70 999 88 77"})
    assert r.status_code == 200
    assert await TrustedDevice.count().where(TrustedDevice.employee_id == emp_id) == 0

    await anon_client.post("/api/auth/logout")
    await forget_last_send(tenant.id)
    await trust_device(anon_client, tenant, email)
    await auth.set_password(tenant.id, emp_id, NEW_PASSWORD)
    assert await TrustedDevice.count().where(TrustedDevice.employee_id == emp_id) == 0


async def test_switching_reset_off_again(client, anon_client, tenant):
    await setup_login_2fa(client, tenant, "employee_reset")
    await switch(client, "employee_reset", False)
    _, email = await add_employee(tenant, "Ann Resetoff")
    token = await auth.start_password_reset(tenant.slug, email)
    r = await anon_client.post("/api/auth/password-reset/complete", json={"token": token, "password": NEW_PASSWORD})
    assert r.status_code == 200
