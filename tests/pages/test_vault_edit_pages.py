"""Secure-data pages of #20.6: new fields are encrypted unless unticked, a saved plain field
is encrypted from the builder, the creator is offered access, a person without it is told
why there is no "Ny uppgift" and who can grant it, entries are edited without showing an
encrypted value, customers are picked and named (never "kund 12")."""

from __future__ import annotations

import re

from core.testing.client import AppClient
from core.users import create_employee_with_password
from tests.pages.helpers import page_login, post_form
from tests.support import add_party

OLD = "Sommar2024!"


async def _employee(tenant, name: str, email: str) -> int:  # type: ignore[no-untyped-def]
    from core.tables import Employee

    await create_employee_with_password(tenant.id, name, email, "user", tenant.password)
    row = await Employee.select(Employee.id).where(
        (Employee.tenant_id == tenant.id) & (Employee.email == email)
    ).first()
    return int(row["id"])


async def _api_form(client: AppClient, tenant, fields: list[dict], **extra) -> dict:  # type: ignore[no-untyped-def]
    body = {"name": "Routrar", "purpose": "customer", "fields": fields,
            "access": {"plain": {"users": [tenant.admin_id]}, "encrypted": {"users": [tenant.admin_id]}}, **extra}
    r = await client.post("/api/vault/forms", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def _api_entry(client: AppClient, form: dict, customer_id: int, *values: str) -> int:
    r = await client.post("/api/vault/entries", json={
        "form_id": form["id"], "customer_id": customer_id,
        "values": [{"field_id": f["id"], "value": v} for f, v in zip(form["fields"], values, strict=True) if v],
    })
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def test_builder_encrypts_new_fields_and_offers_the_creator_access(anon_client, tenant) -> None:
    await page_login(anon_client, tenant)
    page = (await anon_client.get("/vault/forms/new")).text
    # Every empty row is ticked Encrypted; the creator is ticked on both lists, with a note.
    boxes = re.findall(r'<input type="checkbox" name="field_encrypted\.\d+"([^>]*)>', page)
    assert boxes and all(" checked" in b for b in boxes)
    for level in ("plain", "encrypted"):
        assert f'name="{level}_users" value="{tenant.admin_id}" checked' in page
    assert 'id="h-creator"' in page and "Bocka ur dig själv" in page
    # A password field left plain is refused beside its row, nothing saved.
    data = {"name": "Wifi", "purpose": "internal", "field_name.0": "Lösen", "field_type.0": "password",
            "field_name.1": "SSID", "field_type.1": "text", "field_encrypted.1": "on",
            "plain_users": str(tenant.admin_id)}
    r = await post_form(anon_client, "/vault/forms/new", data, "/vault/forms/new")
    assert r.status_code == 400 and 'id="e-fe-0"' in r.text and "alltid krypterat" in r.text
    assert "Wifi" not in (await anon_client.get("/api/vault/forms")).text
    data["field_encrypted.0"] = "on"
    r = await post_form(anon_client, "/vault/forms/new", data, "/vault/forms/new")
    assert r.status_code == 303, r.text
    form = (await anon_client.get("/api/vault/forms")).json()[0]
    assert [(f["name"], f["encrypted"]) for f in form["fields"]] == [("Lösen", True), ("SSID", True)]
    assert form["my_access"] == {"plain": True, "encrypted": False}


async def test_a_saved_plain_field_is_encrypted_from_the_builder(admin_client, tenant) -> None:
    customer, _ = await add_party(tenant.id, name="Bageriet Sol AB")
    form = await _api_form(admin_client, tenant, [{"name": "Användare"}, {"name": "Lösenord", "encrypted": False}])
    entry_id = await _api_entry(admin_client, form, customer, "admin", OLD)
    assert OLD in (await admin_client.get(f"/vault?form_id={form['id']}")).text  # as #20.6 found it
    path = f"/vault/forms/{form['id']}/edit"
    page = (await admin_client.get(path)).text
    assert 'id="w-fe-1"' in page and 'id="w-fe-0"' not in page  # "Lösenord" is flagged
    user_id, pw_id = (f["id"] for f in form["fields"])
    data = {"name": "Routrar", "purpose": "customer",
            "field_id.0": str(user_id), "field_name.0": "Användare", "field_type.0": "text",
            "field_id.1": str(pw_id), "field_name.1": "Lösenord", "field_type.1": "text", "field_encrypted.1": "on",
            "plain_users": str(tenant.admin_id), "encrypted_users": str(tenant.admin_id)}
    r = await post_form(admin_client, path, data, path)
    assert r.status_code == 303, r.text
    listed = (await admin_client.get(f"/vault?form_id={form['id']}")).text
    assert OLD not in listed and "••••••" in listed and "Bageriet Sol AB" in listed
    page = (await admin_client.get(path)).text
    assert 'id="w-fe-1"' not in page
    assert re.search(r'name="field_encrypted\.1" checked disabled', page)  # never back
    r = await post_form(admin_client, f"/vault/entries/{entry_id}/reveal", {"password": tenant.password},
                        f"/vault/entries/{entry_id}/reveal")
    assert r.status_code == 200 and OLD in r.text


async def test_no_new_entry_link_says_why_and_who_can_grant(app, admin_client, tenant) -> None:
    form = await _api_form(admin_client, tenant, [{"name": "Lösenord"}])
    email = f"lasare@{tenant.slug}.example"
    reader_id = await _employee(tenant, "Lisa Läsare", email)
    r = await admin_client.put(f"/api/vault/forms/{form['id']}/access", json={
        "plain": {"users": [tenant.admin_id]}, "encrypted": {"users": [tenant.admin_id, reader_id]}})
    assert r.status_code == 200, r.text
    async with AppClient(app=app) as browser:
        await page_login(browser, tenant, email=email)
        page = (await browser.get("/vault")).text
        assert f"/vault/entries/new?form_id={form['id']}" not in page
        note = re.search(rf'<p class="hint" id="no-entry-{form["id"]}">([^<]+)</p>', page)
        assert note and "inte med på listan" in note.group(1) and "Admin Person" in note.group(1)
    # An administrator who took themself off the list is told to add themself under Edit.
    await admin_client.put(f"/api/vault/forms/{form['id']}/access", json={"encrypted": {"users": [reader_id]}})
    page = (await admin_client.get("/vault")).text
    assert f'id="no-entry-{form["id"]}"' in page and "under Redigera" in page


async def test_entries_are_edited_without_showing_an_encrypted_value(admin_client, tenant, other_tenant) -> None:
    first, _ = await add_party(tenant.id, name="Första Kunden AB")
    second, _ = await add_party(tenant.id, name="Andra Kunden AB")
    foreign, _ = await add_party(other_tenant.id, name="Främmande AB")
    form = await _api_form(admin_client, tenant, [{"name": "Användare"}, {"name": "Lösenord", "type": "password"},
                                                  {"name": "Anteckning", "type": "note", "encrypted": True}])
    user_id, pw_id, note_id = (f["id"] for f in form["fields"])
    entry_id = await _api_entry(admin_client, form, first, "admin", OLD, "Larmkod 1234")
    path = f"/vault/entries/{entry_id}/edit"
    page = (await admin_client.get(path)).text
    assert OLD not in page and "Larmkod 1234" not in page
    assert 'value="admin"' in page and "•••• (oförändrat)" in page
    assert f'<option value="{first}" selected>' in page  # the customer is picked by name
    assert "Första Kunden AB" in page

    async def revealed() -> dict[str, str | None]:
        r = await admin_client.post(f"/api/vault/entries/{entry_id}/reveal", json={"password": tenant.password})
        assert r.status_code == 200, r.text
        return {v["name"]: v["value"] for v in r.json()["values"]}

    # Empty keeps the encrypted values; a plain value and the customer change.
    r = await post_form(admin_client, path, {"customer_id": str(second), f"value.{user_id}": "root",
                                             f"value.{pw_id}": "", f"value.{note_id}": ""}, path)
    assert r.status_code == 303, r.text
    assert await revealed() == {"Lösenord": OLD, "Anteckning": "Larmkod 1234"}
    got = (await admin_client.get(f"/api/vault/entries/{entry_id}")).json()
    assert got["customer_id"] == second and got["fields"][0]["value"] == "root"
    # A new value replaces; the box removes.
    r = await post_form(admin_client, path, {"customer_id": str(second), f"value.{user_id}": "root",
                                             f"value.{pw_id}": "Vinter2025!", f"clear.{note_id}": "on"}, path)
    assert r.status_code == 303, r.text
    assert await revealed() == {"Lösenord": "Vinter2025!", "Anteckning": None}
    # Another organization's customer, an unknown one, none: refused beside the picker,
    # nothing saved, and nothing typed into a secret field comes back.
    for bad, text in ((foreign, "Det finns ingen sådan kund i organisationen."),
                      (999_999, "Det finns ingen sådan kund i organisationen."), ("abc", "Välj kund.")):
        r = await post_form(admin_client, path, {"customer_id": str(bad), f"value.{user_id}": "x",
                                                 f"value.{pw_id}": "Höst2026!"}, path)
        assert r.status_code == 400, (bad, r.status_code)
        assert f'<p class="error" id="e-customer_id">{text}</p>' in r.text
        assert "Höst2026!" not in r.text
    assert await revealed() == {"Lösenord": "Vinter2025!", "Anteckning": None}
    assert (await admin_client.get(f"/api/vault/entries/{entry_id}")).json()["customer_id"] == second
    # Audited: who changed which fields, never a value.
    audit = (await admin_client.get("/api/vault/audit", params={"entry_id": entry_id})).json()["items"]
    changed = [a["field_names"] for a in audit if a["action"] == "entry" and a["outcome"] == "changed"]
    # newest first: the replacement, then the first save (empty secret fields untouched)
    assert changed == [["Användare", "Lösenord", "Anteckning"], ["customer", "Användare"]]
    assert "Vinter2025!" not in str(audit)
    # An unknown entry is 404; another organization's too.
    assert (await admin_client.get("/vault/entries/999999/edit")).status_code == 404


async def test_edit_needs_the_plain_list(app, admin_client, tenant) -> None:
    customer, _ = await add_party(tenant.id, name="Kund AB")
    form = await _api_form(admin_client, tenant, [{"name": "Användare"}, {"name": "Lösenord"}])
    entry_id = await _api_entry(admin_client, form, customer, "admin", OLD)
    email = f"visare@{tenant.slug}.example"
    reader_id = await _employee(tenant, "Vera Visare", email)
    await admin_client.put(f"/api/vault/forms/{form['id']}/access", json={
        "plain": {"users": [tenant.admin_id]}, "encrypted": {"users": [reader_id]}})
    path = f"/vault/entries/{entry_id}/edit"
    async with AppClient(app=app) as browser:
        await page_login(browser, tenant, email=email)
        assert (await browser.get(path)).status_code == 403
        page = (await browser.get("/vault")).text
        assert f'href="{path}"' not in page
        r = await browser.patch(f"/api/vault/entries/{entry_id}", json={"values": []})
        assert r.status_code == 403 and r.json()["code"] == "vault_entry.not_on_plain_list"
        r = await browser.patch(f"/api/vault/entries/{entry_id}", content=b"{",
                                headers={"content-type": "application/json"})
        assert r.status_code == 400


async def test_reveal_page_names_the_customer(admin_client, tenant) -> None:
    customer, _ = await add_party(tenant.id, name="Fiskaffären i Lund AB")
    form = await _api_form(admin_client, tenant, [{"name": "Lösenord"}])
    entry_id = await _api_entry(admin_client, form, customer, OLD)
    path = f"/vault/entries/{entry_id}/reveal"
    page = (await admin_client.get(path)).text
    assert "Fiskaffären i Lund AB" in page and f"kund {customer}" not in page.lower()
    r = await post_form(admin_client, path, {"password": tenant.password}, path)
    assert r.status_code == 200 and "Fiskaffären i Lund AB" in r.text and OLD in r.text
