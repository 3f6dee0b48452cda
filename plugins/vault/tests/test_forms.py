"""Forms (M10, M12): fields, purpose, auto-delete, two-factor flag; validation; tenants."""

from __future__ import annotations

import pytest

from plugins.vault.tests.conftest import SECRET_PASSWORD, admin_of, make_form, quick_tenant, reveal


async def test_create_form_with_fields_in_order(client, world) -> None:
    form = world.form
    assert form["purpose"] == "customer"
    assert [f["name"] for f in form["fields"]] == ["Användarnamn", "Lösenord", "Adress", "Anteckning"]
    assert [f["encrypted"] for f in form["fields"]] == [False, True, False, True]
    assert [f["type"] for f in form["fields"]] == ["text", "password", "url", "note"]
    assert form["auto_delete_days"] is None and form["require_two_factor"] is False
    assert form["entry_count"] == 0  # counted when the form was made


async def test_explicit_order_wins(client) -> None:
    admin = await admin_of(client, await quick_tenant())
    form = await make_form(
        admin,
        fields=[{"name": "b", "order": 20}, {"name": "a", "order": 10}, {"name": "c", "order": 30}],
    )
    assert [f["name"] for f in form["fields"]] == ["a", "b", "c"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "X", "purpose": "internal", "fields": []}, None),
        ({"name": "", "purpose": "internal", "fields": [{"name": "a"}]}, None),
        ({"name": "X", "purpose": "private", "fields": [{"name": "a"}]}, None),
        ({"name": "X", "purpose": "internal", "fields": [{"name": "a", "type": "pdf"}]}, None),
        ({"name": "X", "purpose": "internal", "fields": [{"name": "a"}], "auto_delete_days": 0}, None),
        ({"name": "X", "purpose": "internal", "fields": [{"name": "a"}], "auto_delete_days": 3651}, None),
        ({"name": "X", "purpose": "internal", "fields": [{"name": "a"}], "surprise": 1}, None),
        ({"name": "X", "purpose": "internal", "fields": [{"name": "a"}, {"name": "A"}]}, "fields"),
        ({"name": "X", "purpose": "internal", "fields": [{"name": " "}]}, "fields"),
        ({"name": "   ", "purpose": "internal", "fields": [{"name": "a"}]}, "name"),
        ({"name": "X", "purpose": "internal", "fields": [{"name": "a", "id": 5}]}, "fields"),
        (
            {
                "name": "X",
                "purpose": "internal",
                "fields": [{"name": "a"}],
                "access": {"plain": {"users": [2**31 - 1]}},
            },
            "access.plain.users",
        ),
    ],
)
async def test_bad_forms_are_400_naming_the_problem(client, body, field) -> None:
    admin = await admin_of(client, await quick_tenant())
    r = await admin.post("/api/vault/forms", json=body)
    assert r.status_code == 400, r.text
    if field:
        assert r.json()["field"] == field
    assert (await admin.get("/api/vault/forms")).json() == []  # nothing half-written


async def test_malformed_json_is_400(client) -> None:
    admin = await admin_of(client, await quick_tenant())
    admin._use()
    r = await client.post("/api/vault/forms", content=b'{"name": ', headers={"content-type": "application/json"})
    assert r.status_code == 400


async def test_auto_delete_days_bounds_accepted(client) -> None:
    admin = await admin_of(client, await quick_tenant())
    assert (await make_form(admin, auto_delete_days=1))["auto_delete_days"] == 1
    assert (await make_form(admin, auto_delete_days=3650))["auto_delete_days"] == 3650


