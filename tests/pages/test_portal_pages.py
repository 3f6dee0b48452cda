"""Customer-facing pages through the test client: the portal (first password from the
invitation, login, conversations) and the quote page with SMS acceptance."""

from __future__ import annotations

import re

from core.tables import Outbox
from tests.pages.helpers import CSRF_RE, page_login, post_form
from tests.twofactor_kit import activate_sms, last_code, switch


async def _mail_link(tenant_id: int, pattern: str) -> str:
    row = (
        await Outbox.select(Outbox.body)
        .where((Outbox.tenant_id == tenant_id) & (Outbox.channel == "email"))
        .order_by(Outbox.id, ascending=False)
        .first()
    )
    match = re.search(pattern, row["body"])
    assert match, row["body"]
    return match.group(0)


async def test_invitation_first_password_login_and_conversation(anon_client, app, tenant):
    from core.testing.client import AppClient

    await page_login(anon_client, tenant)
    r = await post_form(
        anon_client,
        "/customers/new",
        {"name": "Portal Kund", "kind": "private", "email": "portal.kund@example.se", "mobile_phone": "0701234567"},
        "/customers/new",
    )
    path = r.headers["location"]
    r = await post_form(anon_client, path + "/portal-invite", {}, path)
    assert r.status_code == 303
    link = await _mail_link(tenant.id, r"/portal/activate\?tenant=[^&\s]+&token=[A-Za-z0-9_\-]+")
    r = await post_form(anon_client, path + "/activity", {"kind": "conversation", "body": "Hej! Välkommen."}, path)
    async with AppClient(app=app) as customer:
        r = await customer.get(link)
        assert r.status_code == 200 and 'name="password2"' in r.text
        token = re.search(r'name="token" value="([^"]+)"', r.text).group(1)
        form = {"tenant": tenant.slug, "token": token}
        r = await post_form(customer, "/portal/activate", {**form, "password": "kort", "password2": "kort"}, link)
        assert r.status_code == 400 and 'id="e-password"' in r.text
        r = await post_form(
            customer, "/portal/activate", {**form, "password": "kundens-losen-1", "password2": "kundens-losen-1"}, link
        )
        assert r.status_code == 303
        r = await post_form(
            customer,
            "/portal/login",
            {"tenant": tenant.slug, "email": "portal.kund@example.se", "password": "fel"},
            "/portal/login",
        )
        assert r.status_code == 401 and 'id="e-password"' in r.text
        r = await post_form(
            customer,
            "/portal/login",
            {"tenant": tenant.slug, "email": "portal.kund@example.se", "password": "kundens-losen-1"},
            "/portal/login",
        )
        assert r.status_code == 303
        r = await customer.get("/portal")
        assert "Portal Kund" in r.text and "Hej! Välkommen." in r.text
        r = await post_form(customer, "/portal/messages", {"body": "Tack, vi hörs."}, "/portal")
        assert r.status_code == 303
        # The customer has no employee pages.
        assert (await customer.get("/customers", follow_redirects=False)).status_code == 303
    assert "Tack, vi hörs." in (await anon_client.get(path)).text


async def test_quote_page_accepts_with_sms_code(anon_client, admin_client, tenant):
    await activate_sms(admin_client)
    await switch(admin_client, "quotes")
    r = await admin_client.post(
        "/api/customers", json={"name": "Offert Kund", "kind": "private", "mobile_phone": "0701234567"}
    )
    customer_id = r.json()["id"]
    r = await admin_client.post(
        "/api/quotes",
        json={
            "title": "Ny altan",
            "customer_id": customer_id,
            "lines": [{"description": "Virke", "quantity": "10", "unit_price": "250"}],
        },
    )
    quote_id = r.json()["id"]
    r = await admin_client.post(f"/api/quotes/{quote_id}/send", json={"email": "offert.kund@example.se"})
    assert r.status_code == 200
    link = await _mail_link(tenant.id, r"/quotes/public/[A-Za-z0-9_\-]+")
    r = await anon_client.get(link)
    assert r.status_code == 200 and "Ny altan" in r.text and "2\u00a0500,00\u00a0kr" in r.text
    r = await post_form(anon_client, link + "/accept", {"name": "", "email": "offert.kund@example.se"}, link)
    assert r.status_code == 400 and 'id="e-name"' in r.text
    r = await post_form(anon_client, link + "/accept", {"name": "Offert Kund", "email": "offert.kund@example.se"}, link)
    assert r.status_code == 200 and 'name="code"' in r.text
    challenge = re.search(r'name="challenge_id" value="([^"]+)"', r.text).group(1)
    token = CSRF_RE.search(r.text).group(1)
    form = {
        "csrf_token": token,
        "challenge_id": challenge,
        "then": link + "/accept",
        "name": "Offert Kund",
        "email": "offert.kund@example.se",
    }
    r = await anon_client.post(
        "/twofactor/code", data={**form, "code": await last_code(tenant.id)}, follow_redirects=False
    )
    assert r.status_code == 307
    r = await anon_client.post(link + "/accept", data=form, follow_redirects=False)
    assert r.status_code == 303
    r = await anon_client.get(link)
    assert 'id="quote-status">Accepterad<' in r.text
    assert (await anon_client.get("/quotes/public/not-a-token")).status_code == 404


async def test_payment_plan_page_approves_with_sms_code(anon_client, admin_client, tenant):
    from plugins.projects.tests.conftest import make_project, send_plan
    from plugins.projects.tests.test_projects import PLAN
    from tests.support import created

    await activate_sms(admin_client)
    await switch(admin_client, "payment_plans")
    r = await admin_client.post(
        "/api/customers", json={"name": "Sven Plan", "kind": "private", "mobile_phone": "0701234567"}
    )
    project = await make_project(admin_client, customer_id=r.json()["id"], contact_person_id=0)
    await created(admin_client, f"/api/projects/{project['id']}/payment-plans", PLAN)
    plan_id = (await admin_client.get(f"/api/projects/{project['id']}")).json()["payment_plans"][0]["id"]
    token = await send_plan(admin_client, plan_id)
    link = f"/projects/public/payment-plans/{token}"
    r = await anon_client.get(link)
    assert r.status_code == 200 and "15\u00a0000,50\u00a0kr" in r.text
    r = await post_form(anon_client, link + "/approve", {"name": "Sven Plan", "email": "x"}, link)
    assert r.status_code == 400 and 'id="e-email"' in r.text
    r = await post_form(anon_client, link + "/approve", {"name": "Sven Plan", "email": "sven@example.se"}, link)
    assert r.status_code == 200 and 'name="code"' in r.text
    challenge = re.search(r'name="challenge_id" value="([^"]+)"', r.text).group(1)
    csrf = CSRF_RE.search(r.text).group(1)
    form = {
        "csrf_token": csrf,
        "challenge_id": challenge,
        "then": link + "/approve",
        "name": "Sven Plan",
        "email": "sven@example.se",
    }
    r = await anon_client.post(
        "/twofactor/code", data={**form, "code": await last_code(tenant.id)}, follow_redirects=False
    )
    assert r.status_code == 307
    r = await anon_client.post(link + "/approve", data=form, follow_redirects=False)
    assert r.status_code == 303
    assert 'id="plan-status">Godkänd<' in (await anon_client.get(link)).text
