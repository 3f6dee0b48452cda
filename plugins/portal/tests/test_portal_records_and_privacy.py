"""The customer's own records in the portal, read-only (core.records.portal: cases, work
orders and quotes through their specs' ``portal`` views), and "My personal data", where a
logged-in person asks under articles 15-21 (hooks ``data_requests_of`` and
``ask_as_portal_person``). Everything is reached through the pages and the other modules'
APIs: this plugin's tests import no other plugin."""

from __future__ import annotations

import re
from typing import Any

from core.pages import LANG_COOKIE
from core.plugins import get_host
from core.tenancy import set_module_enabled
from core.testing.client import AppClient
from plugins.portal.tests.test_portal import active_customer, portal_account, portal_login, private_customer
from tests.pages.helpers import post_form
from tests.support import login, make_contact, make_customer


async def _portal(app: Any, tenant: Any, email: str = "per@example.org") -> AppClient:
    client = AppClient(app=app)
    await client.__aenter__()
    r = await portal_login(client, tenant, email)
    assert r.status_code == 200, r.text
    return client


async def _case(admin: AppClient, customer_id: int, title: str, **fields: Any) -> int:
    r = await admin.post("/api/cases/", json={"title": title, "customer_id": customer_id, **fields})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def _quote(admin: AppClient, customer_id: int, title: str, send: bool = True) -> int:
    r = await admin.post("/api/quotes", json={
        "title": title, "customer_id": customer_id,
        "lines": [{"description": "Virke", "quantity": "10", "unit_price": "250"},
                  {"description": "Skruv", "quantity": "3", "unit_price": "19.90"}]})
    assert r.status_code == 201, r.text
    quote_id = int(r.json()["id"])
    if send:
        assert (await admin.post(f"/api/quotes/{quote_id}/send", json={"email": "kund@example.se"})).status_code == 200
    return quote_id


# --- records -----------------------------------------------------------------------------------


async def test_customer_reads_own_cases_work_orders_and_quotes(app, admin_client, tenant):
    mine = await active_customer(admin_client, tenant)
    other = await private_customer(admin_client, name="Annan Kund", email="annan@example.org")
    case = await _case(admin_client, mine["id"], "Läckande kran", description="Droppar i köket",
                       end_customer_name="Hemlig Slutkund")
    theirs = await _case(admin_client, other["id"], "Annans ärende")
    gone = await _case(admin_client, mine["id"], "Borttaget ärende")
    assert (await admin_client.delete(f"/api/cases/{gone}")).status_code in (200, 204)
    order = (await admin_client.post("/api/workorders/", json={
        "title": "Badrum", "customer_id": mine["id"], "customer_reference": "Per"})).json()
    r = await admin_client.post(f"/api/workorders/{order['id']}/extra-costs",
                                json={"description": "Extra kakel", "amount": "2500"})
    assert r.status_code == 201, r.text
    sent = await _quote(admin_client, mine["id"], "Ny altan")
    draft = await _quote(admin_client, mine["id"], "Utkast", send=False)
    browser = await _portal(app, tenant)
    try:
        home = await browser.get("/portal")
        for link in ("/portal/records/cases", "/portal/records/workorders", "/portal/records/quotes"):
            assert f'href="{link}"' in home.text
        r = await browser.get("/portal/records/cases")
        assert r.status_code == 200 and "<h1>Ärenden</h1>" in r.text
        assert "Läckande kran" in r.text and "Öppet" in r.text
        assert "Annans ärende" not in r.text and "Borttaget ärende" not in r.text
        r = await browser.get(f"/portal/records/cases/{case}")
        assert r.status_code == 200 and "Droppar i köket" in r.text
        assert "Hemlig Slutkund" not in r.text  # only the columns the view names
        # Another customer's case, a deleted one, an unknown id: not found.
        for record_id in (theirs, gone, 999_999):
            assert (await browser.get(f"/portal/records/cases/{record_id}")).status_code == 404
        r = await browser.get(f"/portal/records/workorders/{order['id']}")
        assert r.status_code == 200 and "Extra kakel" in r.text and "2\xa0500,00\xa0kr" in r.text
        assert "Er referens" in r.text
        r = await browser.get("/portal/records/quotes")
        assert "Ny altan" in r.text and "Utkast" not in r.text and "Väntar på svar" in r.text
        assert (await browser.get(f"/portal/records/quotes/{draft}")).status_code == 404
        r = await browser.get(f"/portal/records/quotes/{sent}")
        assert r.status_code == 200 and "Virke" in r.text and "250,00\xa0kr" in r.text
        # Each line's amount and the quote's total, as the customer would add them up.
        assert "2\xa0500,00\xa0kr" in r.text and "59,70\xa0kr" in r.text
        total = re.search(r'id="part-1-total"><strong>(.*?)</strong>', r.text)
        assert total is not None and total.group(1).replace("\u202f", "\xa0") == "2\xa0559,70\xa0kr", r.text
        assert "kund@example.se" not in r.text  # the address it was sent to is not shown
        assert (await browser.get("/portal/records/no-such-records")).status_code == 404
        browser.cookies.set(LANG_COOKIE, "en")
        r = await browser.get("/portal/records/cases")
        assert "<h1>Cases</h1>" in r.text and "Open" in r.text, re.findall(r"<h1>.*?</h1>|<td>.*?</td>", r.text)
    finally:
        await browser.__aexit__(None, None, None)


