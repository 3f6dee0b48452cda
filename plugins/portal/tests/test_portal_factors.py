"""A portal person sets up their own authenticator app and passkeys on /portal/security
(#21), through the core hooks only (the portal does not import the two-factor plugin),
then logs in to the portal with them. Who the person is comes from the portal cookie,
never from the form: another person's passkey is a 404, no cookie is the login page."""

from __future__ import annotations

import json
import re
import time

import pyotp
import pytest

from core import secondfactor
from core.contracts import OwnFactors
from core.errors import GallraError
from core.eventlog import EventLog
from core.plugins import get_host
from core.testing.client import AppClient
from plugins.portal.tests.test_portal import MOBILE, portal_account, portal_login
from tests.pages.helpers import post_form
from tests.passkey_kit import SoftAuthenticator
from tests.support import make_contact, make_customer
from tests.twofactor_kit import activate_sms, forget_last_send, last_code

SECRET_RE = re.compile(r'<code id="app-secret" translate="no">([A-Z2-7 ]+)</code>')
SECURITY = "/portal/security"


@pytest.fixture(autouse=True)
def _two_factor_installed() -> None:
    if get_host().plugin("twofactor") is None:
        pytest.skip("the two-factor plugin is not installed")


async def _contact(admin_client, tenant, name: str, email: str) -> int:
    company = await make_customer(admin_client, name=f"{name} AB")
    person = await make_contact(admin_client, company["id"], name=name, email=email, mobile_phone=MOBILE)
    await portal_account(admin_client, tenant, f"contacts/{person['id']}", email)
    return int(person["id"])


async def _setup(admin_client, tenant) -> int:
    await activate_sms(admin_client)
    r = await admin_client.put("/api/twofactor/contexts/portal_login", json={"enabled": True})
    assert r.status_code == 200, r.text
    return await _contact(admin_client, tenant, "Karin", "karin@example.org")


async def _verify(client, tenant, cid, **body):
    return await client.post(f"/api/twofactor/challenges/{cid}/verify", json={"tenant": tenant.slug, **body})


async def _sms_login(client, tenant, email: str) -> None:
    await forget_last_send(tenant.id)
    r = await portal_login(client, tenant, email)
    assert r.status_code == 202, r.text
    cid = r.json()["second_factor"]["challenge_id"]
    r = await _verify(client, tenant, cid, code=await last_code(tenant.id))
    assert r.status_code == 200, r.text
    assert (await portal_login(client, tenant, email, challenge_id=cid)).status_code == 200


async def _add_passkey(browser, name: str = "Telefonen") -> SoftAuthenticator:
    r = await post_form(browser, f"{SECURITY}/passkeys/options", {}, token_from=SECURITY)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store", r.text
    body = r.json()
    key = SoftAuthenticator()
    r = await post_form(browser, f"{SECURITY}/passkeys/add", {
        "passkey": json.dumps(key.create(body["publicKey"])), "passkey_challenge": body["challenge_id"], "name": name,
    }, token_from=SECURITY)
    assert r.status_code == 303, r.text
    return key


def _passkey_ids(page: str) -> list[int]:
    return [int(x) for x in re.findall(r'action="/portal/security/passkeys/(\d+)/remove"', page)]


