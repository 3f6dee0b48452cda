"""The customer and contact pickers of record forms (``find_customers`` and ``find_contacts``
hooks, /pick/...), htmx served locally with its licence, the CSRF header htmx sends, and the
account menu's own pages."""

from __future__ import annotations

import hashlib
import html
import re

from core.db import utcnow
from core.pages.pickers import find_contacts, find_customers
from plugins.customers import services as customers
from plugins.customers.schemas import CustomerIn
from plugins.customers.tables import ContactPerson, Customer
from tests.pages.helpers import csrf_of, page_login, post_form
from tests.support import add_party


async def _customer(tenant_id: int, name: str) -> dict:
    return await customers.create_customer(tenant_id, CustomerIn(name=name, kind="company"))


async def test_hook_find_customers(tenant, other_tenant, tenant_factory):
    mine = await _customer(tenant.id, "Bergström Bygg AB")
    first = await _customer(tenant.id, "Andersson Måleri")
    theirs = await _customer(other_tenant.id, "Bergström Bygg AB")
    found = await find_customers(tenant.id, "bergström")
    assert [c.id for c in found] == [mine["id"]]
    assert found[0].number == mine["number"] and found[0].name == "Bergström Bygg AB"
    # By customer number as well; another organization's customers never answer.
    assert [c.id for c in await find_customers(tenant.id, str(mine["number"]))] == [mine["id"]]
    assert theirs["id"] not in [c.id for c in await find_customers(tenant.id, "Bygg")]
    # No search: the picker's list, the organization's own customers by name.
    assert [c.id for c in await find_customers(tenant.id, "   ")] == [first["id"], mine["id"]]
    assert [c.id for c in await find_customers(tenant.id, "", 1)] == [first["id"]]
    # Without the customer module nothing answers.
    bare = await tenant_factory(modules=["cases"])
    await _customer(bare.id, "Bergström Bygg AB")
    assert await find_customers(bare.id, "Bergström") == []
    assert await find_customers(bare.id, "") == []


async def test_hook_find_contacts(tenant, other_tenant):
    mine, (anna, bertil) = await add_party(tenant.id, contacts=2, name="Kontaktbolaget AB")
    await ContactPerson.update({ContactPerson.name: "Anna Ek"}).where(ContactPerson.id == anna)
    await ContactPerson.update({ContactPerson.name: "Bertil Ask", ContactPerson.title: "Inköpare"}).where(
        ContactPerson.id == bertil)
    other, (others_contact,) = await add_party(tenant.id, name="Annat AB")
    foreign, (_foreign_contact,) = await add_party(other_tenant.id, name="Främmande AB")
    found = await find_contacts(tenant.id, mine)
    assert [(c.id, c.name, c.detail) for c in found] == [(anna, "Anna Ek", ""), (bertil, "Bertil Ask", "Inköpare")]
    assert [c.id for c in await find_contacts(tenant.id, other)] == [others_contact]
    # Another organization's customer, a missing one and none at all have no contact persons.
    assert await find_contacts(tenant.id, foreign) == []
    assert await find_contacts(tenant.id, 2**31 - 1) == []
    assert await find_contacts(tenant.id, 0) == []
    # A deleted contact person is not offered; nor are the contacts of a deleted customer.
    await ContactPerson.update({ContactPerson.deleted_at: utcnow()}).where(ContactPerson.id == anna)
    assert [c.id for c in await find_contacts(tenant.id, mine)] == [bertil]
    await Customer.update({Customer.deleted_at: utcnow()}).where(Customer.id == mine)
    assert await find_contacts(tenant.id, mine) == []