async def test_edit_form_rename_flags_and_fields(client, world) -> None:
    admin, fid = world.admin, world.form["id"]
    fields = world.form["fields"]
    body = {
        "name": "Kundinloggningar",
        "require_two_factor": True,
        "auto_delete_days": 30,
        "fields": [
            {"id": fields[1]["id"], "name": "Lösenord", "type": "password", "encrypted": True},
            {"id": fields[0]["id"], "name": "Användare", "type": "text"},
            {"name": "PIN", "type": "password", "encrypted": True},
            # Adress and Anteckning are removed with their values.
        ],
    }
    r = await admin.patch(f"/api/vault/forms/{fid}", json=body)
    assert r.status_code == 200, r.text
    form = r.json()
    assert form["name"] == "Kundinloggningar" and form["require_two_factor"] and form["auto_delete_days"] == 30
    assert [f["name"] for f in form["fields"]] == ["Lösenord", "Användare", "PIN"]
    assert form["fields"][0]["id"] == fields[1]["id"]
    entry = (await world.writer.get(f"/api/vault/entries/{world.entry['id']}")).json()
    assert entry["form_name"] == "Kundinloggningar"
    assert [(f["name"], f["has_value"]) for f in entry["fields"]] == [
        ("Lösenord", True), ("Användare", True), ("PIN", False)
    ]
    from plugins.vault.tables import VaultEntry

    row = await VaultEntry.select().where(VaultEntry.id == world.entry["id"]).first()
    removed = {str(fields[2]["id"]), str(fields[3]["id"])}
    assert not removed & set(__import__("json").loads(row["plain_values"]))
    assert not removed & set(__import__("json").loads(row["secret_values"]))
    assert row["form_name"] == "Kundinloggningar"
    # null clears auto-delete; an absent member leaves it alone
    r = await admin.patch(f"/api/vault/forms/{fid}", json={"name": "Igen"})
    assert r.json()["auto_delete_days"] == 30
    r = await admin.patch(f"/api/vault/forms/{fid}", json={"auto_delete_days": None})
    assert r.json()["auto_delete_days"] is None


async def test_an_encrypted_field_never_becomes_plain_again(client, world) -> None:
    """#20.6: plain → encrypted is allowed (test_encrypt_field.py); encrypted → plain is
    refused with its own code, and so is a password field that is not encrypted."""
    fields = world.form["fields"]
    for flipped, code in (("Anteckning", "vault_form.cannot_decrypt_field"),
                          ("Lösenord", "vault_form.password_not_encrypted")):
        body = {
            "fields": [
                {"id": f["id"], "name": f["name"], "type": f["type"],
                 "encrypted": (not f["encrypted"]) if f["name"] == flipped else f["encrypted"]}
                for f in fields
            ]
        }
        r = await world.admin.patch(f"/api/vault/forms/{world.form['id']}", json=body)
        assert r.status_code == 400, r.text
        assert r.json()["code"] == code and r.json()["field"] == "fields"
    got = (await world.admin.get(f"/api/vault/forms/{world.form['id']}")).json()
    assert [f["encrypted"] for f in got["fields"]] == [f["encrypted"] for f in fields]


async def test_field_of_another_form_cannot_be_kept(client, world) -> None:
    other = await make_form(world.admin, name="Annat")
    body = {"fields": [{"id": other["fields"][0]["id"], "name": "x"}]}
    r = await world.admin.patch(f"/api/vault/forms/{world.form['id']}", json=body)
    assert r.status_code == 400 and r.json()["field"] == "fields"


async def test_delete_form_needs_consent_when_it_has_entries(client, world) -> None:
    url = f"/api/vault/forms/{world.form['id']}"
    r = await world.admin.delete(url)
    assert r.status_code == 409
    assert "delete_entries=true" in r.json()["detail"]
    assert (await world.writer.get(f"/api/vault/entries/{world.entry['id']}")).status_code == 200
    r = await world.admin.delete(url + "?delete_entries=true")
    assert r.status_code == 200 and r.json()["entries_deleted"] == 1
    assert (await world.admin.get(url)).status_code == 404
    assert (await world.writer.get(f"/api/vault/entries/{world.entry['id']}")).status_code == 404


async def test_other_tenants_forms_are_404(client, world) -> None:
    stranger = await admin_of(client, await quick_tenant())
    url = f"/api/vault/forms/{world.form['id']}"
    assert (await stranger.get(url)).status_code == 404
    assert (await stranger.patch(url, json={"name": "Mine"})).status_code == 404
    assert (await stranger.put(url + "/access", json={})).status_code == 404
    assert (await stranger.delete(url + "?delete_entries=true")).status_code == 404
    r = await stranger.post("/api/vault/entries", json={"form_id": world.form["id"], "customer_id": 1})
    assert r.status_code == 404
    # The form and its entry are untouched.
    assert (await world.admin.get(url)).json()["name"] == "Inloggningar"
    assert (await reveal(world.reader, world.entry["id"])).json()["values"][0]["value"] == SECRET_PASSWORD


async def test_settings_show_the_fixed_vault_rules(client, world) -> None:
    r = await world.admin.get("/api/vault/settings")
    assert r.status_code == 200, r.text
    rules = {x["key"]: x for x in r.json()}
    assert rules["vault_entries"]["fixed"] is True
    assert rules["vault_entries"]["label_sv"] == "Säkra uppgifter – automatisk radering"
    assert rules["vault_audit"]["days"] == 90
    r = await world.admin.put("/api/vault/settings", json=[{"key": "vault_entries", "mode": "off"}])
    assert r.status_code == 400
