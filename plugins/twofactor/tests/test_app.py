"""Authenticator apps (TOTP, RFC 6238; #21.2): enrolment with a QR code, the secret stored
encrypted, confirmation with a current code, a +-1 step window, a used step refused on
replay, wrong codes counted like SMS codes, SMS on request, removal."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pyotp
import pytest

from core.db import utcnow
from core.eventlog import EventLog
from plugins.twofactor import services
from plugins.twofactor.tables import TrustedDevice, TwoFactorApp, TwoFactorChallenge, TwoFactorPerson
from tests.pages.helpers import CSRF_RE, page_login, post_form
from tests.support import TEST_PASSWORD, login
from tests.twofactor_kit import add_employee, last_code, setup_login_2fa, sms_rows

_start_step: list[int] = []


@pytest.fixture(autouse=True)
def _one_step_per_test() -> Iterator[None]:
    """Every code of a test counts from the 30-second step the test started in, so a code
    computed twice is the same code even when the test crosses a step boundary (the server
    accepts one step either side, so the codes stay valid)."""
    _start_step[:] = [pyotp.TOTP("A" * 32).timecode(datetime.now(UTC))]
    yield
    _start_step.clear()


def code_at(secret: str, offset: int = 0) -> str:
    """The app's code ``offset`` steps from the step the test started in (from now in the
    tests of other modules, which import this), as a phone would compute it."""
    totp = pyotp.TOTP(secret)
    start = _start_step[0] if _start_step else totp.timecode(datetime.now(UTC))
    return totp.generate_otp(start + offset)


async def _verify(client, cid, **body):
    return await client.post(f"/api/twofactor/challenges/{cid}/verify", json=body)


async def enrol(client) -> str:
    """Set up and confirm the logged-in employee's app; its secret."""
    r = await client.post("/api/twofactor/app")
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    r = await client.post("/api/twofactor/app/confirm", json={"code": code_at(secret)})
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    return secret


async def test_enrol_then_log_in_with_an_app_code(client, anon_client, tenant):
    r = await client.get("/api/twofactor/app")
    assert r.status_code == 401 or r.json()["status"] is None
    await setup_login_2fa(client, tenant)
    assert (await client.get("/api/twofactor/app")).json()["status"] is None
    r = await client.post("/api/twofactor/app")
    assert r.status_code == 201 and r.headers["cache-control"] == "no-store"
    body = r.json()
    secret = body["secret"]
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert body["secret_groups"].replace(" ", "") == secret and body["status"] == "pending"
    assert body["otpauth_uri"].startswith("otpauth://totp/") and f"secret={secret}" in body["otpauth_uri"]
    assert "issuer=Gallra" in body["otpauth_uri"]
    assert body["qr_svg"].startswith("<svg") and "<script" not in body["qr_svg"]
    # Stored encrypted: the secret is in no column of the row, nor in the event log.
    row = await TwoFactorApp.select().where(TwoFactorApp.tenant_id == tenant.id).first()
    assert row["status"] == "pending" and secret not in str(row.values())
    assert services.open_secret(tenant.id, "employee", tenant.admin_id, row["secret_enc"]) == secret
    events = await EventLog.select().where(EventLog.tenant_id == tenant.id)
    assert not any(secret in str(e.values()) for e in events)

    r = await client.post("/api/twofactor/app/confirm", json={"code": code_at(secret, 5)})
    assert r.status_code == 400 and r.json()["code"] == "twofactor.app_wrong_code"
    r = await client.post("/api/twofactor/app/confirm", json={"code": code_at(secret)})
    assert r.status_code == 200 and r.json()["status"] == "active"
    r = await client.post("/api/twofactor/app/confirm", json={"code": code_at(secret, 1)})
    assert r.status_code == 404 and r.json()["code"] == "twofactor.app_not_pending"

    r = await login(anon_client, tenant, api=True)
    assert r.status_code == 202, r.text
    step = r.json()["second_factor"]
    assert step["challenge_id"].startswith(services.APP_CHALLENGE_PREFIX) and not step["masked_phone"]
    assert await sms_rows(tenant.id) == []
    # The code of the step just used to confirm is refused (replay), and counted.
    r = await _verify(anon_client, step["challenge_id"], app_code=code_at(secret))
    assert r.status_code == 400 and r.json()["code"] == "twofactor.app_code_reused", r.text
    person = await TwoFactorPerson.select().where(TwoFactorPerson.employee_id == tenant.admin_id).first()
    assert person["failed_count"] == 1
    # The next step's code (within the +-1 window) logs in and remembers the browser.
    r = await _verify(anon_client, step["challenge_id"], app_code=code_at(secret, 1))
    assert r.status_code == 200, r.text
    assert r.json()["logged_in"] is True and r.cookies.get("gallra_device")
    person = await TwoFactorPerson.select().where(TwoFactorPerson.employee_id == tenant.admin_id).first()
    assert person["failed_count"] == 0
    assert await TrustedDevice.count().where(TrustedDevice.employee_id == tenant.admin_id) == 1

    # The same code from another browser: that step is used.
    anon_client.cookies.clear()
    r = await login(anon_client, tenant, api=True)
    r = await _verify(anon_client, r.json()["second_factor"]["challenge_id"], app_code=code_at(secret, 1))
    assert r.status_code == 400 and r.json()["code"] == "twofactor.app_code_reused"
    # Two steps away is outside the window.
    r = await login(anon_client, tenant, api=True)
    r = await _verify(anon_client, r.json()["second_factor"]["challenge_id"], app_code=code_at(secret, -3))
    assert r.status_code == 400 and r.json()["code"] == "twofactor.wrong_code"


