"""Employee login from a new device (M4 1, M7): codes, trusted devices, limits."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from core.tables import Session
from plugins.twofactor.tables import TrustedDevice, TwoFactorChallenge, TwoFactorPerson
from tests.support import login
from tests.twofactor_kit import (
    MOBILE,
    MOBILE_MASKED,
    activate_sms,
    add_employee,
    last_code,
    setup_login_2fa,
    sms_rows,
    switch,
    wrong,
)


async def verify(client, challenge_id, code, **extra):
    return await client.post(f"/api/twofactor/challenges/{challenge_id}/verify", json={"code": code, **extra})


async def test_context_off_logs_in_without_code(client, anon_client, tenant):
    await setup_login_2fa(client, tenant, "employee_reset")  # another context on, login off
    _, email = await add_employee(tenant, "Ann Off")
    r = await login(anon_client, tenant, email=email, api=True)
    assert r.status_code == 200 and r.json()["status"] == "logged_in"
    assert await sms_rows(tenant.id) == []


async def test_sms_deactivated_means_no_code_even_with_context_row(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    await switch(client, "employee_login", False)
    assert (await client.put("/api/twofactor/settings", json={"sms_active": False})).status_code == 200
    _, email = await add_employee(tenant, "Ann Inactive")
    assert (await login(anon_client, tenant, email=email, api=True)).status_code == 200


async def test_login_code_opens_session_and_remembers_device(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    emp_id, email = await add_employee(tenant, "Ann Login")
    r = await login(anon_client, tenant, email=email, api=True)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "second_factor_required"
    challenge = body["second_factor"]
    assert challenge["masked_phone"] == MOBILE_MASKED
    assert MOBILE_MASKED in challenge["message"]
    assert "gallra_session" not in r.headers.get("set-cookie", "")
    assert (await anon_client.get("/api/auth/me")).status_code == 401
    sms = (await sms_rows(tenant.id))[-1]
    assert sms["recipient"] == MOBILE and sms["sender"] == "Gallra"
    # The code is stored only as an HMAC; the challenge id only as a hash.
    row = await TwoFactorChallenge.select().where(TwoFactorChallenge.tenant_id == tenant.id).first()
    code = await last_code(tenant.id)
    assert code not in str(row.values()) and challenge["challenge_id"] not in str(row.values())

    r = await verify(anon_client, challenge["challenge_id"], code)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["logged_in"] is True and out["employee_id"] == emp_id
    assert out["device_remembered_days"] == 365
    assert "remembered until" in out["message"]
    cookies = r.headers.get_list("set-cookie")
    device = next(c for c in cookies if c.startswith("gallra_device="))
    assert "HttpOnly" in device and "samesite=lax" in device.lower() and "Secure" not in device
    assert "Max-Age=31536000" in device
    token = device.split(";")[0].split("=", 1)[1]
    # 256 random bits, URL-safe base64; nothing about the person or the tenant.
    assert len(token) == 43 and tenant.slug not in token and email not in token
    me = await anon_client.get("/api/auth/me")
    assert me.status_code == 200 and me.json()["employee_id"] == emp_id
    from core.eventlog import SystemLog

    logged = await SystemLog.select().where((SystemLog.tenant_id == tenant.id) & (SystemLog.employee_id == emp_id))
    assert [r["kind"] for r in logged] == ["login"] and code not in logged[0]["detail"]

    stored = await TrustedDevice.select().where(TrustedDevice.employee_id == emp_id).first()
    assert stored["token_hash"] != token and len(stored["token_hash"]) == 64
    assert stored["expires_at"] - stored["created_at"] == timedelta(days=365)

    # From the remembered device: no SMS.
    sent = len(await sms_rows(tenant.id))
    await anon_client.post("/api/auth/logout")
    r = await login(anon_client, tenant, email=email, api=True)
    assert r.status_code == 200 and r.json()["status"] == "logged_in"
    assert len(await sms_rows(tenant.id)) == sent


async def test_device_cookie_is_secure_behind_https(app, client, tenant):
    from core.testing.client import AppClient

    await setup_login_2fa(client, tenant)
    _, email = await add_employee(tenant, "Ann Https")
    async with AppClient(app=app, base_url="https://testserver.local") as secure:
        r = await login(secure, tenant, email=email, api=True)
        assert r.status_code == 202
        r = await verify(secure, r.json()["second_factor"]["challenge_id"], await last_code(tenant.id))
        assert r.status_code == 200
        device = next(c for c in r.headers.get_list("set-cookie") if c.startswith("gallra_device="))
        assert "Secure" in device


async def _trusted_token(client, tenant, email) -> str:
    r = await login(client, tenant, email=email, api=True)
    assert r.status_code == 202, r.text
    r = await verify(client, r.json()["second_factor"]["challenge_id"], await last_code(tenant.id))
    assert r.status_code == 200, r.text
    return client.cookies.get("gallra_device")


async def test_missing_tampered_and_foreign_cookies_mean_sms(client, anon_client, tenant, tenant_factory, app):
    from core.testing.client import AppClient

    await setup_login_2fa(client, tenant)
    _, ann = await add_employee(tenant, "Ann Cookie")
    _, bo = await add_employee(tenant, "Bo Cookie", mobile="+46709998877")
    ann_token = await _trusted_token(anon_client, tenant, ann)

    other = await tenant_factory()
    async with AppClient(app=app) as other_client:
        await setup_login_2fa(other_client, other)
        await other_client.post("/api/auth/logout")
        _, eve = await add_employee(other, "Eve Other")
        other_token = await _trusted_token(other_client, other, eve)

    async with AppClient(app=app) as fresh:
        cases = {
            "missing": None,
            "tampered": ann_token[:-2] + ("AA" if ann_token[-2:] != "AA" else "BB"),
            "garbage": "x" * 500,
            "another person's": ann_token,  # Bo logs in with Ann's device cookie
            "another tenant's": other_token,
        }
        for label, value in cases.items():
            fresh.cookies.clear()
            if value is not None:
                fresh.cookies.set("gallra_device", value)
            r = await login(fresh, tenant, email=bo, api=True)
            assert r.status_code == 202, label
            # Sends are 60 seconds apart: forget the last one instead of waiting.
            await TwoFactorPerson.update({TwoFactorPerson.last_send_at: None}).where(
                TwoFactorPerson.tenant_id == tenant.id
            )
        # Ann's own cookie still works for Ann.
        fresh.cookies.clear()
        fresh.cookies.set("gallra_device", ann_token)
        assert (await login(fresh, tenant, email=ann, api=True)).status_code == 200


@pytest.mark.slow
async def test_device_expires_exactly_365_days_after_first_login(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    emp_id, email = await add_employee(tenant, "Ann Year")
    start = datetime(2031, 3, 1, 12, 0, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        await _trusted_token(anon_client, tenant, email)
        device = await TrustedDevice.select().where(TrustedDevice.employee_id == emp_id).first()
        assert device["expires_at"] == start + timedelta(days=365)
        # Used every month: the expiry does not slide.
        for month in range(1, 12):
            clock.move_to(start + timedelta(days=30 * month))
            await anon_client.post("/api/auth/logout")
            assert (await login(anon_client, tenant, email=email, api=True)).status_code == 200
        clock.move_to(start + timedelta(days=365) - timedelta(seconds=1))
        await anon_client.post("/api/auth/logout")
        assert (await login(anon_client, tenant, email=email, api=True)).status_code == 200
        again = await TrustedDevice.select().where(TrustedDevice.employee_id == emp_id).first()
        assert again["expires_at"] == start + timedelta(days=365)
        clock.move_to(start + timedelta(days=365))
        await anon_client.post("/api/auth/logout")
        r = await login(anon_client, tenant, email=email, api=True)
        assert r.status_code == 202 and r.json()["status"] == "second_factor_required"


async def test_brute_force_right_code_after_five_wrong_is_refused(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    emp_id, email = await add_employee(tenant, "Ann Brute")
    r = await login(anon_client, tenant, email=email, api=True)
    cid = r.json()["second_factor"]["challenge_id"]
    code = await last_code(tenant.id)
    for left in (4, 3, 2, 1):
        r = await verify(anon_client, cid, wrong(code))
        assert r.status_code == 400
        body = r.json()
        assert f"Attempts left: {left}." in body["detail"] and body["field"] == "code"
        assert body["code"] == "twofactor.wrong_code" and body["params"] == {"left": left}
    r = await verify(anon_client, cid, wrong(code))
    assert r.status_code == 409 and "no longer works" in r.json()["detail"]
    r = await verify(anon_client, cid, code)
    assert r.status_code == 409
    assert (await anon_client.get("/api/auth/me")).status_code == 401
    assert await Session.count().where(Session.employee_id == emp_id) == 0
    row = await TwoFactorChallenge.select().where(TwoFactorChallenge.employee_id == emp_id).first()
    assert row["status"] == "failed" and row["attempts"] == 5


async def test_wrong_entries_count_across_challenges_until_an_admin_unlocks(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    emp_id, email = await add_employee(tenant, "Ann Lock")
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as clock:
        for round_ in range(2):
            clock.move_to(start + timedelta(minutes=2 * round_))
            r = await login(anon_client, tenant, email=email, api=True)
            assert r.status_code == 202, r.text
            cid = r.json()["second_factor"]["challenge_id"]
            code = await last_code(tenant.id)
            for _ in range(5):
                r = await verify(anon_client, cid, wrong(code))
        assert r.status_code == 423 and "administrator" in r.json()["detail"]
        # Time alone never unlocks.
        clock.move_to(start + timedelta(days=30))
        r = await login(anon_client, tenant, email=email, api=True)
        assert r.status_code == 423
    state = await TwoFactorPerson.select().where(TwoFactorPerson.employee_id == emp_id).first()
    assert state["failed_count"] == 10


async def test_admin_unlock_resets_failures(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)  # the administrator stays logged in on `client`
    emp_id, email = await add_employee(tenant, "Ann Unlock")
    r = await login(anon_client, tenant, email=email, api=True)
    assert r.status_code == 202
    await TwoFactorPerson.update({TwoFactorPerson.failed_count: 10, TwoFactorPerson.last_send_at: None}).where(
        TwoFactorPerson.employee_id == emp_id
    )
    assert (await login(anon_client, tenant, email=email, api=True)).status_code == 423
    status = (await client.get(f"/api/twofactor/people/employee/{emp_id}/status")).json()
    assert status["locked"] is True and status["failed_attempts"] == 10
    r = await client.post(f"/api/twofactor/people/employee/{emp_id}/unlock")
    assert r.status_code == 200 and r.json()["locked"] is False and r.json()["failed_attempts"] == 0
    assert (await login(anon_client, tenant, email=email, api=True)).status_code == 202


async def test_right_code_resets_the_failure_count(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    emp_id, email = await add_employee(tenant, "Ann Reset Count")
    r = await login(anon_client, tenant, email=email, api=True)
    cid = r.json()["second_factor"]["challenge_id"]
    code = await last_code(tenant.id)
    for _ in range(3):
        assert (await verify(anon_client, cid, wrong(code))).status_code == 400
    assert (await client.get(f"/api/twofactor/people/employee/{emp_id}/status")).json()["failed_attempts"] == 3
    assert (await verify(anon_client, cid, code)).status_code == 200
    assert (await client.get(f"/api/twofactor/people/employee/{emp_id}/status")).json()["failed_attempts"] == 0


async def test_expired_and_reused_codes_are_refused(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    _, email = await add_employee(tenant, "Ann Expire")
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as clock:
        r = await login(anon_client, tenant, email=email, api=True)
        cid = r.json()["second_factor"]["challenge_id"]
        code = await last_code(tenant.id)
        clock.move_to(start + timedelta(minutes=5))
        r = await verify(anon_client, cid, code)
        assert r.status_code == 409 and "expired" in r.json()["detail"]

        clock.move_to(start + timedelta(minutes=6))
        r = await login(anon_client, tenant, email=email, api=True)
        cid = r.json()["second_factor"]["challenge_id"]
        code = await last_code(tenant.id)
        clock.move_to(start + timedelta(minutes=10, seconds=59))  # 4:59 later: still valid
        assert (await verify(anon_client, cid, code)).status_code == 200
        r = await verify(anon_client, cid, code)
        assert r.status_code == 409 and "already been used" in r.json()["detail"]


async def test_resend_throttle_and_hourly_limit(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    _, email = await add_employee(tenant, "Ann Resend")
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as clock:
        r = await login(anon_client, tenant, email=email, api=True)
        cid = r.json()["second_factor"]["challenge_id"]
        first = await last_code(tenant.id)
        r = await anon_client.post(f"/api/twofactor/challenges/{cid}/resend", json={})
        assert r.status_code == 429
        assert r.json()["retry_after"] == 60 and r.headers["retry-after"] == "60"
        assert "Wait 60 seconds" in r.json()["detail"]
        clock.move_to(start + timedelta(seconds=45))
        r = await login(anon_client, tenant, email=email, api=True)  # a new login counts the same way
        assert r.status_code == 429 and "15 seconds" in r.json()["detail"]
        for n in range(1, 5):  # sends 2..5 within the hour
            clock.move_to(start + timedelta(seconds=61 * n))
            r = await anon_client.post(f"/api/twofactor/challenges/{cid}/resend", json={})
            assert r.status_code == 202, r.text
        latest = await last_code(tenant.id)
        if latest != first:
            assert (await verify(anon_client, cid, first)).status_code == 400  # replaced
        clock.move_to(start + timedelta(seconds=61 * 5))
        r = await anon_client.post(f"/api/twofactor/challenges/{cid}/resend", json={})
        assert r.status_code == 429 and "At most 5 codes an hour" in r.json()["detail"]
        clock.move_to(start + timedelta(hours=1, seconds=1))
        r = await anon_client.post(f"/api/twofactor/challenges/{cid}/resend", json={})
        assert r.status_code == 202
        assert (await verify(anon_client, cid, await last_code(tenant.id))).status_code == 200
    assert len(await sms_rows(tenant.id)) == 6


async def test_tenant_daily_cap(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    await activate_sms(client, daily_cap=2)
    emails = [(await add_employee(tenant, f"Capped {i}"))[1] for i in range(3)]
    assert (await login(anon_client, tenant, email=emails[0], api=True)).status_code == 202
    assert (await login(anon_client, tenant, email=emails[1], api=True)).status_code == 202
    r = await login(anon_client, tenant, email=emails[2], api=True)
    assert r.status_code == 429
    assert "daily maximum of 2" in r.json()["detail"]
    assert (await client.get("/api/twofactor/settings")).json()["sent_today"] == 2
    await activate_sms(client, daily_cap=3)
    assert (await login(anon_client, tenant, email=emails[2], api=True)).status_code == 202


async def test_cross_tenant_challenge_ids_are_404(client, anon_client, tenant, other_tenant):
    await setup_login_2fa(client, tenant)
    await client.post("/api/auth/logout")
    _, email = await add_employee(tenant, "Ann Tenant")
    r = await login(anon_client, tenant, email=email, api=True)
    cid = r.json()["second_factor"]["challenge_id"]
    code = await last_code(tenant.id)
    # Logged in to the other organization: its scope does not hold this challenge.
    assert (await login(client, other_tenant, api=True)).status_code == 200
    r = await verify(client, cid, code)
    assert r.status_code == 404
    r = await client.post(f"/api/twofactor/challenges/{cid}/resend", json={})
    assert r.status_code == 404
    # Naming the other organization explicitly: 404 too; naming an unknown one: 404.
    assert (await verify(anon_client, cid, code, tenant=other_tenant.slug)).status_code == 404
    assert (await verify(anon_client, cid, code, tenant="no-such-org")).status_code == 404
    assert (await verify(anon_client, "no-such-challenge", code)).status_code == 404
    # None of that counted as an attempt: the right organization still verifies.
    r = await verify(anon_client, cid, code, tenant=tenant.slug)
    assert r.status_code == 200


async def test_malformed_verify_bodies_are_400(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    _, email = await add_employee(tenant, "Ann Malformed")
    cid = (await login(anon_client, tenant, email=email, api=True)).json()["second_factor"]["challenge_id"]
    for body in ({"code": "12345"}, {"code": "1234567"}, {"code": "abcdef"}, {}, {"code": "123456", "x": 1}):
        r = await anon_client.post(f"/api/twofactor/challenges/{cid}/verify", json=body)
        assert r.status_code == 400, body
    row = await TwoFactorChallenge.select().where(TwoFactorChallenge.tenant_id == tenant.id).first()
    assert row["attempts"] == 0


async def test_code_never_appears_in_logs(client, anon_client, tenant, worker, caplog):
    caplog.set_level(logging.DEBUG)
    await setup_login_2fa(client, tenant)
    _, email = await add_employee(tenant, "Ann Logs")
    r = await login(anon_client, tenant, email=email, api=True)
    cid = r.json()["second_factor"]["challenge_id"]
    worker.drain()  # delivered through the outbox
    code = (await sms_rows(tenant.id))[-1]["body"]
    import re

    code = re.search(r"\b(\d{6})\b", code).group(1)
    await verify(anon_client, cid, wrong(code))
    assert (await verify(anon_client, cid, code)).status_code == 200
    worker.drain()
    assert code not in caplog.text
    # Once used, the code is also gone from the delivered outbox row.
    assert all(code not in row["body"] for row in await sms_rows(tenant.id))
