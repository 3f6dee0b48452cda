"""The portal's first day through its pages (issue 20, item 9): the invitation page names
the company, choosing the first password logs the person in (unless a login would ask for
an SMS code on a new device), and the SMS code step offers a new code after the wait."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import time_machine

from core.db import utcnow
from core.pages import LANG_COOKIE
from core.tables import Tenant
from core.testing.client import AppClient
from plugins.portal.tests.test_portal import MOBILE, PASSWORD, active_customer, invite, last_link, private_customer
from tests.pages.helpers import post_form
from tests.twofactor_kit import activate_sms, forget_last_send, last_code, sms_rows, switch

COMPANY = "Rörfirman Nord & Söner AB"


async def _invited(admin_client: AppClient, tenant: Any, **fields: Any) -> str:
    await Tenant.update({Tenant.name: COMPANY}).where(Tenant.id == tenant.id)
    customer = await private_customer(admin_client, **fields)
    assert (await invite(admin_client, str(customer["id"]), email="per@example.org")).status_code == 201
    return await last_link(tenant.id, "per@example.org")


async def _choose(browser: AppClient, tenant: Any, token: str, password: str = PASSWORD) -> Any:
    link = f"/portal/activate?tenant={tenant.slug}&token={token}"
    return await post_form(
        browser,
        "/portal/activate",
        {"tenant": tenant.slug, "token": token, "password": password, "password2": password},
        link,
    )


async def test_invitation_page_names_the_company_in_swedish_and_english(app, admin_client, tenant):
    token = await _invited(admin_client, tenant)
    escaped = "Rörfirman Nord &amp; Söner AB"
    async with AppClient(app=app) as browser:
        r = await browser.get(f"/portal/activate?tenant={tenant.slug}&token={token}")
        assert r.status_code == 200
        assert f"<h1>Kundportalen hos {escaped}</h1>" in r.text
        assert f"{escaped} bjuder in dig till sin kundportal" in r.text
        browser.cookies.set(LANG_COOKIE, "en")
        r = await browser.get(f"/portal/activate?tenant={tenant.slug}&token={token}")
        assert '<html lang="en">' in r.text
        assert f"<h1>Customer portal of {escaped}</h1>" in r.text
        assert f"{escaped} invites you to its customer portal" in r.text
        browser.cookies.delete(LANG_COOKIE)
        # An unknown organization names nobody (and says nothing of who exists).
        r = await browser.get(f"/portal/activate?tenant=no-such-org&token={token}")
        assert r.status_code == 200 and "Rörfirman" not in r.text and "<h1>Välj ditt lösenord</h1>" in r.text


async def test_choosing_the_password_logs_the_person_in(app, admin_client, tenant):
    token = await _invited(admin_client, tenant)
    async with AppClient(app=app) as browser:
        r = await _choose(browser, tenant, token)
        assert r.status_code == 303 and r.headers["location"] == "/portal"
        assert r.cookies.get("gallra_portal")
        r = await browser.get("/portal", follow_redirects=False)
        assert r.status_code == 200 and "Per Privat" in r.text
        assert "Välkommen till kundportalen" in r.text
        # The link is used: a second try is refused on the page, and logs nobody in.
    async with AppClient(app=app) as other:
        r = await _choose(other, tenant, token, "another-password-9")
        assert r.status_code == 400 and "Be om en ny inbjudan" in r.text
        assert not r.cookies.get("gallra_portal")
        assert (await other.get("/portal", follow_redirects=False)).status_code in (302, 303)


async def test_expired_invitation_logs_nobody_in(app, admin_client, tenant):
    token = await _invited(admin_client, tenant)
    async with AppClient(app=app) as browser:
        csrf_page = f"/portal/activate?tenant={tenant.slug}&token={token}"
        await browser.get(csrf_page)
        with time_machine.travel(utcnow() + timedelta(days=8), tick=False):
            r = await _choose(browser, tenant, token)
        assert r.status_code == 400 and not r.cookies.get("gallra_portal")
        assert "Be om en ny inbjudan" in r.text


async def test_password_never_skips_the_login_code_on_a_new_device(app, admin_client, tenant):
    await activate_sms(admin_client)
    await switch(admin_client, "portal_login")
    token = await _invited(admin_client, tenant, mobile_phone=MOBILE)
    async with AppClient(app=app) as browser:
        r = await _choose(browser, tenant, token)
        assert r.status_code == 303 and r.headers["location"].startswith("/portal/login?tenant=")
        assert not r.cookies.get("gallra_portal")
        assert (await browser.get("/portal", follow_redirects=False)).status_code in (302, 303)
        # The login then asks for the code, as for anyone on a new device.
        r = await post_form(
            browser,
            "/portal/login",
            {"tenant": tenant.slug, "email": "per@example.org", "password": PASSWORD},
            "/portal/login",
        )
        assert r.status_code == 200 and 'name="code"' in r.text
        assert re.search(r'name="pending" value="[^"]+"', r.text)


# --- "Send a new code" on the SMS code step -------------------------------------------------


def _code_form(html: str) -> dict[str, str]:
    form = html.split('action="/twofactor/code"', 1)[1].split("</form>", 1)[0]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


async def _login_code_step(browser: AppClient, tenant: Any, email: str) -> str:
    r = await post_form(
        browser, "/portal/login", {"tenant": tenant.slug, "email": email, "password": PASSWORD}, "/portal/login"
    )
    assert r.status_code == 200 and 'name="code"' in r.text, r.text
    return r.text


async def test_new_code_after_the_wait_replaces_the_old_one(app, admin_client, tenant):
    await activate_sms(admin_client)
    await switch(admin_client, "portal_login")
    await active_customer(admin_client, tenant, mobile_phone=MOBILE)
    async with AppClient(app=app) as browser:
        html = await _login_code_step(browser, tenant, "per@example.org")
        # Before the wait the page says how long to wait; the button waits as long.
        assert "Du kan be om en ny kod om 60 sekunder." in html
        assert 'id="resend-code" data-wait="60"' in html and 'formaction="/portal/code/resend"' in html
        form = _code_form(html)
        first = await last_code(tenant.id)
        sent = len(await sms_rows(tenant.id))

        # Too early: refused with the coded message in Swedish, nothing sent, the same step.
        r = await browser.post("/portal/code/resend", data={**form, "resend": "1"}, follow_redirects=False)
        assert r.status_code == 429
        assert re.search(r"Vänta \d+ sekunder innan du ber om en ny", r.text)
        assert 'name="code"' in r.text and 'id="resend-code" data-wait=' in r.text
        assert len(await sms_rows(tenant.id)) == sent

        # After the wait: a new code is sent, and the old one stops working.
        await forget_last_send(tenant.id)
        r = await browser.post("/portal/code/resend", data={**form, "resend": "1"}, follow_redirects=False)
        assert r.status_code == 200 and 'name="code"' in r.text and "Du kan be om en ny kod om 60 sekunder." in r.text
        assert len(await sms_rows(tenant.id)) == sent + 1
        second = await last_code(tenant.id)
        assert _code_form(r.text) == form  # the same step and challenge
        if second != first:
            r = await browser.post("/twofactor/code", data={**form, "code": first}, follow_redirects=False)
            assert r.status_code in (400, 409) and 'name="code"' in r.text
        r = await browser.post("/twofactor/code", data={**form, "code": second}, follow_redirects=False)
        assert r.status_code == 307
        r = await browser.post(form["then"], data=form, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/portal" and r.cookies.get("gallra_portal")


async def test_new_code_for_another_persons_challenge_is_refused(app, admin_client, tenant):
    await activate_sms(admin_client)
    await switch(admin_client, "portal_login")
    await active_customer(admin_client, tenant, mobile_phone=MOBILE)
    await active_customer(admin_client, tenant, email="eva@example.org", name="Eva Privat", mobile_phone="+46709876543")
    async with AppClient(app=app) as per, AppClient(app=app) as eva:
        per_form = _code_form(await _login_code_step(per, tenant, "per@example.org"))
        eva_form = _code_form(await _login_code_step(eva, tenant, "eva@example.org"))
        await forget_last_send(tenant.id)
        sent = len(await sms_rows(tenant.id))
        # Per's browser and step, Eva's challenge: not found, nothing sent.
        r = await per.post(
            "/portal/code/resend",
            data={**per_form, "challenge_id": eva_form["challenge_id"], "resend": "1"},
            follow_redirects=False,
        )
        assert r.status_code == 404 and 'name="code"' not in r.text
        assert len(await sms_rows(tenant.id)) == sent
        # Eva's step from Per's browser (another browser's binder cookie): refused too.
        foreign = {**eva_form, "csrf_token": per_form["csrf_token"], "resend": "1"}
        r = await per.post("/portal/code/resend", data=foreign, follow_redirects=False)
        assert r.status_code == 400 and "Börja om" in r.text
        # A made-up step page or a missing challenge is refused, never a 500.
        r = await per.post(
            "/portal/code/resend", data={**per_form, "then": "/elsewhere", "resend": "1"}, follow_redirects=False
        )
        assert r.status_code == 400
        r = await per.post(
            "/portal/code/resend", data={**per_form, "challenge_id": "", "resend": "1"}, follow_redirects=False
        )
        assert r.status_code == 400
        assert len(await sms_rows(tenant.id)) == sent


async def test_new_code_on_the_first_password_step(app, admin_client, tenant):
    await activate_sms(admin_client)
    await switch(admin_client, "customer_conversations")
    token = await _invited(admin_client, tenant, mobile_phone=MOBILE)
    async with AppClient(app=app) as browser:
        r = await _choose(browser, tenant, token)
        assert r.status_code == 200 and 'name="code"' in r.text and 'formaction="/portal/code/resend"' in r.text
        form = _code_form(r.text)
        await forget_last_send(tenant.id)
        r = await browser.post("/portal/code/resend", data={**form, "resend": "1"}, follow_redirects=False)
        assert r.status_code == 200 and 'name="code"' in r.text and "Välj ditt lösenord" in r.text
        r = await browser.post("/twofactor/code", data={**form, "code": await last_code(tenant.id)},
                               follow_redirects=False)
        assert r.status_code == 307
        r = await browser.post(form["then"], data=form, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/portal" and r.cookies.get("gallra_portal")
