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
    assert "Anna Berg" in r.text and "070-123 45 67" in r.text  # stored E.164, shown nationally
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
    assert "070-999 88 77" in (await anon_client.get(path)).text


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


async def test_contact_pages_log_what_the_contact_api_logs(anon_client, tenant):
    """#18.4 (M23): a contact person saved and deleted through the pages leaves the same
    event-log rows as through the API (the record layer writes them, with the employee)."""
    from core.eventlog import EventLog

    await _logged_in(anon_client, tenant)
    r = await post_form(anon_client, "/customers/new", {"name": "Loggfirman AB", "kind": "company"}, "/customers/new")
    path = r.headers["location"]
    customer_id = int(path.rsplit("/", 1)[1])
    by_api = (await anon_client.post(f"/api/customers/{customer_id}/contacts", json={"name": "Ann"})).json()["id"]
    assert (await anon_client.patch(f"/api/customers/contacts/{by_api}", json={"title": "Vd"})).status_code == 200
    assert (await anon_client.delete(f"/api/customers/contacts/{by_api}")).status_code == 200
    r = await post_form(anon_client, path + "/contacts/new", {"name": "Bo"}, path + "/contacts/new")
    assert r.status_code == 303
    page = (await anon_client.get(path)).text
    by_page = int(re.search(r'href="/customers/contacts/(\d+)/edit"', page).group(1))
    edit = f"/customers/contacts/{by_page}/edit"
    assert (await post_form(anon_client, edit, {"name": "Bo", "title": "Vd"}, edit)).status_code == 303
    r = await post_form(anon_client, f"/customers/contacts/{by_page}/delete", {}, edit)
    assert r.status_code == 303 and r.headers["location"] == path

    async def events(record_id: int) -> list[tuple[str, str, int | None]]:
        rows = await EventLog.select().where(
            (EventLog.tenant_id == tenant.id) & (EventLog.record_type == "contact_person")
            & (EventLog.record_id == record_id)
        ).order_by(EventLog.id)
        return [(e["action"], e["plugin"], e["employee_id"]) for e in rows]

    expected = [(f"contact_person.{a}", "customers", tenant.admin_id) for a in ("created", "edited", "deleted")]
    assert await events(by_api) == expected
    assert await events(by_page) == expected
