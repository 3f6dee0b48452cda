"""Passkeys (WebAuthn) as a second factor (#21.1): registration of several named passkeys,
login with one as the second factor, single-use challenges bound to their person, tenant
and step, failures counted like wrong codes, forged answers refused with a 400 (never a
500), the signature counter, user verification for the vault, removal.

The answers are real: tests/passkey_kit.py signs them with an EC P-256 key, and the
webauthn library verifies them."""

from __future__ import annotations

import json

from core.contracts import TwoFactorContext
from core.db import utcnow
from core.secondfactor import second_factors_of
from plugins.twofactor import passkeys, services
from plugins.twofactor.tables import TrustedDevice, TwoFactorChallenge, TwoFactorPasskey, TwoFactorPerson
from tests.passkey_kit import SoftAuthenticator, b64u, register
from tests.support import login
from tests.twofactor_kit import add_employee, forget_last_send, setup_login_2fa, sms_rows


async def _step(anon_client, tenant, email=None) -> str:
    """Log in with the password: the second factor's challenge id."""
    r = await login(anon_client, tenant, email=email, api=True)
    assert r.status_code == 202, r.text
    return str(r.json()["second_factor"]["challenge_id"])


async def _options(client, tenant, cid) -> dict:
    r = await client.post(f"/api/twofactor/passkeys/challenges/{cid}/options", json={"tenant": tenant.slug})
    assert r.status_code == 200, r.text
    return dict(r.json()["publicKey"])


async def _verify(client, tenant, cid, credential):
    return await client.post(f"/api/twofactor/challenges/{cid}/verify",
                             json={"passkey": credential, "tenant": tenant.slug})


async def _failures(tenant_id: int, employee_id: int) -> int:
    row = await TwoFactorPerson.select(TwoFactorPerson.failed_count).where(
        (TwoFactorPerson.tenant_id == tenant_id) & (TwoFactorPerson.employee_id == employee_id)
    ).first()
    return int(row["failed_count"]) if row else 0