async def test_contact_person_sees_the_company_records_naming_nobody_or_them(app, admin_client, tenant):
    company = await make_customer(admin_client, name="Bygg AB")
    karin = await make_contact(admin_client, company["id"], email="karin@example.org")
    olle = await make_contact(admin_client, company["id"], name="Olle Kontakt")
    await portal_account(admin_client, tenant, f"contacts/{karin['id']}", "karin@example.org")
    general = await _case(admin_client, company["id"], "Företagets ärende")
    hers = await _case(admin_client, company["id"], "Karins ärende", contact_person_id=karin["id"])
    his = await _case(admin_client, company["id"], "Olles ärende", contact_person_id=olle["id"])
    browser = await _portal(app, tenant, "karin@example.org")
    try:
        r = await browser.get("/portal/records/cases")
        assert "Företagets ärende" in r.text and "Karins ärende" in r.text and "Olles ärende" not in r.text
        assert (await browser.get(f"/portal/records/cases/{general}")).status_code == 200
        assert (await browser.get(f"/portal/records/cases/{hers}")).status_code == 200
        assert (await browser.get(f"/portal/records/cases/{his}")).status_code == 404
    finally:
        await browser.__aexit__(None, None, None)


async def test_records_need_a_login_and_stay_in_their_tenant(app, admin_client, tenant, other_tenant):
    mine = await active_customer(admin_client, tenant)
    case = await _case(admin_client, mine["id"], "Mitt ärende")
    async with AppClient(app=app) as anon:
        for path in ("/portal/records/cases", f"/portal/records/cases/{case}", "/portal/privacy"):
            r = await anon.get(path, follow_redirects=False)
            assert r.status_code in (302, 303) and r.headers["location"] == "/portal/login", path
    async with AppClient(app=app) as other_admin:
        assert (await login(other_admin, other_tenant)).status_code == 200
        theirs = await private_customer(other_admin, name="Deras Kund")
        await portal_account(other_admin, other_tenant, str(theirs["id"]), "per@example.org")
        their_case = await _case(other_admin, theirs["id"], "Deras ärende")
    browser = await _portal(app, other_tenant)
    try:
        assert (await browser.get(f"/portal/records/cases/{case}")).status_code == 404
        r = await browser.get("/portal/records/cases")
        assert "Mitt ärende" not in r.text and "Deras ärende" in r.text
        assert (await browser.get(f"/portal/records/cases/{their_case}")).status_code == 200
    finally:
        await browser.__aexit__(None, None, None)


async def test_a_module_turned_off_is_not_in_the_portal(app, admin_client, tenant):
    mine = await active_customer(admin_client, tenant)
    case = await _case(admin_client, mine["id"], "Mitt ärende")
    await set_module_enabled(get_host(), tenant.id, "cases", False)
    browser = await _portal(app, tenant)
    try:
        assert 'href="/portal/records/cases"' not in (await browser.get("/portal")).text
        assert (await browser.get("/portal/records/cases")).status_code == 404
        assert (await browser.get(f"/portal/records/cases/{case}")).status_code == 404
    finally:
        await browser.__aexit__(None, None, None)


# --- My personal data ----------------------------------------------------------------------------


async def test_person_asks_in_the_portal_and_sees_their_requests(app, admin_client, tenant):
    await active_customer(admin_client, tenant, mobile_phone="070-123 45 67")
    await active_customer(admin_client, tenant, email="annan@example.org", name="Annan Kund")
    browser = await _portal(app, tenant)
    try:
        r = await browser.get("/portal/privacy")
        assert r.status_code == 200 and "<h1>Mina personuppgifter</h1>" in r.text
        assert "Radering (art. 17)" in r.text and 'id="portal-no-requests"' in r.text
        r = await post_form(browser, "/portal/privacy", {"kind": "erasure", "details": "Radera allt om mig."},
                            "/portal/privacy")
        assert r.status_code == 303 and r.headers["location"] == "/portal/privacy#requests"
        (req,) = (await admin_client.get("/api/dsr/")).json()["items"]
        assert (req["kind"], req["status"], req["channel"], req["requester_email"], req["requester_phone"]) == (
            "erasure", "verified", "portal", "per@example.org", "+46701234567")
        assert req["details"] == "Radera allt om mig."
        r = await browser.get("/portal/privacy")
        row = re.search(rf'<tr id="request-{req["number"]}">(.*?)</tr>', r.text, re.S).group(1)
        assert "Radering (art. 17)" in row and "Kontrollerad" in row
        # Bad input is named beside its field, nothing is recorded.
        r = await post_form(browser, "/portal/privacy", {"kind": "everything"}, "/portal/privacy")
        assert r.status_code == 400 and 'id="e-kind"' in r.text
        r = await post_form(browser, "/portal/privacy", {"kind": "access", "details": "x" * 5001}, "/portal/privacy")
        assert r.status_code == 400 and 'id="e-details"' in r.text
        assert (await admin_client.get("/api/dsr/")).json()["total"] == 1
    finally:
        await browser.__aexit__(None, None, None)
    # Another portal person does not see it.
    other = await _portal(app, tenant, "annan@example.org")
    try:
        assert 'id="portal-no-requests"' in (await other.get("/portal/privacy")).text
    finally:
        await other.__aexit__(None, None, None)


async def test_no_privacy_page_without_the_requests_module(app, admin_client, tenant):
    await active_customer(admin_client, tenant)
    await set_module_enabled(get_host(), tenant.id, "dsr", False)
    browser = await _portal(app, tenant)
    try:
        assert 'href="/portal/privacy"' not in (await browser.get("/portal")).text
        assert (await browser.get("/portal/privacy")).status_code == 404
        r = await post_form(browser, "/portal/privacy", {"kind": "access"}, "/portal")
        assert r.status_code == 404
    finally:
        await browser.__aexit__(None, None, None)
