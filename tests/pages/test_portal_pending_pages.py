"""The portal's pages through the test client: approving in the logged-in portal with an SMS
code, and the server-side pending SMS step of the portal's login, first password and reset
and of the employee password reset (the password never goes back to the browser)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import time_machine

from core.db import utcnow
from core.tables import Outbox
from core.testing.client import AppClient
from plugins.portal.tables import PortalPending
from plugins.portal.tests.test_portal import MOBILE, PASSWORD, active_customer, invite, last_link, private_customer
from plugins.quotes.tables import Quote
from tests.pages.helpers import CSRF_RE, post_form
from tests.twofactor_kit import activate_sms, forget_last_send, last_code, set_phones, switch

NEW_PASSWORD = "a-brand-new-password-9"


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden {name}"
    return match.group(1)


def _code_form(html: str) -> dict[str, str]:
    """Every hidden field of the SMS code form, as the browser would post them."""
    form = html.split('action="/twofactor/code"', 1)[1].split("</form>", 1)[0]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


async def _code_then_step(client: AppClient, html: str, code: str) -> Any:
    """Post the code to /twofactor/code, then follow its 307 to the step, as a browser does."""
    form = _code_form(html)
    r = await client.post("/twofactor/code", data={**form, "code": code}, follow_redirects=False)
    assert r.status_code == 307, r.text
    assert r.headers["location"] == form["then"]
    return await client.post(form["then"], data=form, follow_redirects=False)


async def _portal_page_login(
    client: AppClient, tenant: Any, email: str = "per@example.org", password: str = PASSWORD
) -> Any:
    return await post_form(
        client, "/portal/login", {"tenant": tenant.slug, "email": email, "password": password}, "/portal/login"
    )


async def test_customer_approves_a_quote_in_the_portal(app, admin_client, tenant):
    await activate_sms(admin_client)
    await switch(admin_client, "quotes")
    customer = await active_customer(admin_client, tenant, mobile_phone=MOBILE)
    r = await admin_client.post(
        "/api/quotes",
        json={
            "title": "Ny altan",
            "customer_id": customer["id"],
            "lines": [{"description": "Virke", "quantity": "10", "unit_price": "250"}],
        },
    )
    quote_id = r.json()["id"]
    assert (
        await admin_client.post(f"/api/quotes/{quote_id}/send", json={"email": "per@example.org"})
    ).status_code == 200
    async with AppClient(app=app) as browser:
        assert (await browser.get("/portal/approvals", follow_redirects=False)).status_code == 303
        assert (await _portal_page_login(browser, tenant)).status_code == 303
        assert "Väntar på ditt svar: 1" in (await browser.get("/portal")).text
        r = await browser.get("/portal/approvals")
        assert r.status_code == 200 and "Offert 1: Ny altan" in r.text and "2\u00a0500,00\u00a0kr" in r.text
        assert 'href="/portal/approvals"' in r.text
        browser.cookies.set("gallra_lang", "en")
        r = await browser.get("/portal/approvals")
        assert "To approve" in r.text and "Quote 1: Ny altan" in r.text and ">Decline<" in r.text
        browser.cookies.delete("gallra_lang")
        r = await post_form(browser, f"/portal/approvals/quote/{quote_id}", {"action": "maybe"}, "/portal/approvals")
        assert r.status_code == 400 and 'role="alert"' in r.text
        r = await post_form(browser, f"/portal/approvals/quote/{quote_id}", {"action": "approve"}, "/portal/approvals")
        assert r.status_code == 200 and 'name="code"' in r.text and "+46 70•••••67" in r.text
        wrong = "000000" if await last_code(tenant.id) != "000000" else "111111"
        form = _code_form(r.text)
        bad = await browser.post("/twofactor/code", data={**form, "code": wrong}, follow_redirects=False)
        assert bad.status_code == 400 and 'id="e-code"' in bad.text
        r = await _code_then_step(browser, r.text, await last_code(tenant.id))
        assert r.status_code == 303 and r.headers["location"] == "/portal/approvals"
        r = await browser.get("/portal/approvals")
        assert "Tack! Den är godkänd." in r.text and 'id="nothing-to-approve"' in r.text
        assert 'id="waiting"' not in (await browser.get("/portal")).text
        assert (await Quote.select(Quote.status).where(Quote.id == quote_id).first())["status"] == "accepted"
        # Again: a clear conflict beside the list, not a second SMS.
        r = await post_form(browser, f"/portal/approvals/quote/{quote_id}", {"action": "decline"}, "/portal/approvals")
        assert r.status_code == 409 and "redan godkänd" in r.text
        r = await post_form(browser, "/portal/approvals/quote/999999", {"action": "approve"}, "/portal/approvals")
        assert r.status_code == 404 and 'role="alert"' in r.text


async def _portal_login_with_code(admin_client: AppClient, tenant: Any) -> None:
    await activate_sms(admin_client)
    await switch(admin_client, "portal_login")
    await active_customer(admin_client, tenant, mobile_phone=MOBILE)


async def test_portal_login_code_step_keeps_the_password_on_the_server(app, admin_client, tenant):
    await _portal_login_with_code(admin_client, tenant)
    async with AppClient(app=app) as browser:
        r = await _portal_page_login(browser, tenant)
        assert r.status_code == 200 and 'name="code"' in r.text
        assert PASSWORD not in r.text and 'name="password"' not in r.text
        assert r.cookies.get("gallra_portal_step")
        form = _code_form(r.text)
        assert set(form) == {"csrf_token", "challenge_id", "then", "tenant", "pending"}
        row = await PortalPending.select().where(PortalPending.tenant_id == tenant.id).first()
        assert row["purpose"] == "login" and row["password_hash"] is None
        assert form["pending"] not in str(row)  # only its hash is stored
        r = await _code_then_step(browser, r.text, await last_code(tenant.id))
        assert r.status_code == 303 and r.headers["location"] == "/portal"
        assert r.cookies.get("gallra_portal")
        assert "Per Privat" in (await browser.get("/portal")).text
        assert await PortalPending.count().where(PortalPending.tenant_id == tenant.id) == 0
        # Used once: the same step cannot log in again.
        r = await browser.post("/portal/login", data=form, follow_redirects=False)
        assert r.status_code == 400 and "Börja om" in r.text


async def test_tampered_or_foreign_pending_step_is_refused(app, admin_client, tenant):
    await _portal_login_with_code(admin_client, tenant)
    async with AppClient(app=app) as browser:
        r = await _portal_page_login(browser, tenant)
        form = _code_form(r.text)
        code = await last_code(tenant.id)
        assert (
            await browser.post("/twofactor/code", data={**form, "code": code}, follow_redirects=False)
        ).status_code == 307
        tampered = {**form, "pending": form["pending"][:-2] + ("AA" if not form["pending"].endswith("AA") else "BB")}
        r = await browser.post("/portal/login", data=tampered, follow_redirects=False)
        assert r.status_code == 400 and 'role="alert"' in r.text and "gallra_portal" not in r.cookies
        # Another browser (without the step's cookie) cannot finish it.
        async with AppClient(app=app) as other:
            token = CSRF_RE.search((await other.get("/portal/login")).text).group(1)
            r = await other.post("/portal/login", data={**form, "csrf_token": token}, follow_redirects=False)
            assert r.status_code == 400 and "gallra_portal" not in r.cookies
        # The real one still works.
        r = await browser.post("/portal/login", data=form, follow_redirects=False)
        assert r.status_code == 303


async def test_expired_pending_step_says_start_again(app, admin_client, tenant):
    await _portal_login_with_code(admin_client, tenant)
    async with AppClient(app=app) as browser:
        r = await _portal_page_login(browser, tenant)
        form = _code_form(r.text)
        code = await last_code(tenant.id)
        assert (
            await browser.post("/twofactor/code", data={**form, "code": code}, follow_redirects=False)
        ).status_code == 307
        with time_machine.travel(utcnow() + timedelta(minutes=11), tick=False):
            r = await browser.post("/portal/login", data=form, follow_redirects=False)
        assert r.status_code == 400
        assert "Steget har gått ut (10 minuter) eller gäller inte. Börja om." in r.text
        assert "gallra_portal" not in r.cookies


async def test_too_many_wrong_codes_block_the_step(app, admin_client, tenant):
    await _portal_login_with_code(admin_client, tenant)
    async with AppClient(app=app) as browser:
        r = await _portal_page_login(browser, tenant)
        form = _code_form(r.text)
        right = await last_code(tenant.id)
        wrong = "000000" if right != "000000" else "111111"
        statuses = []
        for _ in range(5):
            bad = await browser.post("/twofactor/code", data={**form, "code": wrong}, follow_redirects=False)
            statuses.append(bad.status_code)
        assert statuses == [400, 400, 400, 400, 409]
        # The right code no longer helps, and the step cannot be finished.
        r = await browser.post("/twofactor/code", data={**form, "code": right}, follow_redirects=False)
        assert r.status_code == 409
        r = await browser.post("/portal/login", data=form, follow_redirects=False)
        assert r.status_code == 409 and "gallra_portal" not in r.cookies
        # Re-posting the step over and over is blocked too (5 uses, then it is gone).
        codes = [(await browser.post("/portal/login", data=form, follow_redirects=False)).status_code for _ in range(5)]
        assert codes[-1] == 429 and 429 not in codes[:3]
        assert await PortalPending.count().where(PortalPending.tenant_id == tenant.id) == 0


async def test_first_password_and_reset_never_return_the_password(app, admin_client, tenant, worker):
    await activate_sms(admin_client)
    await switch(admin_client, "customer_conversations")
    customer = await private_customer(admin_client, mobile_phone=MOBILE)
    assert (await invite(admin_client, str(customer["id"]), email="per@example.org")).status_code == 201
    token = await last_link(tenant.id, "per@example.org")
    async with AppClient(app=app) as browser:
        link = f"/portal/activate?tenant={tenant.slug}&token={token}"
        r = await post_form(
            browser,
            "/portal/activate",
            {"tenant": tenant.slug, "token": token, "password": PASSWORD, "password2": PASSWORD},
            link,
        )
        assert r.status_code == 200 and 'name="code"' in r.text and PASSWORD not in r.text
        assert set(_code_form(r.text)) == {"csrf_token", "challenge_id", "then", "tenant", "pending"}
        row = await PortalPending.select().where(PortalPending.tenant_id == tenant.id).first()
        assert row["purpose"] == "activate" and row["password_hash"].startswith("$argon2")
        r = await _code_then_step(browser, r.text, await last_code(tenant.id))
        assert r.status_code == 303, r.text
        # The code was asked for the first password; the portal login asks none here, so
        # the person is logged in at once.
        assert r.headers["location"] == "/portal" and r.cookies.get("gallra_portal")
        assert "Per Privat" in (await browser.get("/portal")).text
        assert (await _portal_page_login(browser, tenant)).status_code == 303

        # A reset from the link in the e-mail: the same, under "customer conversations".
        await forget_last_send(tenant.id)
        r = await post_form(
            browser,
            "/portal/password-reset",
            {"tenant": tenant.slug, "email": "per@example.org"},
            "/portal/password-reset",
        )
        worker.drain()
        reset_token = await last_link(tenant.id, "per@example.org")
        link = f"/portal/reset?tenant={tenant.slug}&token={reset_token}"
        r = await post_form(
            browser,
            "/portal/reset",
            {"tenant": tenant.slug, "token": reset_token, "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
            link,
        )
        assert r.status_code == 200 and NEW_PASSWORD not in r.text and 'name="password' not in r.text
        r = await _code_then_step(browser, r.text, await last_code(tenant.id))
        assert r.status_code == 303
        assert (await _portal_page_login(browser, tenant, password=PASSWORD)).status_code == 401
        assert (await _portal_page_login(browser, tenant, password=NEW_PASSWORD)).status_code == 303


async def test_employee_reset_asks_for_the_password_after_the_code(admin_client, anon_client, tenant, worker):
    await activate_sms(admin_client)
    await set_phones(tenant.admin_id, mobile=MOBILE)  # else switching on would lock the admin out
    await switch(admin_client, "employee_reset")
    await post_form(anon_client, "/password-reset", {"tenant": tenant.slug, "email": tenant.admin_email})
    worker.drain()
    mail = (
        await Outbox.select(Outbox.body)
        .where((Outbox.tenant_id == tenant.id) & (Outbox.channel == "email"))
        .order_by(Outbox.id, ascending=False)
        .first()
    )
    token = mail["body"].split("/reset?token=")[1].split()[0]
    link = f"/reset?token={token}"
    r = await post_form(
        anon_client, "/reset", {"token": token, "password": NEW_PASSWORD, "password2": NEW_PASSWORD}, link
    )
    assert r.status_code == 200 and 'name="code"' in r.text
    assert NEW_PASSWORD not in r.text and set(_code_form(r.text)) == {"csrf_token", "challenge_id", "then", "token"}
    sms_page = r.text
    r = await _code_then_step(anon_client, sms_page, await last_code(tenant.id))
    assert r.status_code == 200 and 'id="code-ok"' in r.text and 'name="password"' in r.text
    assert NEW_PASSWORD not in r.text
    form = {"token": token, "challenge_id": _hidden(r.text, "challenge_id")}
    # A tampered challenge id is refused beside the form; nothing changes.
    r = await post_form(
        anon_client,
        "/reset",
        {**form, "challenge_id": "made-up", "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
        link,
    )
    assert r.status_code == 409 and 'role="alert"' in r.text
    # Stale: a verified code is good for 10 minutes.
    with time_machine.travel(utcnow() + timedelta(minutes=11), tick=False):
        r = await post_form(anon_client, "/reset", {**form, "password": NEW_PASSWORD, "password2": NEW_PASSWORD}, link)
        assert r.status_code == 409 and "10 minut" in r.text
    await forget_last_send(tenant.id)
    r = await post_form(
        anon_client, "/reset", {"token": token, "password": NEW_PASSWORD, "password2": NEW_PASSWORD}, link
    )
    r = await _code_then_step(anon_client, r.text, await last_code(tenant.id))
    form = {"token": token, "challenge_id": _hidden(r.text, "challenge_id")}
    r = await post_form(anon_client, "/reset", {**form, "password": NEW_PASSWORD, "password2": NEW_PASSWORD}, link)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    r = await post_form(
        anon_client, "/login", {"tenant": tenant.slug, "email": tenant.admin_email, "password": NEW_PASSWORD}
    )
    assert r.status_code in (200, 303) and NEW_PASSWORD not in r.text


async def test_employee_login_code_step_holds_no_password(admin_client, anon_client, tenant):
    await activate_sms(admin_client)
    await set_phones(tenant.admin_id, mobile=MOBILE)  # else switching on would lock the admin out
    await switch(admin_client, "employee_login")
    r = await post_form(
        anon_client, "/login", {"tenant": tenant.slug, "email": tenant.admin_email, "password": tenant.password}
    )
    assert r.status_code == 200 and 'name="code"' in r.text
    assert tenant.password not in r.text and 'name="password"' not in r.text