async def test_register_several_named_passkeys_and_log_in_with_one(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    assert "passkey" not in await second_factors_of(tenant.id, "employee", tenant.admin_id)
    laptop = await register(client, "Jobbdator")
    key = await register(client, "  YubiKey   5 ")
    mine = (await client.get("/api/twofactor/passkeys")).json()
    assert [p["name"] for p in mine] == ["Jobbdator", "YubiKey 5"] and all(p["last_used_at"] is None for p in mine)
    assert "passkey" in await second_factors_of(tenant.id, "employee", tenant.admin_id)
    # Only public material is stored.
    row = await TwoFactorPasskey.select().where(TwoFactorPasskey.credential_id == laptop.id).first()
    assert row["employee_id"] == tenant.admin_id and row["tenant_id"] == tenant.id and row["sign_count"] == 0

    cid = await _step(anon_client, tenant)
    assert cid.startswith(passkeys.PASSKEY_CHALLENGE_PREFIX)
    assert await sms_rows(tenant.id) == []  # a passkey first: no SMS sent
    options = await _options(anon_client, tenant, cid)
    assert {c["id"] for c in options["allowCredentials"]} == {laptop.id, key.id}
    assert options["userVerification"] == "preferred" and options["rpId"] == passkeys.relying_party()[0]
    r = await _verify(anon_client, tenant, cid, key.get(options))
    assert r.status_code == 200, r.text
    assert r.json()["logged_in"] is True and r.cookies.get("gallra_device")
    assert await TrustedDevice.count().where(TrustedDevice.employee_id == tenant.admin_id) == 1
    used = await TwoFactorPasskey.select().where(TwoFactorPasskey.credential_id == key.id).first()
    assert used["sign_count"] == 1 and used["last_used_at"] is not None


async def test_registration_challenges_are_single_use_and_checked(client, tenant):
    await login(client, tenant, api=True)
    r = await client.post("/api/twofactor/passkeys/options")
    body = r.json()
    assert body["publicKey"]["rp"]["id"] == passkeys.relying_party()[0]
    assert body["publicKey"]["attestation"] == "none"
    a = SoftAuthenticator()
    # A wrong origin is refused (400) and uses the challenge.
    r = await client.post("/api/twofactor/passkeys", json={
        "challenge_id": body["challenge_id"], "name": "Evil", "credential": a.create(body["publicKey"], "https://evil.example")})
    assert r.status_code == 400 and r.json()["code"] == "twofactor.passkey_not_registered", r.text
    r = await client.post("/api/twofactor/passkeys", json={
        "challenge_id": body["challenge_id"], "name": "Again", "credential": a.create(body["publicKey"])})
    assert r.status_code == 409 and r.json()["code"] == "twofactor.passkey_register_ended"
    # A name is required; malformed answers are a 400 and nothing is stored.
    body = (await client.post("/api/twofactor/passkeys/options")).json()
    r = await client.post("/api/twofactor/passkeys", json={
        "challenge_id": body["challenge_id"], "name": "  ", "credential": a.create(body["publicKey"])})
    assert r.status_code == 400 and r.json()["code"] == "twofactor.passkey_name"
    r = await client.post("/api/twofactor/passkeys", json={
        "challenge_id": body["challenge_id"], "name": "X",
        "credential": {"id": "abc", "response": {"clientDataJSON": "!!"}}})
    assert r.status_code == 400
    assert await TwoFactorPasskey.count().where(TwoFactorPasskey.tenant_id == tenant.id) == 0
    # The same authenticator twice: the second is refused.
    b = await register(client, "One")
    body = (await client.post("/api/twofactor/passkeys/options")).json()
    assert [c["id"] for c in body["publicKey"]["excludeCredentials"]] == [b.id]
    r = await client.post("/api/twofactor/passkeys", json={
        "challenge_id": body["challenge_id"], "name": "Two", "credential": b.create(body["publicKey"])})
    assert r.status_code == 409 and r.json()["code"] == "twofactor.passkey_exists"


async def test_replays_and_other_peoples_answers_are_refused_and_counted(client, anon_client, tenant, other_tenant):
    await setup_login_2fa(client, tenant)
    mine = await register(client)
    cid = await _step(anon_client, tenant)
    options = await _options(anon_client, tenant, cid)
    answer = mine.get(options)
    assert (await _verify(anon_client, tenant, cid, answer)).status_code == 200
    # The same answer again: the challenge is used (409), nothing compared.
    r = await _verify(anon_client, tenant, cid, answer)
    assert r.status_code == 409 and r.json()["code"] == "twofactor.code_used"
    assert await _failures(tenant.id, tenant.admin_id) == 0

    # Replayed on a new step (another challenge): refused and counted.
    anon_client.cookies.clear()
    cid2 = await _step(anon_client, tenant)
    r = await _verify(anon_client, tenant, cid2, answer)
    assert r.status_code == 400 and r.json()["code"] == "twofactor.passkey_refused", r.text
    assert await _failures(tenant.id, tenant.admin_id) == 1

    # An answer made for another challenge of the same person.
    cid3 = await _step(anon_client, tenant)
    other_options = await _options(anon_client, tenant, cid3)
    r = await _verify(anon_client, tenant, cid2, mine.get(other_options))
    assert r.status_code == 400 and r.json()["code"] == "twofactor.passkey_refused"
    assert await _failures(tenant.id, tenant.admin_id) == 2

    # Another person's passkey of the same tenant, signing this very challenge.
    _, email = await add_employee(tenant, "Bo Berg")
    other = SoftAuthenticator()
    bo_id = await _employee_id(tenant, email)
    await _register_directly(tenant.id, "employee", bo_id, other)
    r = await _verify(anon_client, tenant, cid2, other.get(await _options(anon_client, tenant, cid2)))
    assert r.status_code == 400 and r.json()["code"] == "twofactor.passkey_refused"
    assert await _failures(tenant.id, tenant.admin_id) == 3

    # Another tenant's person's passkey (same employee id would not help either).
    stranger = SoftAuthenticator()
    await _register_directly(other_tenant.id, "employee", other_tenant.admin_id, stranger)
    r = await _verify(anon_client, tenant, cid2, stranger.get(await _options(anon_client, tenant, cid2)))
    assert r.status_code == 400 and r.json()["code"] == "twofactor.passkey_refused"
    assert await _failures(tenant.id, tenant.admin_id) == 4
    # The challenge is not found in the other tenant at all.
    r = await anon_client.post(f"/api/twofactor/passkeys/challenges/{cid2}/options", json={"tenant": other_tenant.slug})
    assert r.status_code == 404
    r = await _verify(anon_client, other_tenant, cid2, mine.get(options))
    assert r.status_code == 404

    # The right answer still opens the step and ends the count of failures.
    r = await _verify(anon_client, tenant, cid2, mine.get(await _options(anon_client, tenant, cid2)))
    assert r.status_code == 200, r.text
    assert await _failures(tenant.id, tenant.admin_id) == 0


async def _employee_id(tenant, email) -> int:
    from core.tables import Employee

    row = await Employee.select(Employee.id).where(
        (Employee.tenant_id == tenant.id) & (Employee.email == email)).first()
    return int(row["id"])


async def _register_directly(tenant_id: int, kind: str, person_id: int, authenticator: SoftAuthenticator) -> None:
    challenge_id, options = await passkeys.start_registration(tenant_id, kind, person_id)
    await passkeys.finish_registration(tenant_id, kind, person_id, challenge_id, authenticator.create(options), "Key")


async def test_forged_answers_are_400_never_500(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    mine = await register(client)
    cid = await _step(anon_client, tenant)
    options = await _options(anon_client, tenant, cid)
    good = mine.get(options)
    # A tampered client data JSON (the signature no longer matches).
    tampered = json.loads(json.dumps(good))
    client_data = json.loads(SoftAuthenticatorDecode.client_data(good))
    client_data["origin"] = client_data["origin"] + "x"
    tampered["response"]["clientDataJSON"] = b64u(json.dumps(client_data).encode())
    r = await _verify(anon_client, tenant, cid, tampered)
    assert r.status_code == 400 and r.json()["code"] == "twofactor.passkey_refused"
    # Client data that is not JSON at all.
    broken = json.loads(json.dumps(good))
    broken["response"]["clientDataJSON"] = b64u(b"{not json")
    assert (await _verify(anon_client, tenant, cid, broken)).status_code == 400
    broken["response"]["clientDataJSON"] = "***"
    assert (await _verify(anon_client, tenant, cid, broken)).status_code == 400
    # A correctly signed answer from another origin, and of the wrong type.
    r = await _verify(anon_client, tenant, cid, mine.get(options, origin="https://evil.example"))
    assert r.status_code == 400 and r.json()["code"] == "twofactor.passkey_refused"
    # Malformed bodies: 400 and not counted.
    before = await _failures(tenant.id, tenant.admin_id)
    for body in ({"id": 5, "response": {}}, {"response": {}}, {"id": "x"}):
        r = await _verify(anon_client, tenant, cid, body)
        assert r.status_code == 400 and r.json()["code"] == "twofactor.passkey_invalid", r.text
    assert await _failures(tenant.id, tenant.admin_id) == before == 4
    r = await anon_client.post(f"/api/twofactor/challenges/{cid}/verify",
                               json={"passkey": good, "code": "123456", "tenant": tenant.slug})
    assert r.status_code == 400
    # Five wrong answers end the challenge like five wrong codes.
    r = await _verify(anon_client, tenant, cid, mine.get(options, challenge=b64u(b"x" * 32)))
    assert r.status_code == 409 and r.json()["code"] == "twofactor.code_failed"
    assert (await TwoFactorChallenge.select(TwoFactorChallenge.status).where(
        TwoFactorChallenge.tenant_id == tenant.id).order_by(TwoFactorChallenge.id, ascending=False).first()
    )["status"] == "failed"


class SoftAuthenticatorDecode:
    @staticmethod
    def client_data(answer: dict) -> str:
        from tests.passkey_kit import unb64u

        return unb64u(answer["response"]["clientDataJSON"]).decode()


async def test_a_signature_counter_that_does_not_grow_is_refused(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    mine = await register(client)
    cid = await _step(anon_client, tenant)
    assert (await _verify(anon_client, tenant, cid, mine.get(await _options(anon_client, tenant, cid),
                                                             counter=7))).status_code == 200
    anon_client.cookies.clear()
    cid = await _step(anon_client, tenant)
    options = await _options(anon_client, tenant, cid)
    r = await _verify(anon_client, tenant, cid, mine.get(options, counter=7))  # a clone, or a replay
    assert r.status_code == 400 and r.json()["code"] == "twofactor.passkey_refused"
    r = await _verify(anon_client, tenant, cid, mine.get(options, counter=3))
    assert r.status_code == 400
    r = await _verify(anon_client, tenant, cid, mine.get(options, counter=8))
    assert r.status_code == 200, r.text


async def test_the_vault_needs_user_verification(client, tenant):
    await login(client, tenant, api=True)
    mine = await register(client)
    ctx = TwoFactorContext("vault_decrypt", "Valv", "Vault", module="vault", purpose="sign", user_verification=True)
    assert await passkeys.needs_user_verification(tenant.id, "vault_decrypt") is True
    assert await passkeys.needs_user_verification(tenant.id, "employee_login") is False
    assert await passkeys.needs_user_verification(tenant.id, "no_such_context") is True  # fail closed
    started = await passkeys.start_passkey_challenge(tenant.id, "employee", tenant.admin_id, ctx, subject="vault:1")
    options = await passkeys.assertion_options(tenant.id, started.challenge_id)
    assert options["userVerification"] == "required"
    try:
        await passkeys.verify_passkey(tenant.id, started.challenge_id, mine.get(options, verified=False))
    except services.TwoFactorRefusal as exc:
        assert exc.status == 400 and exc.code == "twofactor.passkey_refused"
    else:
        raise AssertionError("an assertion without user verification opened the vault")
    result = await passkeys.verify_passkey(tenant.id, started.challenge_id, json.dumps(mine.get(options)))
    assert result.by == "passkey" and result.purpose == "sign" and result.context == "vault_decrypt"
    row = await TwoFactorChallenge.select().where(TwoFactorChallenge.tenant_id == tenant.id).order_by(
        TwoFactorChallenge.id, ascending=False).first()
    assert row["status"] == "verified" and row["subject_hash"] == services.subject_digest("vault:1")


async def test_sms_instead_and_removal(client, anon_client, tenant):
    from tests.twofactor_kit import MOBILE, last_code, set_phones

    await setup_login_2fa(client, tenant)
    await set_phones(tenant.admin_id, MOBILE)
    first = await register(client, "A")
    await register(client, "B")
    cid = await _step(anon_client, tenant)
    assert cid.startswith(passkeys.PASSKEY_CHALLENGE_PREFIX) and await sms_rows(tenant.id) == []
    # SMS instead: the same challenge gets a code.
    r = await anon_client.post(f"/api/twofactor/challenges/{cid}/resend", json={"tenant": tenant.slug})
    assert r.status_code == 202, r.text
    r = await anon_client.post(f"/api/twofactor/challenges/{cid}/verify",
                               json={"code": await last_code(tenant.id), "tenant": tenant.slug})
    assert r.status_code == 200 and r.json()["logged_in"] is True

    ids = [p["id"] for p in (await client.get("/api/twofactor/passkeys")).json()]
    r = await client.delete(f"/api/twofactor/passkeys/{ids[0]}")
    assert r.status_code == 200
    r = await client.delete(f"/api/twofactor/passkeys/{ids[0]}")
    assert r.status_code == 404 and r.json()["code"] == "twofactor.passkey_not_found"
    # Another person's passkey is not theirs to remove.
    _, email = await add_employee(tenant, "Cay Ek")
    cay = await _employee_id(tenant, email)
    await _register_directly(tenant.id, "employee", cay, SoftAuthenticator())
    cays = await passkeys.list_passkeys(tenant.id, "employee", cay)
    r = await client.delete(f"/api/twofactor/passkeys/{cays[0]['id']}")
    assert r.status_code == 404
    await client.delete(f"/api/twofactor/passkeys/{ids[1]}")
    assert "passkey" not in await second_factors_of(tenant.id, "employee", tenant.admin_id)
    anon_client.cookies.clear()
    await forget_last_send(tenant.id)
    cid = await _step(anon_client, tenant)
    assert not cid.startswith(passkeys.PASSKEY_CHALLENGE_PREFIX)  # an SMS now
    r = await anon_client.post(f"/api/twofactor/passkeys/challenges/{cid}/options", json={"tenant": tenant.slug})
    assert r.status_code == 409 and r.json()["code"] == "twofactor.passkey_none"
    del first


async def test_a_registration_challenge_completes_no_step(client, anon_client, tenant):
    await login(client, tenant, api=True)
    body = (await client.post("/api/twofactor/passkeys/options")).json()
    r = await anon_client.post(f"/api/twofactor/challenges/{body['challenge_id']}/verify",
                               json={"passkey": SoftAuthenticator().get(body["publicKey"] | {"rpId": None}),
                                     "tenant": tenant.slug})
    assert r.status_code == 404
    r = await anon_client.post(f"/api/twofactor/passkeys/challenges/{body['challenge_id']}/options",
                               json={"tenant": tenant.slug})
    assert r.status_code == 404


async def test_portal_people_use_passkeys_too(tenant):
    """A contact person (the portal's people) registers and answers a step the same way."""
    ctx = TwoFactorContext("portal_login", "Portal", "Portal", purpose="login")
    contact = SoftAuthenticator()
    # describe_person needs an owner of "contact": without one registration is refused.
    try:
        await passkeys.start_registration(tenant.id, "contact", 4242)
    except services.TwoFactorRefusal as exc:
        assert exc.status == 404
    await TwoFactorPasskey.insert(TwoFactorPasskey(
        tenant_id=tenant.id, person_kind="contact", contact_id=4242, credential_id=contact.id,
        public_key=b64u(_cose(contact)), sign_count=0, name="Telefon", created_at=utcnow()))
    assert await passkeys.has_passkey(tenant.id, "contact", 4242)
    started = await passkeys.start_passkey_challenge(tenant.id, "contact", 4242, ctx)
    options = await passkeys.assertion_options(tenant.id, started.challenge_id)
    result = await passkeys.verify_passkey(tenant.id, started.challenge_id, contact.get(options))
    assert (result.person_kind, result.person_id, result.by) == ("contact", 4242, "passkey")
    assert result.device_token  # a login step remembers the device, as with an SMS code


def _cose(authenticator: SoftAuthenticator) -> bytes:
    return authenticator._cose_key()


async def test_the_code_page_takes_a_passkey_and_refuses_forgeries_with_a_page(client, browser, tenant):
    """The web pages' way: page_login shows the passkey step; the options come from
    /twofactor/passkeys/options (CSRF checked); /twofactor/code takes the answer."""
    from tests.pages.helpers import CSRF_RE, page_login, post_form

    await setup_login_2fa(client, tenant)
    mine = await register(client)
    r = await page_login(browser, tenant)
    assert r.status_code == 200, r.text
    assert 'id="passkey-use"' in r.text and "/twofactor/passkeys/passkeys.js" in r.text
    assert 'name="send_sms"' in r.text
    cid = r.text.split('name="challenge_id" value="')[1].split('"')[0]
    assert cid.startswith(passkeys.PASSKEY_CHALLENGE_PREFIX)
    token = CSRF_RE.search(r.text).group(1)
    # Without the CSRF token the options are refused.
    r = await browser.post("/twofactor/passkeys/options", data={"challenge_id": cid, "tenant": tenant.slug})
    assert r.status_code in (400, 403)
    r = await browser.post("/twofactor/passkeys/options",
                           data={"csrf_token": token, "challenge_id": "pk-nope", "tenant": tenant.slug})
    assert r.status_code == 404 and r.json()["code"] == "twofactor.challenge_not_found"
    r = await browser.post("/twofactor/passkeys/options",
                           data={"csrf_token": token, "challenge_id": cid, "tenant": tenant.slug})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    options = r.json()["publicKey"]
    base = {"challenge_id": cid, "tenant": tenant.slug, "then": "/"}
    # Nothing given, garbage, another origin: the same page with the error, never a 500.
    r = await post_form(browser, "/twofactor/code", base)
    assert r.status_code == 400 and 'id="e-passkey"' in r.text
    r = await post_form(browser, "/twofactor/code", {**base, "passkey": "{not json"})
    assert r.status_code == 400 and 'id="e-passkey"' in r.text
    r = await post_form(browser, "/twofactor/code",
                        {**base, "passkey": json.dumps(mine.get(options, origin="http://evil.example"))})
    assert r.status_code == 400 and 'id="e-passkey"' in r.text
    r = await post_form(browser, "/twofactor/code", {**base, "passkey": json.dumps(mine.get(options))})
    assert r.status_code == 303, r.text
    assert browser.cookies.get("gallra_device") and browser.cookies.get("gallra_session")


async def test_my_devices_page_adds_and_removes_passkeys(client, tenant):
    from tests.pages.helpers import post_form

    await login(client, tenant, api=True)
    r = await client.get("/twofactor/devices")
    assert r.status_code == 200 and 'id="passkey-none"' in r.text and 'data-passkey="register"' in r.text
    r = await post_form(client, "/twofactor/devices/passkeys/options", {}, "/twofactor/devices")
    assert r.status_code == 200
    body = r.json()
    a = SoftAuthenticator()
    r = await post_form(client, "/twofactor/devices/passkeys/add", {
        "name": "", "passkey_challenge": body["challenge_id"], "passkey": json.dumps(a.create(body["publicKey"]))},
        "/twofactor/devices")
    assert r.status_code == 400 and 'id="e-name"' in r.text
    r = await post_form(client, "/twofactor/devices/passkeys/add", {
        "name": "Min nyckel", "passkey_challenge": body["challenge_id"],
        "passkey": json.dumps(a.create(body["publicKey"]))}, "/twofactor/devices")
    assert r.status_code == 303, r.text
    r = await client.get("/twofactor/devices")
    assert "Min nyckel" in r.text
    [row] = await passkeys.list_passkeys(tenant.id, "employee", tenant.admin_id)
    r = await post_form(client, f"/twofactor/devices/passkeys/{row['id']}/remove", {}, "/twofactor/devices")
    assert r.status_code == 303
    r = await post_form(client, f"/twofactor/devices/passkeys/{row['id']}/remove", {}, "/twofactor/devices")
    assert r.status_code == 404


async def test_administrators_see_and_remove_a_persons_passkeys_and_holders_are_not_locked_out(client, tenant):
    await login(client, tenant, api=True)
    ann_id, ann_email = await add_employee(tenant, "Ann Ingen", mobile=None)
    assert ann_id in {p.employee_id for p in await services.who_would_be_locked_out(tenant.id, ["employee_login"])}
    await _register_directly(tenant.id, "employee", ann_id, SoftAuthenticator())
    # A passkey needs no phone: Ann can pass a login step.
    assert ann_id not in {p.employee_id for p in await services.who_would_be_locked_out(tenant.id, ["employee_login"])}
    r = await client.get(f"/api/twofactor/passkeys/people/employee/{ann_id}")
    assert r.status_code == 200 and [p["name"] for p in r.json()] == ["Key"]
    r = await client.get("/api/twofactor/passkeys/people/employee/999999")
    assert r.status_code == 404
    [row] = await passkeys.list_passkeys(tenant.id, "employee", ann_id)
    r = await client.delete(f"/api/twofactor/passkeys/people/customer/{ann_id}/{row['id']}")
    assert r.status_code == 404  # not that person's passkey
    r = await client.delete(f"/api/twofactor/passkeys/people/employee/{ann_id}/{row['id']}")
    assert r.status_code == 200
    assert await passkeys.list_passkeys(tenant.id, "employee", ann_id) == []
    assert ann_id in {p.employee_id for p in await services.who_would_be_locked_out(tenant.id, ["employee_login"])}
    # Not for employees who are not administrators.
    await _register_directly(tenant.id, "employee", ann_id, SoftAuthenticator())
    await client.post("/api/auth/logout")
    await login(client, tenant, email=ann_email, api=True)
    r = await client.get(f"/api/twofactor/passkeys/people/employee/{ann_id}")
    assert r.status_code in (401, 403)


async def test_where_an_app_or_passkey_is_required_the_passkey_is_asked_and_sms_never(client, anon_client, tenant):
    """#21.3 with a real passkey: the step asks for it, no SMS is sent, offered or accepted,
    and the passkey logs in; an administrator's reset of the person's factors removes it."""
    from tests.twofactor_kit import MOBILE, set_phones

    await setup_login_2fa(client, tenant)
    _, email = await add_employee(tenant, "Bo Nyckel", mobile=MOBILE)
    bo = await _employee_id(tenant, email)
    key = SoftAuthenticator()
    await _register_directly(tenant.id, "employee", bo, key)
    await set_phones(bo, MOBILE)
    r = await client.put("/api/twofactor/strong", json={"contexts": {"employee_login": True}})
    assert r.status_code == 200, r.text

    cid = await _step(anon_client, tenant, email=email)
    assert cid.startswith(passkeys.STRONG_PASSKEY_PREFIX) and await sms_rows(tenant.id) == []
    r = await anon_client.post(f"/api/twofactor/challenges/{cid}/resend", json={"tenant": tenant.slug})
    assert r.status_code == 409 and r.json()["code"] == "twofactor.sms_not_allowed", r.text
    assert await sms_rows(tenant.id) == []
    options = await _options(anon_client, tenant, cid)
    r = await _verify(anon_client, tenant, cid, key.get(options))
    assert r.status_code == 200 and r.json()["logged_in"] is True, r.text

    r = await client.post(f"/api/twofactor/people/employee/{bo}/reset-factors")
    assert r.status_code == 200, r.text
    assert r.json()["removed"] >= 2  # the passkey and the remembered browser at least
    assert await passkeys.list_passkeys(tenant.id, "employee", bo) == []
    assert "passkey" not in await second_factors_of(tenant.id, "employee", bo)
