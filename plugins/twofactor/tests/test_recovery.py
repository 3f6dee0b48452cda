"""One-time recovery codes (#20.1): made by the person, shown once, stored hashed, used
once instead of an SMS code against the same failure counters, audited, replaced by a
new set."""

from __future__ import annotations

import asyncio
import re

from core.db import utcnow
from core.eventlog import EventLog
from plugins.twofactor import services
from plugins.twofactor.tables import TrustedDevice, TwoFactorChallenge, TwoFactorPerson, TwoFactorRecoveryCode
from tests.pages.helpers import CSRF_RE, page_login, post_form
from tests.support import login
from tests.twofactor_kit import (
    add_employee,
    forget_last_send,
    last_code,
    make_recovery_codes,
    setup_login_2fa,
    sms_rows,
)

FORMAT = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")


async def _verify(client, cid, **body):
    return await client.post(f"/api/twofactor/challenges/{cid}/verify", json=body)


async def test_codes_are_shown_once_and_stored_hashed(admin_client, tenant):
    state = (await admin_client.get("/api/twofactor/recovery-codes")).json()
    assert state == {"remaining": 0, "total": 0, "created_at": None}
    r = await admin_client.post("/api/twofactor/recovery-codes")
    assert r.status_code == 201 and r.headers["cache-control"] == "no-store"
    codes = r.json()["codes"]
    assert len(codes) == 10 == len(set(codes)) and all(FORMAT.match(c) for c in codes)
    state = (await admin_client.get("/api/twofactor/recovery-codes")).json()
    assert state["remaining"] == 10 and state["total"] == 10 and "codes" not in state
    rows = await TwoFactorRecoveryCode.select().where(TwoFactorRecoveryCode.tenant_id == tenant.id)
    assert len(rows) == 10
    stored = " ".join(str(v) for row in rows for v in row.values())
    for code in codes:
        assert code not in stored and code.replace("-", "") not in stored
    events = await EventLog.select().where(
        (EventLog.tenant_id == tenant.id) & (EventLog.action == "twofactor.recovery_codes_generated")
    )
    assert len(events) == 1 and events[0]["employee_id"] == tenant.admin_id
    assert not any(code in str(events[0].values()) for code in codes)


async def test_the_page_shows_the_codes_once(admin_client, tenant):
    r = await admin_client.get("/twofactor/recovery")
    assert r.status_code == 200 and "Du har inga reservkoder ännu." in r.text
    r = await post_form(admin_client, "/twofactor/recovery/new", {}, token_from="/twofactor/recovery")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    shown = re.findall(r"<code>([0-9A-Z-]{19})</code>", r.text)
    assert len(shown) == 10 and "De visas bara nu." in r.text
    r = await admin_client.get("/twofactor/recovery")
    assert "Oanvända koder: 10 av 10" in r.text
    assert not any(code in r.text for code in shown)


