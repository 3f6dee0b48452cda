"""The portal's first day through its pages (issue 20, item 9): the invitation page names
the company, choosing the first password logs the person in (unless a login would ask for
an SMS code on a new device), and the SMS code step offers a new code after the wait."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import time_machine
from litestar.testing import AsyncTestClient

from core.db import utcnow
from core.pages import LANG_COOKIE
from core.tables import Tenant
from plugins.portal.tests.test_portal import MOBILE, PASSWORD, invite, last_link, private_customer
from tests.pages.helpers import post_form
from tests.twofactor_kit import activate_sms, switch

COMPANY = "Rörfirman Nord & Söner AB"


async def _invited(admin_client: AsyncTestClient, tenant: Any, **fields: Any) -> str:
    await Tenant.update({Tenant.name: COMPANY}).where(Tenant.id == tenant.id)
    customer = await private_customer(admin_client, **fields)
    assert (await invite(admin_client, str(customer["id"]), email="per@example.org")).status_code == 201
    return await last_link(tenant.id, "per@example.org")


async def _choose(browser: AsyncTestClient, tenant: Any, token: str, password: str = PASSWORD) -> Any:
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
    async with AsyncTestClient(app=app) as browser:
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
    async with AsyncTestClient(app=app) as browser:
        r = await _choose(browser, tenant, token)
        assert r.status_code == 303 and r.headers["location"] == "/portal"
        assert r.cookies.get("gallra_portal")
        r = await browser.get("/portal", follow_redirects=False)
        assert r.status_code == 200 and "Per Privat" in r.text
        assert "Välkommen till kundportalen" in r.text
        # The link is used: a second try is refused on the page, and logs nobody in.
    async with AsyncTestClient(app=app) as other:
        r = await _choose(other, tenant, token, "another-password-9")
        assert r.status_code == 400 and "Be om en ny inbjudan" in r.text
        assert not r.cookies.get("gallra_portal")
        assert (await other.get("/portal", follow_redirects=False)).status_code in (302, 303)


async def test_expired_invitation_logs_nobody_in(app, admin_client, tenant):
    token = await _invited(admin_client, tenant)
    async with AsyncTestClient(app=app) as browser:
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
    async with AsyncTestClient(app=app) as browser:
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