async def test_app_and_passkey_set_up_used_at_login_and_removed(app, admin_client, tenant):
    await _setup(admin_client, tenant)
    email = "karin@example.org"
    async with AppClient(app=app) as browser:
        await _sms_login(browser, tenant, email)
        page = (await browser.get(SECURITY)).text
        assert 'id="app-start"' in page and "Inga nycklar ännu." in page and 'id="passkey-none"' in page
        # The app: start, a wrong code refused with the plugin's coded message, the right one.
        r = await post_form(browser, f"{SECURITY}/app/start", {}, token_from=SECURITY)
        assert r.status_code == 303
        r = await browser.get(SECURITY)
        assert r.headers["cache-control"] == "no-store" and "<svg" in r.text
        secret = SECRET_RE.search(r.text).group(1).replace(" ", "")
        totp = pyotp.TOTP(secret)
        r = await post_form(browser, f"{SECURITY}/app/confirm", {"code": "12345"}, token_from=SECURITY)
        assert r.status_code == 400 and 'id="e-app"' in r.text and "6 siffror" in r.text
        wrong = f"{(int(totp.now()) + 1) % 1_000_000:06d}"
        r = await post_form(browser, f"{SECURITY}/app/confirm", {"code": wrong}, token_from=SECURITY)
        assert r.status_code == 400 and 'id="e-app"' in r.text
        r = await post_form(browser, f"{SECURITY}/app/confirm", {"code": totp.now()}, token_from=SECURITY)
        assert r.status_code == 303, r.text
        page = (await browser.get(SECURITY)).text
        assert 'id="app-remove"' in page and not SECRET_RE.search(page)
        # A second app while one is active: refused (coded, 409), the first one stays.
        r = await post_form(browser, f"{SECURITY}/app/start", {}, token_from=SECURITY)
        assert r.status_code == 409 and 'id="app-remove"' in r.text

    # A new browser logs in with the app's code (the next step's: the confirmed one is used).
    async with AppClient(app=app) as other:
        r = await portal_login(other, tenant, email)
        assert r.status_code == 202, r.text
        cid = r.json()["second_factor"]["challenge_id"]
        r = await _verify(other, tenant, cid, app_code=totp.at(time.time() + 30))
        assert r.status_code == 200, r.text
        assert (await portal_login(other, tenant, email, challenge_id=cid)).status_code == 200
        assert (await other.get(SECURITY)).status_code == 200

        # A passkey: added with its name, listed, then used at login in a third browser.
        key = await _add_passkey(other)
        page = (await other.get(SECURITY)).text
        assert "Telefonen" in page and "Inte använd ännu" in page
        (passkey_id,) = _passkey_ids(page)
        # The same registration answer again: the challenge is used, refused with a message.
        r = await post_form(other, f"{SECURITY}/passkeys/add", {"passkey": "{}", "passkey_challenge": "pkreg-x",
                                                               "name": "Igen"}, token_from=SECURITY)
        assert r.status_code in (400, 409) and 'id="e-passkey"' in r.text
        r = await post_form(other, f"{SECURITY}/passkeys/add", {"passkey": "", "passkey_challenge": "",
                                                               "name": ""}, token_from=SECURITY)
        assert r.status_code == 400 and 'id="e-name"' in r.text

    async with AppClient(app=app) as third:
        r = await portal_login(third, tenant, email)
        assert r.status_code == 202, r.text
        cid = r.json()["second_factor"]["challenge_id"]
        r = await third.post(f"/api/twofactor/passkeys/challenges/{cid}/options", json={"tenant": tenant.slug})
        assert r.status_code == 200, r.text
        r = await _verify(third, tenant, cid, passkey=key.get(r.json()["publicKey"]))
        assert r.status_code == 200, r.text
        assert (await portal_login(third, tenant, email, challenge_id=cid)).status_code == 200
        page = (await third.get(SECURITY)).text
        assert "Telefonen" in page and "Inte använd ännu" not in page  # last use shown

        # Both removed by their owner.
        r = await post_form(third, f"{SECURITY}/passkeys/{passkey_id}/remove", {}, token_from=SECURITY)
        assert r.status_code == 303
        r = await post_form(third, f"{SECURITY}/app/remove", {}, token_from=SECURITY)
        assert r.status_code == 303
        page = (await third.get(SECURITY)).text
        assert 'id="app-start"' in page and 'id="passkey-none"' in page
        # Removing again: the app is gone (coded 404 on the page), the passkey a 404.
        r = await post_form(third, f"{SECURITY}/app/remove", {}, token_from=SECURITY)
        assert r.status_code == 404 and 'id="e-app"' in r.text
        r = await post_form(third, f"{SECURITY}/passkeys/{passkey_id}/remove", {}, token_from=SECURITY)
        assert r.status_code == 404
    actions = [e["action"] for e in await EventLog.select(EventLog.action).where(
        (EventLog.tenant_id == tenant.id) & EventLog.action.like("portal.%"))]
    for action in ("portal.app_added", "portal.passkey_added", "portal.passkey_removed", "portal.app_removed"):
        assert actions.count(action) == 1, actions
    assert secret not in json.dumps([str(e) for e in await EventLog.select()])