async def test_regenerating_replaces_the_old_set(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    old = await make_recovery_codes(client)
    new = await make_recovery_codes(client)
    assert not set(old) & set(new)
    assert await TwoFactorRecoveryCode.count().where(TwoFactorRecoveryCode.tenant_id == tenant.id) == 10
    r = await login(anon_client, tenant, api=True)  # the administrator has no phone: recovery codes only
    cid = r.json()["second_factor"]["challenge_id"]
    assert (await _verify(anon_client, cid, recovery_code=old[0])).status_code == 400
    assert (await _verify(anon_client, cid, recovery_code=new[0])).status_code == 200


async def test_no_phone_logs_in_with_a_recovery_code_once(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    ann_id, ann = await add_employee(tenant, "Ann Nophone", mobile=None)
    r = await login(anon_client, tenant, email=ann, api=True)
    assert r.status_code == 409 and r.json()["code"] == "twofactor.no_phone"  # no codes yet
    # She makes them on "My recovery codes" (before login codes were on); here the service.
    codes = await services.generate_recovery_codes(tenant.id, "employee", ann_id)

    r = await login(anon_client, tenant, email=ann, api=True)
    assert r.status_code == 202, r.text
    step = r.json()["second_factor"]
    assert step["masked_phone"] in ("", None) and "recovery codes" in (step.get("message") or r.text)
    assert await sms_rows(tenant.id) == []  # nothing was sent
    # Written by hand: lower case, spaces instead of dashes.
    typed = codes[3].lower().replace("-", " ")
    r = await _verify(anon_client, step["challenge_id"], recovery_code=typed)
    assert r.status_code == 200, r.text
    assert r.json()["logged_in"] is True and r.json()["employee_id"] == ann_id
    assert r.cookies.get("gallra_device")  # remembered like after an SMS code
    assert (await services.recovery_state(tenant.id, "employee", ann_id))["remaining"] == 9
    used = await EventLog.select().where(
        (EventLog.tenant_id == tenant.id) & (EventLog.action == "twofactor.recovery_code_used")
    )
    assert len(used) == 1 and used[0]["record_id"] == ann_id and codes[3] not in str(used[0].values())

    # The same code again, from another browser: refused and counted.
    anon_client.cookies.clear()
    r = await login(anon_client, tenant, email=ann, api=True)
    cid = r.json()["second_factor"]["challenge_id"]
    r = await _verify(anon_client, cid, recovery_code=codes[3])
    assert r.status_code == 400 and r.json()["code"] == "twofactor.wrong_code"
    assert r.json()["params"] == {"left": 4}
    person = await TwoFactorPerson.select().where(TwoFactorPerson.employee_id == ann_id).first()
    assert person["failed_count"] == 1
    # A right code resets the person's count.
    assert (await _verify(anon_client, cid, recovery_code=codes[4])).status_code == 200
    person = await TwoFactorPerson.select().where(TwoFactorPerson.employee_id == ann_id).first()
    assert person["failed_count"] == 0


async def test_an_sms_code_cannot_open_a_recovery_only_step(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    r = await login(anon_client, tenant, api=True)
    cid = r.json()["second_factor"]["challenge_id"]
    for guess in ("000000", "123456"):
        r = await _verify(anon_client, cid, code=guess)
        assert r.status_code == 400 and r.json()["code"] == "twofactor.wrong_code"
    row = await TwoFactorChallenge.select().where(TwoFactorChallenge.tenant_id == tenant.id).first()
    assert row["attempts"] == 2 and row["code_hmac"] == ""


async def test_a_person_with_a_phone_may_use_a_code_instead_of_the_sms(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    bo_id, bo = await add_employee(tenant, "Bo Phone")
    codes = await services.generate_recovery_codes(tenant.id, "employee", bo_id)
    r = await login(anon_client, tenant, email=bo, api=True)
    assert r.json()["second_factor"]["masked_phone"] == "+46 70•••••67"
    r = await _verify(anon_client, r.json()["second_factor"]["challenge_id"], recovery_code=codes[0])
    assert r.status_code == 200 and r.json()["logged_in"] is True
    # The SMS code of that challenge is dead now.
    assert await TwoFactorChallenge.count().where(
        (TwoFactorChallenge.employee_id == bo_id) & (TwoFactorChallenge.status == "used")
    ) == 1


async def test_wrong_codes_end_the_step_and_lock_like_sms_codes(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    ann_id, ann = await add_employee(tenant, "Ann Guess", mobile=None)
    codes = await services.generate_recovery_codes(tenant.id, "employee", ann_id)
    r = await login(anon_client, tenant, email=ann, api=True)
    cid = r.json()["second_factor"]["challenge_id"]
    for _ in range(services.MAX_ATTEMPTS - 1):
        assert (await _verify(anon_client, cid, recovery_code="AAAA-BBBB-CCCC-DDDD")).status_code == 400
    r = await _verify(anon_client, cid, recovery_code="AAAA-BBBB-CCCC-DDDE")
    assert r.status_code == 409 and r.json()["code"] == "twofactor.code_failed"
    # Even the right code no longer opens that step, and it was not used up by trying.
    r = await _verify(anon_client, cid, recovery_code=codes[0])
    assert r.status_code == 409
    assert (await services.recovery_state(tenant.id, "employee", ann_id))["remaining"] == 10
    # Across steps: locked at PERSON_MAX_FAILURES, until an administrator unlocks.
    r = await login(anon_client, tenant, email=ann, api=True)
    cid = r.json()["second_factor"]["challenge_id"]
    for _ in range(services.PERSON_MAX_FAILURES - services.MAX_ATTEMPTS - 1):
        await _verify(anon_client, cid, recovery_code="AAAA-BBBB-CCCC-DDDD")
    r = await _verify(anon_client, cid, recovery_code="AAAA-BBBB-CCCC-DDDD")
    assert r.status_code == 423 and r.json()["code"] == "twofactor.locked"
    r = await _verify(anon_client, cid, recovery_code=codes[0])
    assert r.status_code == 423


async def test_another_persons_or_tenants_code_is_refused(client, anon_client, tenant, other_tenant):
    await setup_login_2fa(client, tenant)
    ann_id, ann = await add_employee(tenant, "Ann Nophone", mobile=None)
    bo_id, _ = await add_employee(tenant, "Bo Other")
    await services.generate_recovery_codes(tenant.id, "employee", ann_id)
    bo_codes = await services.generate_recovery_codes(tenant.id, "employee", bo_id)
    olle_id, _ = await add_employee(other_tenant, "Olle Elsewhere", mobile=None)
    olle_codes = await services.generate_recovery_codes(other_tenant.id, "employee", olle_id)
    r = await login(anon_client, tenant, email=ann, api=True)
    cid = r.json()["second_factor"]["challenge_id"]
    for code in (bo_codes[0], olle_codes[0]):
        r = await _verify(anon_client, cid, recovery_code=code)
        assert r.status_code == 400 and r.json()["code"] == "twofactor.wrong_code"
    # The challenge named with another organization is not found at all.
    r = await _verify(anon_client, cid, recovery_code=bo_codes[1], tenant=other_tenant.slug)
    assert r.status_code == 404
    assert (await services.recovery_state(tenant.id, "employee", bo_id))["remaining"] == 10
    assert (await services.recovery_state(other_tenant.id, "employee", olle_id))["remaining"] == 10


async def test_malformed_or_double_answers_are_400_and_not_counted(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    r = await login(anon_client, tenant, api=True)
    cid = r.json()["second_factor"]["challenge_id"]
    for body in ({}, {"code": "123456", "recovery_code": "AAAA-BBBB-CCCC-DDDD"},
                 {"recovery_code": "short"}, {"recovery_code": "AAAA-BBBB-CCCC-DDD!"},
                 {"recovery_code": "UUUU-UUUU-UUUU-UUUU"}, {"recovery_code": "A" * 41}):
        r = await _verify(anon_client, cid, **body)
        assert r.status_code == 400, (body, r.text)
    row = await TwoFactorChallenge.select().where(TwoFactorChallenge.tenant_id == tenant.id).first()
    assert row["attempts"] == 0


async def test_two_parallel_uses_of_one_code_succeed_once(tenant):
    codes = await services.generate_recovery_codes(tenant.id, "employee", tenant.admin_id)
    now = utcnow()
    results = await asyncio.gather(
        *[services.use_recovery_code(tenant.id, "employee", tenant.admin_id, codes[0], now) for _ in range(4)]
    )
    assert sorted(results) == [False, False, False, True]
    assert (await services.recovery_state(tenant.id, "employee", tenant.admin_id))["remaining"] == 9


async def test_password_reset_with_a_recovery_code(client, anon_client, tenant):
    from core import auth

    await setup_login_2fa(client, tenant, "employee_reset")
    ann_id, ann = await add_employee(tenant, "Ann Reset", mobile=None)
    codes = await services.generate_recovery_codes(tenant.id, "employee", ann_id)
    token = await auth.start_password_reset(tenant.slug, ann)
    body = {"token": token, "password": "brand-new-password-42"}
    r = await anon_client.post("/api/auth/password-reset/complete", json=body)
    assert r.status_code == 202, r.text
    cid = r.json()["second_factor"]["challenge_id"]
    r = await _verify(anon_client, cid, recovery_code=codes[0])
    assert r.status_code == 200 and r.json()["purpose"] == "reset" and r.json()["logged_in"] is False
    r = await anon_client.post("/api/auth/password-reset/complete", json={**body, "challenge_id": cid})
    assert r.status_code == 200 and r.json()["status"] == "changed"
    await auth.check_credentials(tenant.slug, ann, "brand-new-password-42")


async def test_the_login_page_takes_a_recovery_code(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    codes = await make_recovery_codes(client)
    r = await page_login(anon_client, tenant)
    assert r.status_code == 200 and "Ange en reservkod" in r.text and 'name="recovery_code"' in r.text
    assert 'name="code"' not in r.text  # no SMS was sent: only the recovery code field
    challenge = re.search(r'name="challenge_id" value="([^"]+)"', r.text).group(1)
    form = {"csrf_token": CSRF_RE.search(r.text).group(1), "challenge_id": challenge, "then": "/",
            "tenant": tenant.slug}
    r = await anon_client.post("/twofactor/code", data={**form, "recovery_code": "nope"}, follow_redirects=False)
    assert r.status_code == 400 and 'id="e-recovery_code"' in r.text and "16 bokstäver och siffror" in r.text
    r = await anon_client.post("/twofactor/code", data={**form, "recovery_code": "AAAA-BBBB-CCCC-DDDD"},
                               follow_redirects=False)
    assert r.status_code == 400 and "Fel kod. 4 försök kvar." in r.text and 'id="e-recovery_code"' in r.text
    r = await anon_client.post("/twofactor/code", data={**form, "recovery_code": codes[0]}, follow_redirects=False)
    assert r.status_code == 303 and r.cookies.get("gallra_session") and r.cookies.get("gallra_device")
    r = await anon_client.get("/")
    assert "Du använde en reservkod; 9 finns kvar" in r.text
    assert await TrustedDevice.count().where(TrustedDevice.employee_id == tenant.admin_id) == 1


async def test_sms_page_offers_a_recovery_code_too(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    _, bo = await add_employee(tenant, "Bo Phone")
    await forget_last_send(tenant.id)
    r = await page_login(anon_client, tenant, email=bo)
    assert "Ange SMS-koden" in r.text and "Använd en reservkod i stället" in r.text
    assert await last_code(tenant.id)
