"""The customer register's pages through the test client."""

from __future__ import annotations

import re

from tests.pages.helpers import page_login, post_form


async def _logged_in(client, tenant):  # type: ignore[no-untyped-def]
    r = await page_login(client, tenant)
    assert r.status_code == 303


async def test_create_search_edit_and_errors_beside_fields(anon_client, tenant):
    await _logged_in(anon_client, tenant)
    r = await anon_client.get("/customers/new")
    assert r.status_code == 200 and 'for="f-mobile_phone"' in r.text
    r = await post_form(anon_client, "/customers/new", {"name": "", "kind": "company"}, "/customers/new")
    assert r.status_code == 400 and 'id="e-name"' in r.text
    r = await post_form(
        anon_client, "/customers/new",
        {"name": "Anna Berg", "kind": "private", "mobile_phone": "not a phone"}, "/customers/new",
    )
    assert r.status_code == 400 and 'id="e-mobile_phone"' in r.text and "Anna Berg" in r.text
    r = await post_form(
        anon_client, "/customers/new",
        {"name": "Anna Berg", "kind": "private", "mobile_phone": "070-123 45 67"}, "/customers/new",
    )
    assert r.status_code == 303
    customer_path = r.headers["location"]
    r = await anon_client.get(customer_path)
    assert "Anna Berg" in r.text and "+46701234567" in r.text
    r = await anon_client.get("/customers?q=berg")
    assert customer_path in r.text
    r = await anon_client.get("/customers?q=nobody")
    assert customer_path not in r.text
    r = await anon_client.get("/customers?kind=company")
    assert customer_path not in r.text
    r = await post_form(
        anon_client, customer_path + "/edit",
        {"name": "Anna Berg-Ek", "kind": "private", "email": "bad"}, customer_path + "/edit",
    )
    assert r.status_code == 400 and 'id="e-email"' in r.text
    r = await post_form(
        anon_client, customer_path + "/edit", {"name": "Anna Berg-Ek", "kind": "private"},
        customer_path + "/edit",
    )
    assert r.status_code == 303
    assert "Anna Berg-Ek" in (await anon_client.get(customer_path)).text


async def test_activity_thread_and_contact_phone_fix(anon_client, tenant):
    await _logged_in(anon_client, tenant)
    r = await post_form(anon_client, "/customers/new", {"name": "Firma AB", "kind": "company"}, "/customers/new")
    path = r.headers["location"]
    r = await post_form(anon_client, path + "/activity", {"kind": "note", "body": ""}, path)
    assert r.status_code == 400 and 'id="e-body"' in r.text
    r = await post_form(anon_client, path + "/activity", {"kind": "note", "body": "Ring på fredag"}, path)
    assert r.status_code == 303
    assert "Ring på fredag" in (await anon_client.get(path)).text
    r = await post_form(anon_client, path + "/contacts/new", {"name": "Bo Ek"}, path + "/contacts/new")
    assert r.status_code == 303
    page = (await anon_client.get(path)).text
    edit = re.search(r'href="(/customers/contacts/\d+/edit)"', page).group(1)
    r = await post_form(anon_client, edit, {"name": "Bo Ek", "mobile_phone": "0709998877"}, edit)
    assert r.status_code == 303
    assert "+46709998877" in (await anon_client.get(path)).text


async def test_delete_says_what_follows_and_anonymizes_at_once(anon_client, admin_client, tenant):
    await _logged_in(anon_client, tenant)
    r = await post_form(anon_client, "/customers/new", {"name": "Cecilia Dahl", "kind": "private"}, "/customers/new")
    path = r.headers["location"]
    r = await anon_client.get(path + "/delete")
    assert "regeln" in r.text and "är avstängd" in r.text  # default: off, data is kept
    # The gear: the module's own settings page sets the rule to immediately.
    r = await anon_client.get("/customers/settings")
    assert r.status_code == 200 and 'name="mode.customers"' in r.text
    r = await post_form(
        anon_client, "/customers/settings",
        {"mode.customers": "immediately", "days.customers": "30", "mode.contact_persons": "days",
         "days.contact_persons": "x"},
        "/customers/settings",
    )
    assert r.status_code == 400 and 'id="e-days-contact_persons"' in r.text
    r = await post_form(
        anon_client, "/customers/settings",
        {"mode.customers": "immediately", "days.customers": "30"}, "/customers/settings",
    )
    assert r.status_code == 303
    r = await anon_client.get(path + "/delete")
    assert "genast" in r.text
    r = await post_form(anon_client, path + "/delete", {}, path)
    assert r.status_code == 303
    r = await anon_client.get(path)
    assert "Cecilia Dahl" not in r.text and "Anonymiserad" in r.text
    r = await anon_client.get("/customers?q=Cecilia&deleted=true")
    assert path not in r.text


async def test_other_tenants_customer_is_not_found(anon_client, tenant, other_tenant):
    await _logged_in(anon_client, other_tenant)
    r = await post_form(anon_client, "/customers/new", {"name": "Hemlig", "kind": "company"}, "/customers/new")
    path = r.headers["location"]
    anon_client.cookies.clear()
    await _logged_in(anon_client, tenant)
    r = await anon_client.get(path)
    assert r.status_code == 404 and "Hemlig" not in r.text
    r = await post_form(anon_client, path + "/delete", {}, "/customers")
    assert r.status_code == 404


async def test_disabled_module_pages_are_404(anon_client, tenant_factory):
    t = await tenant_factory(modules=["cases"])
    await _logged_in(anon_client, t)
    r = await anon_client.get("/customers")
    assert r.status_code == 404