async def test_another_persons_passkey_is_not_found_and_no_cookie_is_the_login(app, admin_client, tenant):
    karin = await _setup(admin_client, tenant)
    async with AppClient(app=app) as lars_browser:
        lars = await _contact(admin_client, tenant, "Lars", "lars@example.org")
        await _sms_login(lars_browser, tenant, "lars@example.org")
        await _add_passkey(lars_browser, "Lars nyckel")
        (lars_key,) = _passkey_ids((await lars_browser.get(SECURITY)).text)
    async with AppClient(app=app) as browser:
        await _sms_login(browser, tenant, "karin@example.org")
        # An id from the form or the path never picks the person: Lars's passkey is a 404.
        r = await post_form(browser, f"{SECURITY}/passkeys/{lars_key}/remove", {"person_id": str(karin)},
                            token_from=SECURITY)
        assert r.status_code == 404
        # Lars's registration challenge is not Karin's.
        r = await post_form(browser, f"{SECURITY}/passkeys/add", {
            "passkey": json.dumps(SoftAuthenticator().create({"rp": {"id": "x"}, "user": {"id": "AA"},
                                                               "challenge": "AA"})),
            "passkey_challenge": "pkreg-" + "a" * 40, "name": "Stulen"}, token_from=SECURITY)
        assert r.status_code == 409 and 'id="e-passkey"' in r.text
        # Without the CSRF token nothing happens.
        r = await browser.post(f"{SECURITY}/app/start", data={}, follow_redirects=False)
        assert r.status_code in (400, 403)
        assert (await browser.get(SECURITY)).text.count('id="app-start"') == 1
    factors = await secondfactor.own_second_factors(tenant.id, "contact", lars)
    assert factors is not None and [p.name for p in factors.passkeys] == ["Lars nyckel"]  # still there
    # Not logged in: the page and every form go to the portal login; the options say 401.
    async with AppClient(app=app) as stranger:
        r = await stranger.get(SECURITY, follow_redirects=False)
        assert r.status_code in (302, 303) and r.headers["location"] == "/portal/login"
        for path in ("app/start", "app/confirm", "app/remove", "passkeys/add", f"passkeys/{lars_key}/remove"):
            r = await post_form(stranger, f"{SECURITY}/{path}", {"code": "123456"}, token_from="/portal/login")
            assert r.status_code == 303 and r.headers["location"] == "/portal/login", path
        r = await post_form(stranger, f"{SECURITY}/passkeys/options", {}, token_from="/portal/login")
        assert r.status_code == 401 and r.json()["code"] == "portal.login_required"


# --- the hooks, through core (any kind of person the two-factor plugin keeps) ---------------


async def _person(admin_client, tenant) -> int:
    return await _contact(admin_client, tenant, "Hook", "hook@example.org")


async def test_hook_own_second_factors(admin_client, tenant, other_tenant):
    pid = await _person(admin_client, tenant)
    assert await secondfactor.own_second_factors(tenant.id, "contact", pid) == OwnFactors()
    setup = await secondfactor.start_authenticator_app(tenant.id, "contact", pid)
    mine = await secondfactor.own_second_factors(tenant.id, "contact", pid)
    assert mine is not None and mine.app_status == "pending" and mine.app_setup == setup
    assert await secondfactor.own_second_factors(tenant.id, "robot", pid) is None
    other = await secondfactor.own_second_factors(other_tenant.id, "contact", pid)
    assert other == OwnFactors()


async def test_hook_start_authenticator_app(admin_client, tenant, other_tenant):
    pid = await _person(admin_client, tenant)
    setup = await secondfactor.start_authenticator_app(tenant.id, "contact", pid)
    assert setup is not None and setup.uri.startswith("otpauth://totp/") and "<svg" in setup.qr_svg
    assert setup.secret_groups.replace(" ", "") == setup.secret
    assert await secondfactor.start_authenticator_app(tenant.id, "robot", pid) is None
    with pytest.raises(GallraError) as refused:
        await secondfactor.start_authenticator_app(other_tenant.id, "contact", pid)
    assert refused.value.status == 404