async def test_a_pending_enrolment_opens_nothing(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    secret = (await client.post("/api/twofactor/app")).json()["secret"]
    r = await login(anon_client, tenant, api=True)
    cid = r.json()["second_factor"]["challenge_id"]
    assert not cid.startswith(services.APP_CHALLENGE_PREFIX)  # recovery codes, not the app
    r = await _verify(anon_client, cid, app_code=code_at(secret))
    assert r.status_code == 400 and r.json()["code"] == "twofactor.wrong_code"
    # A new start replaces the pending secret.
    again = (await client.post("/api/twofactor/app")).json()["secret"]
    assert again != secret and await TwoFactorApp.count().where(TwoFactorApp.tenant_id == tenant.id) == 1
    r = await client.post("/api/twofactor/app/confirm", json={"code": code_at(secret)})
    assert r.status_code == 400


async def test_wrong_app_codes_end_the_step_and_lock_like_sms(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    secret = await enrol(client)
    right = code_at(secret, 1)
    bad = f"{(int(right) + 1) % 1_000_000:06d}"
    r = await login(anon_client, tenant, api=True)
    cid = r.json()["second_factor"]["challenge_id"]
    for left in range(services.MAX_ATTEMPTS - 1, 0, -1):
        r = await _verify(anon_client, cid, app_code=bad)
        assert r.status_code == 400 and r.json()["params"]["left"] == left
    r = await _verify(anon_client, cid, app_code=bad)
    assert r.status_code == 409 and r.json()["code"] == "twofactor.code_failed"
    r = await _verify(anon_client, cid, app_code=right)
    assert r.status_code == 409
    r = await login(anon_client, tenant, api=True)
    cid = r.json()["second_factor"]["challenge_id"]
    for _ in range(services.PERSON_MAX_FAILURES - services.MAX_ATTEMPTS - 1):
        await _verify(anon_client, cid, app_code=bad)
    r = await _verify(anon_client, cid, app_code=bad)
    assert r.status_code == 423 and r.json()["code"] == "twofactor.locked"
    r = await _verify(anon_client, cid, app_code=right)
    assert r.status_code == 423
    # The right code was never used: the step is still free.
    row = await TwoFactorApp.select().where(TwoFactorApp.tenant_id == tenant.id).first()
    assert row["last_step"] < pyotp.TOTP(secret).timecode(datetime.now(UTC)) + 1


async def test_sms_on_request_instead_of_the_app(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    bo_id, bo = await add_employee(tenant, "Bo Phone")
    # Bo's app, set up through the service (as his own "My devices" page does).
    enrolment = await services.start_app_enrolment(tenant.id, "employee", bo_id)
    await services.confirm_app(tenant.id, "employee", bo_id, code_at(enrolment.secret))
    secret = enrolment.secret
    sent = len(await sms_rows(tenant.id))
    r = await login(anon_client, tenant, email=bo, password=TEST_PASSWORD, api=True)
    cid = r.json()["second_factor"]["challenge_id"]
    assert cid.startswith(services.APP_CHALLENGE_PREFIX) and len(await sms_rows(tenant.id)) == sent
    from tests.twofactor_kit import forget_last_send

    await forget_last_send(tenant.id)
    r = await anon_client.post(f"/api/twofactor/challenges/{cid}/resend", json={})
    assert r.status_code == 202 and r.json()["masked_phone"] == "+46 70•••••67"
    r = await _verify(anon_client, cid, code=await last_code(tenant.id))
    assert r.status_code == 200 and r.json()["employee_id"] == bo_id
    # The app still works on the next login.
    anon_client.cookies.clear()
    r = await login(anon_client, tenant, email=bo, password=TEST_PASSWORD, api=True)
    r = await _verify(anon_client, r.json()["second_factor"]["challenge_id"], app_code=code_at(secret, 1))
    assert r.status_code == 200


async def test_another_persons_or_tenants_app_cannot_be_confirmed_or_removed(client, anon_client, tenant, other_tenant):
    assert (await login(client, tenant, api=True)).status_code == 200
    ann_id, ann = await add_employee(tenant, "Ann App")
    _, bo = await add_employee(tenant, "Bo Other")

    async def as_(t, email):
        anon_client.cookies.clear()
        assert (await login(anon_client, t, email=email, password=TEST_PASSWORD, api=True)).status_code == 200

    await as_(tenant, ann)
    secret = (await anon_client.post("/api/twofactor/app")).json()["secret"]
    # Bo confirms with Ann's code: he has nothing pending, Ann's stays pending.
    await as_(tenant, bo)
    r = await anon_client.post("/api/twofactor/app/confirm", json={"code": code_at(secret)})
    assert r.status_code == 404 and r.json()["code"] == "twofactor.app_not_pending"
    # Bo is no administrator; removing his own (none) is a 404.
    r = await anon_client.delete(f"/api/twofactor/people/employee/{ann_id}/app")
    assert r.status_code == 403
    r = await anon_client.delete("/api/twofactor/app")
    assert r.status_code == 404 and r.json()["code"] == "twofactor.app_not_found"
    # The other organization's administrator finds nobody by Ann's id.
    await as_(other_tenant, other_tenant.admin_email)
    r = await anon_client.delete(f"/api/twofactor/people/employee/{ann_id}/app")
    assert r.status_code == 404
    r = await client.delete("/api/twofactor/people/robot/1/app")
    assert r.status_code == 400
    assert (await services.app_state(tenant.id, "employee", ann_id))["status"] == "pending"
    # The ciphertext moved to another person's row does not decrypt.
    row = await TwoFactorApp.select().where(TwoFactorApp.employee_id == ann_id).first()
    try:
        services.open_secret(tenant.id, "employee", tenant.admin_id, row["secret_enc"])
        raise AssertionError("decrypted for another person")
    except services.AppSecretError:
        pass
    await as_(tenant, ann)
    r = await anon_client.post("/api/twofactor/app/confirm", json={"code": code_at(secret)})
    assert r.status_code == 200
    # Ann's administrator may remove it (recorded).
    r = await client.delete(f"/api/twofactor/people/employee/{ann_id}/app")
    assert r.status_code == 200
    assert (await services.app_state(tenant.id, "employee", ann_id))["status"] is None
    assert await EventLog.count().where(
        (EventLog.tenant_id == tenant.id) & (EventLog.action == "twofactor.app_removed")
    ) == 1


async def test_removing_the_app_brings_back_the_other_factors(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    await enrol(client)
    assert (await client.delete("/api/twofactor/app")).status_code == 200
    assert (await client.delete("/api/twofactor/app")).status_code == 404
    r = await login(anon_client, tenant, api=True)
    assert not r.json()["second_factor"]["challenge_id"].startswith(services.APP_CHALLENGE_PREFIX)


async def test_malformed_app_answers_are_400_and_not_counted(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    secret = await enrol(client)
    r = await login(anon_client, tenant, api=True)
    cid = r.json()["second_factor"]["challenge_id"]
    for body in ({"app_code": "12345"}, {"app_code": "12345a"}, {"app_code": "1234567"},
                 {"app_code": code_at(secret, 1), "code": "123456"}):
        assert (await _verify(anon_client, cid, **body)).status_code == 400, body
    for body in ({"code": "12345"}, {}, {"code": "123456", "extra": 1}):
        assert (await client.post("/api/twofactor/app/confirm", json=body)).status_code == 400
    row = await TwoFactorChallenge.select().where(TwoFactorChallenge.tenant_id == tenant.id).first()
    assert row["attempts"] == 0
    # Then the right code still opens the step.
    assert (await _verify(anon_client, cid, app_code=code_at(secret, 1))).status_code == 200


async def test_two_parallel_uses_of_one_step_succeed_once(client, tenant):
    assert (await login(client, tenant, api=True)).status_code == 200
    secret = await enrol(client)
    code = code_at(secret, 1)
    now = utcnow()
    results = await asyncio.gather(
        *[services.use_app_code(tenant.id, "employee", tenant.admin_id, code, now) for _ in range(4)]
    )
    assert sorted(results) == ["ok", "reused", "reused", "reused"]


async def test_the_pages_enrol_and_log_in_with_the_app(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    r = await client.get("/twofactor/devices")
    assert r.status_code == 200 and "Ställ in en autentiseringsapp" in r.text
    r = await post_form(client, "/twofactor/devices/app/start", {}, token_from="/twofactor/devices")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert "<svg" in r.text and "Skanna QR-koden" in r.text
    groups = re.search(r'<code id="app-secret" translate="no">([A-Z2-7 ]+)</code>', r.text).group(1)
    secret = groups.replace(" ", "")
    r = await post_form(client, "/twofactor/devices/app/confirm", {"code": "000000"}, token_from="/twofactor/devices")
    assert r.status_code == 400 and "Koden stämmer inte" in r.text
    r = await post_form(client, "/twofactor/devices/app/confirm", {"code": code_at(secret)},
                        token_from="/twofactor/devices")
    assert r.status_code == 303
    r = await client.get("/twofactor/devices")
    assert "En autentiseringsapp är inställd" in r.text and secret not in r.text and groups not in r.text

    r = await page_login(anon_client, tenant)
    assert r.status_code == 200 and "Ange koden från din autentiseringsapp" in r.text
    assert 'name="app_code"' in r.text and 'name="send_sms"' in r.text
    cid = re.search(r'name="challenge_id" value="([^"]+)"', r.text).group(1)
    form = {"csrf_token": CSRF_RE.search(r.text).group(1), "challenge_id": cid, "then": "/", "tenant": tenant.slug}
    r = await anon_client.post("/twofactor/code", data={**form, "app_code": "12"}, follow_redirects=False)
    assert r.status_code == 400 and "Appens kod har 6 siffror." in r.text
    r = await anon_client.post("/twofactor/code", data={**form, "app_code": code_at(secret)}, follow_redirects=False)
    assert r.status_code == 400 and "redan använts" in r.text and 'id="e-app_code"' in r.text
    # The administrator has no phone: "send an SMS instead" says so on the page.
    r = await anon_client.post("/twofactor/code", data={**form, "send_sms": "1"}, follow_redirects=False)
    assert r.status_code == 409 and 'name="app_code"' in r.text
    r = await anon_client.post("/twofactor/code", data={**form, "app_code": code_at(secret, 1)},
                               follow_redirects=False)
    assert r.status_code == 303 and r.cookies.get("gallra_session") and r.cookies.get("gallra_device")
    # Removing on the page.
    r = await post_form(client, "/twofactor/devices/app/remove", {}, token_from="/twofactor/devices")
    assert r.status_code == 303
    assert (await services.app_state(tenant.id, "employee", tenant.admin_id))["status"] is None


async def test_the_login_page_sends_an_sms_when_asked(app, client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    bo_id, bo = await add_employee(tenant, "Bo Page")
    # Bo's app, set up through the service (as his own "My devices" page does).
    enrolment = await services.start_app_enrolment(tenant.id, "employee", bo_id)
    await services.confirm_app(tenant.id, "employee", bo_id, code_at(enrolment.secret))
    r = await page_login(anon_client, tenant, email=bo)
    assert "Ange koden från din autentiseringsapp" in r.text and await sms_rows(tenant.id) == []
    cid = re.search(r'name="challenge_id" value="([^"]+)"', r.text).group(1)
    form = {"csrf_token": CSRF_RE.search(r.text).group(1), "challenge_id": cid, "then": "/", "tenant": tenant.slug}
    r = await anon_client.post("/twofactor/code", data={**form, "send_sms": "1"}, follow_redirects=False)
    assert r.status_code == 200 and "Ange SMS-koden" in r.text and "Använd autentiseringsappen i stället" in r.text
    r = await anon_client.post("/twofactor/code", data={**form, "code": await last_code(tenant.id)},
                               follow_redirects=False)
    assert r.status_code == 303 and r.cookies.get("gallra_session")


async def test_hook_second_factors_of(client, tenant, other_tenant):
    """Core asks the plugins which factors a person has: SMS (active, with a phone), the
    app (only once confirmed) and recovery codes; nothing for an unknown kind."""
    from core.secondfactor import second_factors_of

    assert (await login(client, tenant, api=True)).status_code == 200
    bo_id, _ = await add_employee(tenant, "Bo Factors")
    assert await second_factors_of(tenant.id, "employee", bo_id) == []  # SMS not active yet
    await setup_login_2fa(client, tenant)
    assert await second_factors_of(tenant.id, "employee", bo_id) == ["sms"]
    assert await second_factors_of(tenant.id, "employee", tenant.admin_id) == ["recovery"]
    enrolment = await services.start_app_enrolment(tenant.id, "employee", bo_id)
    assert await second_factors_of(tenant.id, "employee", bo_id) == ["sms"]  # pending: not yet
    await services.confirm_app(tenant.id, "employee", bo_id, code_at(enrolment.secret))
    assert await second_factors_of(tenant.id, "employee", bo_id) == ["app", "sms"]
    # Another organization sees none of Bo's; an unknown kind of person gets no answer.
    assert await second_factors_of(other_tenant.id, "employee", bo_id) == []
    assert await second_factors_of(tenant.id, "robot", bo_id) == []