async def test_picker_needs_login(anon_client):
    r = await anon_client.get("/pick/customer-options?customer_id_search=a", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    r = await anon_client.get("/pick/contacts?customer_id=1", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


FORMS = ("/cases/new", "/quotes/new", "/orders/new", "/projects/new", "/workorders/new")


def _options(page: str, name: str) -> list[tuple[str, str]]:
    """(value, text) of the options of the select named ``name``."""
    match = re.search(rf'<select id="f-{name}" name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert match, name
    return [(v, html.unescape(t).strip()) for v, t in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>',
                                                                  match.group(1))]


def _selected(page: str, name: str) -> str:
    match = re.search(rf'<select id="f-{name}" name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert match, name
    chosen = re.search(r'<option value="([^"]*)" selected>', match.group(1))
    return chosen.group(1) if chosen else ""


async def test_every_record_form_picks_customer_and_contact_by_name(anon_client, tenant, other_tenant):
    mine, (contact,) = await add_party(tenant.id, name="Nilsson Plåt")
    await add_party(other_tenant.id, name="Främmande Kund AB")
    assert (await page_login(anon_client, tenant)).status_code == 303
    for path in FORMS:
        r = await anon_client.get(path)
        assert r.status_code == 200, path
        # No typed ids: a list of the organization's customers by name, and a contact list.
        assert 'type="number" min="0"' not in r.text and "Kontaktpersonens id" not in r.text, path
        assert (str(mine), "Nilsson Plåt (1)") in _options(r.text, "customer_id"), path
        assert "Främmande" not in r.text, path
        assert _options(r.text, "contact_person_id") == [("", "– Ingen kontaktperson –")], path
        assert "Välj kund först" in r.text, path
        # With htmx the contact list follows the customer chosen.
        assert 'hx-get="/pick/contacts?field=contact_person_id&amp;customer=customer_id"' in r.text, path
    # The new form opened from a customer's list has it chosen, and its contacts listed.
    r = await anon_client.get(f"/cases/new?customer_id={mine}")
    assert _selected(r.text, "customer_id") == str(mine)
    assert (str(contact), "Kontakt 1") in _options(r.text, "contact_person_id")


async def test_contact_list_follows_the_customer_with_htmx(anon_client, tenant, other_tenant):
    mine, (a, b) = await add_party(tenant.id, contacts=2, name="Lindqvist El AB")
    other, (c,) = await add_party(tenant.id, name="Lindqvist Rör AB")
    foreign, (_f,) = await add_party(other_tenant.id, name="Lindqvist Främmande")
    assert (await page_login(anon_client, tenant)).status_code == 303
    hx = {"HX-Request": "true"}
    base = "/pick/contacts?field=contact_person_id&customer=customer_id"
    r = await anon_client.get(f"{base}&customer_id={mine}&contact_person_id={b}", headers=hx)
    assert r.status_code == 200 and "<html" not in r.text and 'id="picker-contact_person_id"' in r.text
    assert _options(r.text, "contact_person_id")[1:] == [(str(a), "Kontakt 1"), (str(b), "Kontakt 2")]
    assert _selected(r.text, "contact_person_id") == str(b)
    # Another customer: its own contacts, the one chosen before no longer chosen.
    r = await anon_client.get(f"{base}&customer_id={other}&contact_person_id={b}", headers=hx)
    assert _options(r.text, "contact_person_id")[1:] == [(str(c), "Kontakt 1")]
    assert _selected(r.text, "contact_person_id") == ""
    # Another organization's customer has none here; nor has "no customer".
    for customer in (str(foreign), "", "abc", "99999999999"):
        r = await anon_client.get(f"{base}&customer_id={customer}", headers=hx)
        assert r.status_code == 200 and _options(r.text, "contact_person_id") == [("", "– Ingen kontaktperson –")]
    # Typing in the customer search answers the select again: the matches and the chosen one.
    r = await anon_client.get(
        f"/pick/customer-options?field=customer_id&contact=contact_person_id&customer_id_search=rör&customer_id={mine}",
        headers=hx)
    assert r.status_code == 200 and "<html" not in r.text
    assert [v for v, _t in _options(r.text, "customer_id")] == ["", str(mine), str(other)]
    assert _selected(r.text, "customer_id") == str(mine) and "Främmande" not in r.text
    assert 'hx-trigger="change"' in r.text
    # Nothing chosen and one customer found: it is chosen, and its contacts are asked at once.
    r = await anon_client.get(
        "/pick/customer-options?field=customer_id&contact=contact_person_id&customer_id_search=el+ab&customer_id=",
        headers=hx)
    assert [v for v, _t in _options(r.text, "customer_id")] == ["", str(mine)]
    assert _selected(r.text, "customer_id") == str(mine) and 'hx-trigger="change, load"' in r.text
    # A bad field name is refused.
    r = await anon_client.get("/pick/contacts?field=x%22onclick&customer_id=1", headers=hx)
    assert r.status_code == 400


async def test_without_javascript_the_form_comes_back_with_the_lists_updated(anon_client, tenant):
    mine, (contact,) = await add_party(tenant.id, name="Utan Skript AB")
    for n in range(14):  # enough customers for the search box
        await add_party(tenant.id, contacts=0, name=f"Fyllnad {n:02d}")
    assert (await page_login(anon_client, tenant)).status_code == 303
    page = (await anon_client.get("/cases/new")).text
    assert 'name="customer_id_search"' in page and 'name="_pick"' in page
    fields = {"title": "Sparas inte", "kind": "case", "customer_id": str(mine), "contact_person_id": "",
              "customer_id_search": "utan", "_pick": "customer_id"}
    r = await post_form(anon_client, "/cases/new", fields, "/cases/new")
    assert r.status_code == 200 and 'value="Sparas inte"' in r.text
    assert [v for v, _t in _options(r.text, "customer_id")] == ["", str(mine)]
    assert (str(contact), "Kontakt 1") in _options(r.text, "contact_person_id")
    assert "Sparas inte" not in (await anon_client.get("/cases")).text  # nothing was saved
    # Saved with the contact chosen: the case names both.
    fields = {**fields, "contact_person_id": str(contact)}
    del fields["_pick"]
    r = await post_form(anon_client, "/cases/new", fields, "/cases/new")
    assert r.status_code == 303
    page = (await anon_client.get(r.headers["location"])).text
    assert f'<a href="/customers/{mine}">Utan Skript AB</a>' in page and "Kontakt 1" in page


async def test_edit_forms_have_the_chosen_customer_and_contact(anon_client, tenant):
    mine, (contact,) = await add_party(tenant.id, name="Namngiven Kund AB")
    assert (await page_login(anon_client, tenant)).status_code == 303
    for module in ("cases", "workorders", "quotes", "orders", "projects"):
        data = {"title": "Med kund", "customer_id": str(mine), "contact_person_id": str(contact)}
        if module == "cases":
            data["kind"] = "case"
        r = await post_form(anon_client, f"/{module}/new", data, f"/{module}/new")
        assert r.status_code == 303, (module, r.text[:300])
        page = (await anon_client.get(r.headers["location"] + "/edit")).text
        assert _selected(page, "customer_id") == str(mine), module
        assert _selected(page, "contact_person_id") == str(contact), module
        r = await post_form(anon_client, f"/{module}/new", {**data, "customer_id": "", "contact_person_id": ""},
                            f"/{module}/new")
        assert r.status_code == 303, module
        page = (await anon_client.get(r.headers["location"] + "/edit")).text
        assert _selected(page, "customer_id") == "" and _selected(page, "contact_person_id") == "", module


async def test_htmx_is_served_locally_with_its_licence(anon_client, tenant):
    r = await anon_client.get("/static/htmx.min.js")
    assert r.status_code == 200 and r.headers["content-type"] == "text/javascript; charset=utf-8"
    css = await anon_client.get("/static/gallra.css")
    assert css.status_code == 200 and css.headers["content-type"] == "text/css; charset=utf-8"
    first, _, rest = r.text.partition("\n")
    assert first.startswith("/*! htmx 2.0.11") and "Zero-Clause BSD" in first
    # The vendored file is the published one, byte for byte, below the notice.
    assert (
        hashlib.sha256(rest.encode()).hexdigest() == "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"
    )
    assert (await anon_client.get("/static/htmx.LICENSE.txt")).status_code == 404  # kept beside, not served
    assert (await page_login(anon_client, tenant)).status_code == 303
    page = (await anon_client.get("/cases")).text
    assert '<script src="/static/htmx.min.js" defer></script>' in page
    assert "unpkg" not in page and "cdn" not in page.lower()
    # Every page gives htmx the CSRF token as a header for its requests.
    token = await csrf_of(anon_client, "/cases")
    match = re.search(r"<body[^>]* hx-headers='([^']+)'", page)
    assert match and token in match.group(1) and "X-CSRF-Token" in match.group(1)


async def test_csrf_header_alone_is_accepted_and_a_wrong_one_refused(anon_client, tenant):
    assert (await page_login(anon_client, tenant)).status_code == 303
    token = await csrf_of(anon_client, "/cases/new")
    r = await anon_client.post(
        "/cases/new",
        data={"title": "Via htmx", "kind": "case"},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = await anon_client.post(
        "/cases/new",
        data={"title": "Falsk", "kind": "case"},
        headers={"X-CSRF-Token": "x" * 40},
        follow_redirects=False,
    )
    assert r.status_code == 403
    r = await anon_client.post("/cases/new", data={"title": "Utan", "kind": "case"}, follow_redirects=False)
    assert r.status_code == 403


async def test_module_lists_filter_live_and_still_work_without_javascript(anon_client, tenant):
    await _customer(tenant.id, "Filtrerbar Kund AB")
    assert (await page_login(anon_client, tenant)).status_code == 303
    for path in ("/cases", "/quotes", "/orders", "/projects", "/workorders", "/customers"):
        page = (await anon_client.get(path)).text
        form = re.search(r'<form method="get" action="' + path + r'"[^>]*>', page, re.DOTALL)
        assert form and f'hx-get="{path}"' in form.group(0) and 'hx-select="#results"' in form.group(0), path
        assert page.count('<div id="results">') == 1, path
    # The same address without JavaScript: the filtered page itself.
    page = (await anon_client.get("/customers?q=Filtrerbar")).text
    assert "Filtrerbar Kund AB" in page
    assert "Filtrerbar Kund AB" not in (await anon_client.get("/customers?q=ingen-sadan")).text


async def test_htmx_request_after_the_session_ended_sends_the_page_to_login(anon_client):
    r = await anon_client.get(
        "/pick/customer-options?customer_id_search=a",
        follow_redirects=False,
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver.local/cases/new"},
    )
    assert r.status_code == 204 and r.headers["hx-redirect"] == "/login?next=%2Fcases%2Fnew"
    # Another site's address is never where the login goes on to.
    r = await anon_client.get(
        "/cases?q=x",
        follow_redirects=False,
        headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example//x"},
    )
    assert r.status_code == 204 and r.headers["hx-redirect"] == "/login?next=%2Fcases%3Fq%3Dx"
