"""The customer list (issue #20.7): sortable columns, a search that also finds the
organization number, e-mail, phones in any format, the city and contact persons, the
warning of a duplicate organization number, and every field's error at once."""

from __future__ import annotations

import re

from plugins.customers.tests.conftest import ORG, ORG10, make_contact, make_customer
from tests.pages.helpers import page_login, post_form

ROW_LINK = re.compile(r'<a href="/customers/(\d+)">')


def ids_in(html: str) -> list[int]:
    """The customers of the list page, in the order shown."""
    results = html[html.index('id="results"'):]
    return [int(i) for i in ROW_LINK.findall(results)]


def header(html: str, label: str) -> str:
    """The <th> of the column ``label``."""
    match = re.search(r"<th scope=\"col\"[^>]*>(?:(?!</th>).)*?" + re.escape(label) + r".*?</th>", html, re.S)
    assert match, f"no header {label}"
    return match.group(0)


async def test_columns_sort_both_ways_and_keep_the_search(admin_client, anon_client, tenant):
    bertil = await make_customer(admin_client, name="Bertil Bygg AB", postal_city="Umeå")
    anna = await make_customer(admin_client, name="Anna Måleri AB", postal_city="Örebro")
    cesar = await make_customer(admin_client, name="Cesar Cement AB", postal_city="Arvika")
    other = await make_customer(admin_client, name="Dagny Data", kind="private")
    await page_login(anon_client, tenant)

    page = (await anon_client.get("/customers")).text
    assert ids_in(page) == [bertil["id"], anna["id"], cesar["id"], other["id"]]  # by number
    assert 'aria-sort="ascending"' in header(page, "Nummer")
    assert "aria-sort" not in header(page, "Namn")
    assert 'href="/customers?sort=name"' in header(page, "Namn")

    page = (await anon_client.get("/customers?sort=name")).text
    assert ids_in(page) == [anna["id"], bertil["id"], cesar["id"], other["id"]]
    name = header(page, "Namn")
    assert 'aria-sort="ascending"' in name and "sort=-name" in name  # the link turns it around
    assert "aria-sort" not in header(page, "Nummer")

    page = (await anon_client.get("/customers?sort=-name")).text
    assert ids_in(page) == [other["id"], cesar["id"], bertil["id"], anna["id"]]
    assert 'aria-sort="descending"' in header(page, "Namn")

    page = (await anon_client.get("/customers?sort=postal_city")).text
    assert ids_in(page) == [other["id"], cesar["id"], bertil["id"], anna["id"]]  # "" (Dagny) first

    # The search and the filter stay in the headers' links and the search form keeps the order.
    page = (await anon_client.get("/customers?q=AB&kind=company&sort=-name")).text
    assert ids_in(page) == [cesar["id"], bertil["id"], anna["id"]]
    assert 'href="/customers?q=AB&amp;kind=company&amp;sort=number"' in header(page, "Nummer")
    assert '<input type="hidden" name="sort" value="-name">' in page

    # A column the list does not sort by has no link; an unknown order is the usual one.
    assert "<a" not in header(page, "Status")
    r = await anon_client.get("/customers?sort=notes")
    assert r.status_code == 200 and ids_in(r.text)[0] == bertil["id"]
    r = await anon_client.get("/customers?sort=--name,drop")
    assert r.status_code == 200 and ids_in(r.text)[0] == bertil["id"]
    # The API refuses it instead (a program should know).
    assert (await admin_client.get("/api/customers/", params={"sort": "notes"})).status_code == 400
    api = (await admin_client.get("/api/customers/", params={"sort": "-name"})).json()
    assert [c["id"] for c in api["items"]] == [other["id"], cesar["id"], bertil["id"], anna["id"]]


async def test_search_finds_identifiers_cities_and_contact_persons(admin_client, anon_client, tenant):
    company = await make_customer(
        admin_client, name="Fasad & Tak AB", org_number=ORG, email="Info@Fasadtak.example.se",
        mobile_phone="070-123 45 67", postal_city="Skellefteå", visiting_city="Byske",
    )
    other = await make_customer(admin_client, name="Annat Bolag AB", work_phone="+46 90 12 34 56")
    await make_contact(admin_client, other["id"], name="Gunilla Lind", email="gunilla@annat.example.se",
                       mobile_phone="0731112233")
    gone = await make_contact(admin_client, company["id"], name="Borttagen Person")
    assert (await admin_client.delete(f"/api/customers/contacts/{gone['id']}")).status_code == 200
    await page_login(anon_client, tenant)

    finds_company = (ORG, ORG10, ORG[:8], f"16{ORG10}", "fasadtak.example", "INFO@FASADTAK",
                     "070-123 45 67", "0701234567", "+46 70 123 45 67", "0046701234567", "070-123",
                     "skellefteå", "Byske")
    for q in finds_company:
        for path in ("/customers", "/api/customers/"):
            r = await anon_client.get(path, params={"q": q}) if path == "/customers" else \
                await admin_client.get(path, params={"q": q})
            found = ids_in(r.text) if path == "/customers" else [c["id"] for c in r.json()["items"]]
            assert found == [company["id"]], (q, path, found)
    finds_other = ("gunilla", "Lind", "gunilla@annat", "073-111 22 33", "+46731112233", "090-12 34 56")
    for q in finds_other:
        assert ids_in((await anon_client.get("/customers", params={"q": q})).text) == [other["id"]], q
    # A deleted contact person no longer finds its customer; nothing finds nothing.
    for q in ("Borttagen", "0709999999", "556000", "nowhere"):
        assert ids_in((await anon_client.get("/customers", params={"q": q})).text) == [], q
    # %, _ and \ are literal.
    for q in ("%", "_", "\\"):
        assert ids_in((await anon_client.get("/customers", params={"q": q})).text) == [], q


