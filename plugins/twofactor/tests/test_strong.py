"""Which factor (#21.3): a context may require an authenticator app or a passkey ("strong"),
and so may every administrator. There no SMS code is sent, offered or accepted; a person
without a strong factor is refused with a coded message (recovery codes stay the last
resort). Switching a rule on must not lock out every administrator."""

from __future__ import annotations

import re

from core.eventlog import EventLog
from plugins.twofactor import services
from plugins.twofactor.tables import TwoFactorChallenge
from plugins.twofactor.tests.test_app import code_at
from tests.pages.helpers import CSRF_RE, page_login, post_form
from tests.support import login
from tests.twofactor_kit import (
    MOBILE,
    activate_sms,
    add_employee,
    forget_last_send,
    make_recovery_codes,
    set_phones,
    setup_login_2fa,
    sms_rows,
    switch,
)


async def _verify(client, cid, **body):
    return await client.post(f"/api/twofactor/challenges/{cid}/verify", json=body)


async def _strong(client, **body):
    return await client.put("/api/twofactor/strong", json=body)


async def _app_for(tenant, employee_id: int) -> str:
    enrolment = await services.start_app_enrolment(tenant.id, "employee", employee_id)
    await services.confirm_app(tenant.id, "employee", employee_id, code_at(enrolment.secret))
    return enrolment.secret


async def test_a_strong_context_asks_for_the_app_and_never_offers_sms(client, anon_client, tenant):
    await setup_login_2fa(client, tenant, "employee_login", "employee_reset")
    bo_id, bo = await add_employee(tenant, "Bo Strong", mobile=MOBILE)
    secret = await _app_for(tenant, bo_id)
    r = await _strong(client, contexts={"employee_login": True})
    assert r.status_code == 200, r.text
    assert r.json() == {"contexts": ["employee_login"], "admins": False}
    assert (await client.get("/api/twofactor/strong")).json()["contexts"] == ["employee_login"]
    contexts = {c["key"]: c for c in (await client.get("/api/twofactor/contexts")).json()["contexts"]}
    assert contexts["employee_login"]["strong_required"] is True
    assert contexts["employee_reset"]["strong_required"] is False

    r = await login(anon_client, tenant, email=bo, api=True)
    assert r.status_code == 202, r.text
    cid = r.json()["second_factor"]["challenge_id"]
    assert cid.startswith(services.STRONG_APP_PREFIX) and not r.json()["second_factor"]["masked_phone"]
    # No SMS: not sent, not on request (API and page), not accepted.
    assert await sms_rows(tenant.id) == []
    r = await anon_client.post(f"/api/twofactor/challenges/{cid}/resend", json={"tenant": tenant.slug})
    assert r.status_code == 409 and r.json()["code"] == "twofactor.sms_not_allowed", r.text
    r = await _verify(anon_client, cid, code="123456", tenant=tenant.slug)
    assert r.status_code == 409 and r.json()["code"] == "twofactor.sms_not_allowed"
    assert await sms_rows(tenant.id) == []
    # The app's code logs in.
    r = await _verify(anon_client, cid, app_code=code_at(secret, 1), tenant=tenant.slug)
    assert r.status_code == 200 and r.json()["logged_in"] is True, r.text

    # Per context: the password reset (no rule) still sends Bo an SMS code if asked for one.
    await forget_last_send(tenant.id)
    row = await services.find_context(tenant.id, "employee_reset")
    started = await services.start_challenge(tenant.id, "employee", bo_id, row)
    assert started.masked_phone and len(await sms_rows(tenant.id)) == 1


