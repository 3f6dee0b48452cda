"""#20.6: clear text is not the easy way. A password field (or a field named like one) is
encrypted by default; a saved plain field can be switched to encrypted, which encrypts all
its stored values in one transaction (never the other way); the values never reach person
search. Runs on SQLite and PostgreSQL (./pgtest.sh)."""

from __future__ import annotations

import json

from core.db import raw
from plugins.vault.tests.conftest import make_form, reveal

OLD_PASSWORD = "Sommar2024!"


async def test_password_fields_and_secret_names_are_encrypted_by_default(client, world) -> None:
    form = await make_form(world.admin, purpose="internal", name="Standard", fields=[
        {"name": "Lösenord"}, {"name": "PIN", "type": "text"}, {"name": "Användarnamn"},
        {"name": "Nyckel till rack", "type": "password"}, {"name": "Kodlås"}, {"name": "Pinkod", "encrypted": False},
    ])
    got = {f["name"]: f["encrypted"] for f in form["fields"]}
    assert got == {"Lösenord": True, "PIN": True, "Användarnamn": False, "Nyckel till rack": True,
                   "Kodlås": False, "Pinkod": False}  # a plain field named so when asked for plainly
    r = await world.admin.post("/api/vault/forms", json={
        "name": "Fel", "purpose": "internal", "fields": [{"name": "Lösen", "type": "password", "encrypted": False}],
    })
    assert r.status_code == 400 and r.json()["code"] == "vault_form.password_not_encrypted"
    assert "Fel" not in [f["name"] for f in (await world.admin.get("/api/vault/forms")).json()]
    # A saved field given without "encrypted" keeps its setting.
    fields = [{"id": f["id"], "name": f["name"], "type": f["type"]} for f in form["fields"]]
    r = await world.admin.patch(f"/api/vault/forms/{form['id']}", json={"fields": fields})
    assert r.status_code == 200, r.text
    assert {f["name"]: f["encrypted"] for f in r.json()["fields"]} == got


async def _plain_form_with_entries(world, n: int = 3) -> tuple[dict, list[int]]:  # type: ignore[no-untyped-def]
    form = await make_form(
        world.admin, name="Routrar", fields=[{"name": "Användare"}, {"name": "Lösenord", "encrypted": False}],
        access={"plain": {"users": [world.writer.employee_id]}, "encrypted": {"groups": [world.group_id]}},
    )
    assert [f["encrypted"] for f in form["fields"]] == [False, False]
    user_id, pw_id = (f["id"] for f in form["fields"])
    entries = []
    for i in range(n):
        value = [{"field_id": user_id, "value": f"admin{i}"}]
        if i < n - 1:  # the last entry has no password
            value.append({"field_id": pw_id, "value": f"{OLD_PASSWORD}{i}"})
        r = await world.writer.post("/api/vault/entries", json={
            "form_id": form["id"], "customer_id": world.customer_id, "values": value,
        })
        assert r.status_code == 201, r.text
        entries.append(r.json()["id"])
    listed = (await world.writer.get(f"/api/vault/entries?form_id={form['id']}")).text
    assert f"{OLD_PASSWORD}0" in listed  # the state #20.6 complains about
    return form, entries


async def _column_scan(form_id: int) -> str:
    rows = await raw(
        "SELECT plain_values, secret_values, wrapped_key FROM vault_entry WHERE form_id = {}", form_id
    )
    return json.dumps(rows, default=str)


async def _search_finds(world, word: str) -> list:  # type: ignore[no-untyped-def]
    r = await world.admin.get("/api/gdpr/search", params={"q": word, "limit": 200})
    assert r.status_code == 200, r.text
    hits = [h for g in r.json()["groups"] for h in g["hits"] if g["module"] == "vault"]
    assert word not in r.text
    return hits


async def test_a_plain_field_is_encrypted_later_with_all_its_values(client, world) -> None:
    form, entries = await _plain_form_with_entries(world)
    pw_id = form["fields"][1]["id"]
    assert await _search_finds(world, f"{OLD_PASSWORD}0") == []
    fields = [{"id": f["id"], "name": f["name"], "type": f["type"]} for f in form["fields"]]
    fields[1]["encrypted"] = True
    r = await world.admin.patch(f"/api/vault/forms/{form['id']}", json={"fields": fields})
    assert r.status_code == 200, r.text
    assert [f["encrypted"] for f in r.json()["fields"]] == [False, True]

    # No plain value is left anywhere in the table's rows (values, ciphertexts, keys).
    scan = await _column_scan(form["id"])
    assert OLD_PASSWORD not in scan and "Sommar" not in scan
    assert "admin0" in scan  # the other field stays plain
    for entry_id, n in zip(entries, range(3), strict=True):
        row = (await raw("SELECT plain_values, secret_values FROM vault_entry WHERE id = {}", entry_id))[0]
        assert str(pw_id) not in json.loads(row["plain_values"])
        assert (str(pw_id) in json.loads(row["secret_values"])) == (n < 2)
    # Lists and entries show only that there is a value; the reader decrypts the originals.
    for url in (f"/api/vault/entries?form_id={form['id']}", f"/api/vault/entries/{entries[0]}"):
        text = (await world.writer.get(url)).text
        assert OLD_PASSWORD not in text
    got = (await world.writer.get(f"/api/vault/entries/{entries[0]}")).json()
    assert got["fields"][1] == {"field_id": pw_id, "name": "Lösenord", "type": "text", "encrypted": True,
                                "has_value": True, "value": None}
    for n, entry_id in enumerate(entries):
        shown = await reveal(world.reader, entry_id)
        assert shown.status_code == 200, shown.text
        assert shown.json()["values"][0]["value"] == (f"{OLD_PASSWORD}{n}" if n < 2 else None)
    # Person search never had the value, and has no term of it now.
    assert await _search_finds(world, f"{OLD_PASSWORD}0") == []
    assert await _search_finds(world, "Sommar2024") == []
    terms = await raw("SELECT COUNT(*) AS n FROM gdpr_search_term WHERE term LIKE {}", "sommar2024%")
    assert terms[0]["n"] == 0
    # Audited: who, which field, how many values; never a value.
    audit = (await world.admin.get("/api/vault/audit", params={"limit": 200})).json()["items"]
    change = next(a for a in audit
                  if a["form_id"] == form["id"] and a["action"] == "form" and a["outcome"] == "changed")
    assert change["field_names"] == ["field encrypted: Lösenord (2 stored values)"]
    assert change["employee_id"] == world.admin.employee_id
    assert OLD_PASSWORD not in json.dumps(audit)
    # And it cannot go back.
    fields[1]["encrypted"] = False
    r = await world.admin.patch(f"/api/vault/forms/{form['id']}", json={"fields": fields})
    assert r.status_code == 400 and r.json()["code"] == "vault_form.cannot_decrypt_field"