async def test_hook_confirm_authenticator_app(admin_client, tenant):
    pid = await _person(admin_client, tenant)
    with pytest.raises(GallraError) as refused:
        await secondfactor.confirm_authenticator_app(tenant.id, "contact", pid, "123456")
    assert refused.value.code == "twofactor.app_not_pending"
    setup = await secondfactor.start_authenticator_app(tenant.id, "contact", pid)
    assert setup is not None
    with pytest.raises(GallraError) as refused:
        await secondfactor.confirm_authenticator_app(tenant.id, "contact", pid, "12a456")
    assert refused.value.code == "twofactor.app_format"
    assert await secondfactor.confirm_authenticator_app(tenant.id, "contact", pid, pyotp.TOTP(setup.secret).now())
    assert "app" in await secondfactor.second_factors_of(tenant.id, "contact", pid)


async def test_hook_remove_authenticator_app(admin_client, tenant):
    pid = await _person(admin_client, tenant)
    await secondfactor.start_authenticator_app(tenant.id, "contact", pid)
    assert await secondfactor.remove_authenticator_app(tenant.id, "contact", pid) is True
    with pytest.raises(GallraError) as refused:
        await secondfactor.remove_authenticator_app(tenant.id, "contact", pid)
    assert refused.value.status == 404 and refused.value.code == "twofactor.app_not_found"
    assert await secondfactor.remove_authenticator_app(tenant.id, "robot", pid) is None


async def test_hook_start_passkey_registration(admin_client, tenant):
    pid = await _person(admin_client, tenant)
    started = await secondfactor.start_passkey_registration(tenant.id, "contact", pid)
    assert started is not None and started.challenge_id.startswith("pkreg-")
    assert started.options["rp"]["id"] and started.options["challenge"]
    assert await secondfactor.start_passkey_registration(tenant.id, "robot", pid) is None


async def test_hook_finish_passkey_registration(admin_client, tenant):
    pid = await _person(admin_client, tenant)
    started = await secondfactor.start_passkey_registration(tenant.id, "contact", pid)
    assert started is not None
    key = SoftAuthenticator()
    answer = json.dumps(key.create(started.options))
    with pytest.raises(GallraError) as refused:  # the answer checked against another origin
        await secondfactor.finish_passkey_registration(
            tenant.id, "contact", pid, started.challenge_id,
            json.dumps(key.create(started.options, origin="https://evil.example")), "Ond")
    assert refused.value.code == "twofactor.passkey_not_registered"
    started = await secondfactor.start_passkey_registration(tenant.id, "contact", pid)
    assert started is not None
    answer = json.dumps(key.create(started.options))
    added = await secondfactor.finish_passkey_registration(tenant.id, "contact", pid, started.challenge_id,
                                                            answer, "  Min   nyckel ")
    assert added is not None and added.name == "Min nyckel" and added.last_used_at is None
    with pytest.raises(GallraError) as refused:  # single use
        await secondfactor.finish_passkey_registration(tenant.id, "contact", pid, started.challenge_id, answer, "x")
    assert refused.value.code == "twofactor.passkey_register_ended"
    factors = await secondfactor.own_second_factors(tenant.id, "contact", pid)
    assert factors is not None and [p.name for p in factors.passkeys] == ["Min nyckel"]


async def test_hook_remove_passkey(admin_client, tenant, other_tenant):
    pid = await _person(admin_client, tenant)
    started = await secondfactor.start_passkey_registration(tenant.id, "contact", pid)
    assert started is not None
    added = await secondfactor.finish_passkey_registration(
        tenant.id, "contact", pid, started.challenge_id, json.dumps(SoftAuthenticator().create(started.options)), "K")
    assert added is not None
    for tenant_id, kind, person in ((other_tenant.id, "contact", pid), (tenant.id, "contact", pid + 1000),
                                    (tenant.id, "customer", pid)):
        with pytest.raises(GallraError) as refused:
            await secondfactor.remove_passkey(tenant_id, kind, person, added.id)
        assert refused.value.status == 404
    assert await secondfactor.remove_passkey(tenant.id, "robot", pid, added.id) is None
    assert await secondfactor.remove_passkey(tenant.id, "contact", pid, added.id) is True
    factors = await secondfactor.own_second_factors(tenant.id, "contact", pid)
    assert factors is not None and factors.passkeys == []