async def test_search_is_the_tenants_own(admin_client, other_tenant, tenant):
    from tests.support import login

    await make_customer(admin_client, name="Vår AB", org_number=ORG)
    from core.testing.client import AppClient

    async with AppClient(app=admin_client.app) as theirs:
        assert (await login(theirs, other_tenant)).status_code == 200
        theirs_made = await make_customer(theirs, name="Deras AB", org_number=ORG)  # no warning: not ours
        page = (await theirs.get("/api/customers/", params={"q": ORG10})).json()
        assert [c["id"] for c in page["items"]] == [theirs_made["id"]]


async def test_duplicate_org_number_warns_in_the_api(admin_client):
    first = await make_customer(admin_client, name="Första AB", org_number=ORG)
    r = await admin_client.post("/api/customers/", json={"name": "Andra AB", "org_number": ORG10})
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "customer.duplicate_org_number" and body["field"] == "org_number"
    assert body["params"]["customer_id"] == first["id"] and body["confirm"] == "confirm_duplicate"
    assert (await admin_client.get("/api/customers/")).json()["total"] == 1  # nothing written
    second = await make_customer(admin_client, name="Andra AB", org_number=ORG10, confirm_duplicate=True)
    assert second["org_number"] == ORG

    # An edit that sets another customer's number warns too; other edits do not nag.
    third = await make_customer(admin_client, name="Tredje AB")
    r = await admin_client.patch(f"/api/customers/{third['id']}", json={"org_number": ORG})
    assert r.status_code == 409 and r.json()["code"] == "customer.duplicate_org_number"
    r = await admin_client.patch(f"/api/customers/{second['id']}", json={"name": "Andra AB (filial)"})
    assert r.status_code == 200
    r = await admin_client.patch(f"/api/customers/{third['id']}", json={"org_number": ORG, "confirm_duplicate": True})
    assert r.status_code == 200 and r.json()["org_number"] == ORG
    # A deleted customer's number is free again.
    for c in (first, second, third):
        assert (await admin_client.delete(f"/api/customers/{c['id']}")).status_code == 200
    await make_customer(admin_client, name="Fjärde AB", org_number=ORG)


async def test_duplicate_org_number_warns_on_the_page_and_saves_when_confirmed(admin_client, anon_client, tenant):
    first = await make_customer(admin_client, name="Första AB", org_number=ORG)
    await page_login(anon_client, tenant)
    form = {"name": "Andra AB", "kind": "company", "org_number": ORG10}
    r = await post_form(anon_client, "/customers/new", form, "/customers/new")
    assert r.status_code == 400
    assert 'id="e-org_number"' in r.text and "Kund 1 har redan det här organisationsnumret" in r.text
    box = r.text[r.text.index('id="confirm-box"'):]
    assert f'<a href="/customers/{first["id"]}">' in box and 'name="confirm_duplicate"' in box
    assert re.search(r'id="f-org_number"[^>]*autofocus', r.text)
    assert 'value="Andra AB"' in r.text  # what was typed stays
    r = await post_form(anon_client, "/customers/new", {**form, "confirm_duplicate": "true"}, "/customers/new")
    assert r.status_code == 303
    total = (await admin_client.get("/api/customers/", params={"q": ORG10})).json()["total"]
    assert total == 2


async def test_every_field_error_at_once_and_the_first_has_the_focus(anon_client, tenant):
    await page_login(anon_client, tenant)
    # The form's shape refuses the empty name; the service's checks refuse the rest.
    r = await post_form(
        anon_client, "/customers/new",
        {"name": "", "kind": "company", "email": "inte-en-adress", "mobile_phone": "12", "postal_postcode": "1"},
        "/customers/new",
    )
    assert r.status_code == 400
    for field in ("name", "email", "mobile_phone", "postal_postcode"):
        assert f'id="e-{field}"' in r.text, field
        assert re.search(rf'id="f-{field}"[^>]*aria-describedby="[^"]*e-{field}"', r.text), field
    assert r.text.count("autofocus") == 1
    assert re.search(r'id="f-name"[^>]*autofocus', r.text)

    # A name given: the service refuses two fields together; the first in the form has the focus.
    r = await post_form(
        anon_client, "/customers/new",
        {"name": "Eva Ek", "kind": "private", "org_number": "123", "work_phone": "nej"}, "/customers/new",
    )
    assert r.status_code == 400 and 'id="e-org_number"' in r.text and 'id="e-work_phone"' in r.text
    assert r.text.count("autofocus") == 1 and re.search(r'id="f-org_number"[^>]*autofocus', r.text)
    # The edit form the same way.
    r = await post_form(anon_client, "/customers/new", {"name": "Eva Ek", "kind": "private"}, "/customers/new")
    path = r.headers["location"]
    r = await post_form(anon_client, path + "/edit",
                        {"name": "Eva Ek", "kind": "private", "email": "x", "private_phone": "y"}, path + "/edit")
    assert r.status_code == 400 and 'id="e-email"' in r.text and 'id="e-private_phone"' in r.text


async def test_api_answers_every_field_error(admin_client):
    r = await admin_client.post(
        "/api/customers/", json={"name": "Eva", "email": "nope", "mobile_phone": "nope", "kind": "company"}
    )
    assert r.status_code == 400
    body = r.json()
    assert [e["field"] for e in body["errors"]] == ["email", "mobile_phone"]
    assert body["field"] == "email"  # the first, for clients that read one