async def test_encrypting_is_all_or_nothing(client, world, monkeypatch) -> None:
    """One entry whose data key fails its check stops the whole change: nothing is
    encrypted (not even the batch written before it), the field stays plain, the values
    are as they were."""
    from plugins.vault import services

    monkeypatch.setattr(services, "ENCRYPT_BATCH", 1)
    form, entries = await _plain_form_with_entries(world)
    kept = await raw("SELECT wrapped_key FROM vault_entry WHERE id = {}", entries[1])
    await raw("UPDATE vault_entry SET wrapped_key = {} WHERE id = {}", "AAAA" + "B" * 60, entries[1])
    try:
        before = await _column_scan(form["id"])
        fields = [{"id": f["id"], "name": f["name"], "type": f["type"], "encrypted": True} for f in form["fields"]]
        r = await world.admin.patch(f"/api/vault/forms/{form['id']}", json={"fields": fields})
        assert r.status_code == 409, r.text
        assert r.json()["code"] == "vault_entry.integrity"
        assert await _column_scan(form["id"]) == before
        got = (await world.admin.get(f"/api/vault/forms/{form['id']}")).json()
        assert [f["encrypted"] for f in got["fields"]] == [False, False]
    finally:
        # The worker's database is shared by later tests: a key rotation there rewraps every
        # entry of every tenant and must not meet this deliberately broken one.
        await raw("UPDATE vault_entry SET wrapped_key = {} WHERE id = {}", kept[0]["wrapped_key"], entries[1])


async def test_encrypting_needs_a_manager_and_the_tenants_own_form(client, world) -> None:
    from plugins.vault.tests.conftest import build_world

    form, _entries = await _plain_form_with_entries(world)
    fields = [{"id": f["id"], "name": f["name"], "type": f["type"], "encrypted": True} for f in form["fields"]]
    r = await world.writer.patch(f"/api/vault/forms/{form['id']}", json={"fields": fields})
    assert r.status_code == 403 and r.json()["code"] == "vault.managers_only"
    other = await build_world(client)
    r = await other.admin.patch(f"/api/vault/forms/{form['id']}", json={"fields": fields})
    assert r.status_code == 404 and r.json()["code"] == "vault_form.not_found"
    r = await world.admin.patch(f"/api/vault/forms/{form['id']}", content=b'{"fields": [',
                                headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert OLD_PASSWORD in await _column_scan(form["id"])  # nothing changed


async def test_many_entries_are_encrypted_in_batches(client, world, monkeypatch) -> None:
    from plugins.vault import services

    monkeypatch.setattr(services, "ENCRYPT_BATCH", 2)
    form, entries = await _plain_form_with_entries(world, n=6)
    fields = [{"id": f["id"], "name": f["name"], "type": f["type"], "encrypted": True} for f in form["fields"]]
    r = await world.admin.patch(f"/api/vault/forms/{form['id']}", json={"fields": fields})
    assert r.status_code == 200, r.text
    scan = await _column_scan(form["id"])
    assert OLD_PASSWORD not in scan and "admin5" not in scan
    shown = await reveal(world.reader, entries[4])
    assert {v["name"]: v["value"] for v in shown.json()["values"]} == {
        "Användare": "admin4", "Lösenord": f"{OLD_PASSWORD}4",
    }


async def test_grant_by_names_who_can_give_access(client, world) -> None:
    """A person not on the plain list is told who can put them on it (pages and API)."""
    mine = (await world.reader.get(f"/api/vault/forms/{world.form['id']}")).json()
    assert mine["my_access"] == {"plain": False, "encrypted": True}
    assert mine["grant_by"] == ["Admin Person"]
    listed = (await world.reader.get("/api/vault/forms")).json()
    assert listed[0]["grant_by"] == ["Admin Person"]
    assert (await world.writer.get(f"/api/vault/forms/{world.form['id']}")).json()["grant_by"] is None