async def test_the_code_page_offers_no_sms_where_strong_is_required(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    bo_id, bo = await add_employee(tenant, "Bo Page", mobile=MOBILE)
    await _app_for(tenant, bo_id)
    assert (await _strong(client, contexts={"employee_login": True})).status_code == 200
    r = await page_login(anon_client, tenant, email=bo)
    assert "Ange koden från din autentiseringsapp" in r.text
    assert 'id="send-sms"' not in r.text and "Skicka en SMS-kod i stället" not in r.text
    cid = re.search(r'name="challenge_id" value="([^"]+)"', r.text).group(1)
    form = {"csrf_token": CSRF_RE.search(r.text).group(1), "challenge_id": cid, "then": "/", "tenant": tenant.slug}
    # Posting "send an SMS code" anyway is refused, and nothing is sent.
    r = await anon_client.post("/twofactor/code", data={**form, "send_sms": "1"}, follow_redirects=False)
    assert r.status_code == 409 and "SMS-kod godtas inte" in r.text
    assert await sms_rows(tenant.id) == []


async def test_a_person_without_a_strong_factor_is_refused_not_sent_an_sms(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    _, ann = await add_employee(tenant, "Ann Phoneonly", mobile=MOBILE)
    assert (await _strong(client, contexts={"employee_login": True}, confirm=True)).status_code == 200
    r = await login(anon_client, tenant, email=ann, api=True)
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "twofactor.strong_required" and "My devices" in r.json()["detail"]
    assert await sms_rows(tenant.id) == []
    r = await anon_client.post(
        "/api/auth/login", json={"tenant": tenant.slug, "email": ann, "password": tenant.password},
        headers={"Accept-Language": "sv"},
    )
    assert r.status_code == 409 and "Mina enheter" in r.json()["detail"]
    assert await TwoFactorChallenge.count().where(TwoFactorChallenge.tenant_id == tenant.id) == 0


async def test_recovery_codes_are_the_last_resort_where_strong_is_required(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    await set_phones(tenant.admin_id, mobile=MOBILE)  # a phone, but SMS is not accepted
    codes = await make_recovery_codes(client)
    assert (await _strong(client, contexts={"employee_login": True})).status_code == 200
    r = await login(anon_client, tenant, api=True)
    assert r.status_code == 202, r.text
    cid = r.json()["second_factor"]["challenge_id"]
    assert cid.startswith(services.STRONG_PREFIX) and await sms_rows(tenant.id) == []
    assert "recovery codes" in r.json()["second_factor"]["message"]
    r = await _verify(anon_client, cid, recovery_code=codes[0], tenant=tenant.slug)
    assert r.status_code == 200 and r.json()["logged_in"] is True


async def test_the_administrator_rule_applies_to_administrators_only(client, anon_client, tenant):
    from core.tables import Employee

    await setup_login_2fa(client, tenant)
    await _app_for(tenant, tenant.admin_id)
    eva_id, eva = await add_employee(tenant, "Eva Admin", mobile=MOBILE)
    await Employee.update({Employee.role: "admin"}).where(Employee.id == eva_id)
    _, cia = await add_employee(tenant, "Cia User", mobile=MOBILE)
    # Eva (an administrator) has no strong factor and no recovery codes: confirm.
    r = await _strong(client, admins=True)
    assert r.status_code == 409 and r.json()["code"] == "twofactor.confirm_lockout"
    assert [p["name"] for p in r.json()["locked_out"]] == ["Eva Admin"]
    assert (await client.get("/api/twofactor/strong")).json()["admins"] is False
    r = await _strong(client, admins=True, confirm=True)
    assert r.status_code == 200 and r.json()["admins"] is True
    # The administrator: the app, no SMS. Eva: refused. Cia, no administrator: SMS as before.
    r = await login(anon_client, tenant, api=True)
    assert r.json()["second_factor"]["challenge_id"].startswith(services.STRONG_APP_PREFIX)
    anon_client.cookies.clear()
    r = await login(anon_client, tenant, email=eva, api=True)
    assert r.status_code == 409 and r.json()["code"] == "twofactor.strong_required"
    r = await login(anon_client, tenant, email=cia, api=True)
    assert r.status_code == 202 and r.json()["second_factor"]["masked_phone"]
    assert len(await sms_rows(tenant.id)) == 1
    events = await EventLog.select().where(
        (EventLog.tenant_id == tenant.id) & (EventLog.action == "twofactor.strong_rules_changed")
    )
    assert len(events) == 1


async def test_the_administrator_rule_never_locks_out_every_administrator(client, tenant):
    await login(client, tenant, api=True)
    await activate_sms(client)
    await set_phones(tenant.admin_id, mobile=MOBILE)
    await switch(client, "employee_login")  # the administrator gets SMS codes
    for confirm in (False, True):  # confirming is never enough here
        r = await _strong(client, admins=True, confirm=confirm)
        assert r.status_code == 409, r.text
        body = r.json()
        assert body["code"] == "twofactor.locks_out_admins" and body["confirmable"] is False
        assert body["locked_out"] == [{"employee_id": tenant.admin_id, "name": "Admin Person", "is_admin": True}]
        assert "authenticator app" in body["detail"]
    r = await _strong(client, contexts={"employee_login": True})
    assert r.status_code == 409 and r.json()["code"] == "twofactor.locks_out_admins"
    assert (await client.get("/api/twofactor/strong")).json() == {"contexts": [], "admins": False}
    # A rule for a context that asks no employee on the way in needs no check.
    r = await _strong(client, contexts={"employee_reset": True})  # off: nobody asked yet
    assert r.status_code == 200
    # ...but switching that context on later is checked against the rule.
    r = await client.put("/api/twofactor/contexts/employee_reset", json={"enabled": True, "confirm": True})
    assert r.status_code == 409 and r.json()["code"] == "twofactor.locks_out_admins"
    # With an app the administrator passes; the rules can be switched on.
    await _app_for(tenant, tenant.admin_id)
    assert (await _strong(client, admins=True)).status_code == 200
    assert (await client.put("/api/twofactor/contexts/employee_reset", json={"enabled": True})).status_code == 200


async def test_unknown_context_and_bad_body(client, tenant):
    await login(client, tenant, api=True)
    r = await _strong(client, contexts={"no_such": True})
    assert r.status_code == 404 and r.json()["code"] == "twofactor.context_not_found"
    r = await _strong(client, admins="yes")
    assert r.status_code == 400
    r = await _strong(client, wat=1)
    assert r.status_code == 400
    assert (await client.get("/api/twofactor/strong")).json() == {"contexts": [], "admins": False}


async def test_only_administrators_set_the_rules(client, anon_client, tenant):
    await login(client, tenant, api=True)
    _, bo = await add_employee(tenant, "Bo User")
    await login(anon_client, tenant, email=bo, api=True)
    assert (await anon_client.get("/api/twofactor/strong")).status_code == 403
    assert (await _strong(anon_client, admins=True)).status_code == 403


async def test_settings_page_saves_the_rules_and_shows_the_lockout(client, tenant):
    await login(client, tenant, api=True)
    await activate_sms(client)
    await set_phones(tenant.admin_id, mobile=MOBILE)
    await switch(client, "employee_login")
    r = await client.get("/twofactor/settings")
    assert r.status_code == 200 and "Vilken faktor" in r.text and 'name="admins_strong"' in r.text
    r = await post_form(client, "/twofactor/settings/strong", {"admins_strong": "on"},
                        token_from="/twofactor/settings")
    assert r.status_code == 409 and 'id="strong-lockout"' in r.text and "Admin Person" in r.text
    assert "låsa ute alla administratörer" in r.text
    await _app_for(tenant, tenant.admin_id)
    r = await post_form(client, "/twofactor/settings/strong", {"admins_strong": "on", "strong": "vault_decrypt"},
                        token_from="/twofactor/settings")
    assert r.status_code in (302, 303), r.text
    rules = await services.strong_rules(tenant.id)
    assert rules.admins is True


async def test_signing_where_strong_is_required(admin_client, tenant, fake_people):
    """Signing for oneself asks the app (no SMS); without an app it is refused; asking another
    person by SMS is refused there (fail closed)."""
    from core.contracts import PersonContact

    fake_people.people[(tenant.id, "customer", 5)] = PersonContact(name="Dan Kund", mobile_phone=MOBILE)
    await activate_sms(admin_client)
    await switch(admin_client, "test_signing")
    assert (await _strong(admin_client, contexts={"test_signing": True})).status_code == 200
    mine = {"context": "test_signing", "person_kind": "employee", "person_id": tenant.admin_id}
    r = await admin_client.post("/api/twofactor/sign", json=mine)
    assert r.status_code == 409 and r.json()["code"] == "twofactor.strong_required", r.text
    secret = await _app_for(tenant, tenant.admin_id)
    r = await admin_client.post("/api/twofactor/sign", json=mine)
    assert r.status_code == 202 and r.json()["challenge_id"].startswith(services.STRONG_APP_PREFIX), r.text
    r = await _verify(admin_client, r.json()["challenge_id"], app_code=code_at(secret, 1))
    assert r.status_code == 200 and r.json()["signature"]["name"] == "Admin Person"
    theirs = {"context": "test_signing", "person_kind": "customer", "person_id": 5, "reason": "Avtal"}
    r = await admin_client.post("/api/twofactor/sign", json=theirs)
    assert r.status_code == 409 and r.json()["code"] == "twofactor.sms_not_allowed"
    assert await sms_rows(tenant.id) == []
