"""Entries (M9): create, list grouped by form and customer, get, edit, delete; encrypted
values never appear outside a reveal."""

from __future__ import annotations

import json

import pytest

from plugins.vault.tests.conftest import (
    SECRET_NOTE,
    SECRET_PASSWORD,
    add_group,
    make_form,
    new_user,
    quick_tenant,
    reveal,
)
from plugins.vault.tests.fakes import add_customer


async def _ciphertexts(entry_id: int) -> list[str]:
    from plugins.vault.tables import VaultEntry

    row = await VaultEntry.select().where(VaultEntry.id == entry_id).first()
    return [v["c"] for v in json.loads(row["secret_values"]).values()] + [row["wrapped_key"]]


async def test_stored_encrypted_not_in_clear(client, world) -> None:
    from plugins.vault.tables import VaultEntry

    row = await VaultEntry.select().where(VaultEntry.id == world.entry["id"]).first()
    raw = json.dumps(row, default=str)
    assert SECRET_PASSWORD not in raw and SECRET_NOTE not in raw
    assert "admin@kund.se" in row["plain_values"]
    assert row["customer_id"] == world.customer_id and row["key_version"] >= 1


async def test_get_and_list_never_hold_ciphertext_or_plaintext(client, world) -> None:
    secrets = [SECRET_PASSWORD, SECRET_NOTE, *await _ciphertexts(world.entry["id"])]
    for who in (world.writer, world.reader):
        for url in (
            f"/api/vault/entries/{world.entry['id']}",
            "/api/vault/entries",
            f"/api/vault/entries?form_id={world.form['id']}",
            f"/api/vault/entries?customer_id={world.customer_id}",
            f"/api/vault/forms/{world.form['id']}",
            "/api/vault/forms",
        ):
            r = await who.get(url)
            assert r.status_code == 200, (url, r.text)
            for s in secrets:
                assert s not in r.text, url
    got = (await world.writer.get(f"/api/vault/entries/{world.entry['id']}")).json()
    enc = [f for f in got["fields"] if f["encrypted"]]
    assert enc and all(f["has_value"] is True and f["value"] is None for f in enc)
    for s in secrets:
        assert s not in json.dumps(world.entry)  # the create answer neither


async def test_list_is_grouped_by_form_and_customer_with_filters(client, world) -> None:
    w = world
    internal = await make_form(
        w.admin, purpose="internal", name="Wifi", fields=[{"name": "SSID"}, {"name": "PSK", "encrypted": True}],
        access={"plain": {"users": [w.writer.employee_id]}},
    )
    other = await add_customer(w.tenant.id)  # created after the world's: a higher id
    for cust, user in ((w.customer_id, "b"), (other, "c"), (other, "d")):
        r = await w.writer.post(
            "/api/vault/entries",
            json={"form_id": w.form["id"], "customer_id": cust, "values": w.values(Användarnamn=user)},
        )
        assert r.status_code == 201
    ssid = internal["fields"][0]["id"]
    r = await w.writer.post(
        "/api/vault/entries", json={"form_id": internal["id"], "values": [{"field_id": ssid, "value": "office"}]}
    )
    assert r.status_code == 201, r.text
    assert r.json()["customer_id"] is None and r.json()["purpose"] == "internal"

    page = (await w.writer.get("/api/vault/entries")).json()
    assert page["total"] == 5
    shape = [(g["form_id"], g["purpose"], g["customer_id"], len(g["entries"])) for g in page["groups"]]
    assert shape == [
        (w.form["id"], "customer", w.customer_id, 2),
        (w.form["id"], "customer", other, 2),
        (internal["id"], "internal", None, 1),
    ]
    by_cust = (await w.writer.get(f"/api/vault/entries?customer_id={other}")).json()
    assert by_cust["total"] == 2 and {g["customer_id"] for g in by_cust["groups"]} == {other}
    only_internal = (await w.writer.get("/api/vault/entries?purpose=internal")).json()
    assert only_internal["total"] == 1 and only_internal["groups"][0]["form_name"] == "Wifi"
    by_form = (await w.writer.get(f"/api/vault/entries?form_id={internal['id']}")).json()
    assert by_form["total"] == 1
    paged = (await w.writer.get("/api/vault/entries?offset=1&limit=2")).json()
    assert paged["total"] == 5 and sum(len(g["entries"]) for g in paged["groups"]) == 2
    # The reader is on the customer form's encrypted list only: the Wifi form is not theirs.
    assert (await w.reader.get("/api/vault/entries")).json()["total"] == 4
    for bad in ("limit=0", "limit=201", "offset=-1", "form_id=0", "purpose=secret", "customer_id=abc"):
        assert (await w.writer.get(f"/api/vault/entries?{bad}")).status_code == 400, bad


async def test_customer_and_internal_rules(client, world) -> None:
    w = world
    r = await w.writer.post("/api/vault/entries", json={"form_id": w.form["id"], "values": []})
    assert r.status_code == 400 and r.json()["field"] == "customer_id"
    internal = await make_form(
        w.admin, purpose="internal", name="Intern", access={"plain": {"users": [w.writer.employee_id]}}
    )
    r = await w.writer.post("/api/vault/entries", json={"form_id": internal["id"], "customer_id": 5})
    assert r.status_code == 400 and r.json()["field"] == "customer_id"
    other = await add_customer(w.tenant.id)
    r = await w.writer.patch(f"/api/vault/entries/{w.entry['id']}", json={"customer_id": other})
    assert r.status_code == 200 and r.json()["customer_id"] == other
    for bad in (0, -1):
        r = await w.writer.post("/api/vault/entries", json={"form_id": w.form["id"], "customer_id": bad})
        assert r.status_code == 400


@pytest.mark.parametrize(
    "values, message",
    [
        ([{"field_id": 999999, "value": "x"}], "not a field of this form"),
        ("twice", "given twice"),
        ("url", "address"),
        ("long", "at most"),
        ("newline", "single line"),
        ("huge", None),
    ],
)
async def test_bad_values_are_400(client, world, values, message) -> None:
    w = world
    if values == "twice":
        values = w.values(Användarnamn="a") + w.values(Användarnamn="b")
    elif values == "url":
        values = w.values(Adress="router.kund.se")
    elif values == "long":
        values = w.values(Lösenord="x" * 2001)
    elif values == "newline":
        values = w.values(Användarnamn="a\nb")
    elif values == "huge":
        values = w.values(Anteckning="x" * 10_001)
    r = await w.writer.post(
        "/api/vault/entries", json={"form_id": w.form["id"], "customer_id": w.customer_id, "values": values}
    )
    assert r.status_code == 400, r.text
    if message:
        assert message in r.json()["detail"]
    assert (await w.writer.get("/api/vault/entries")).json()["total"] == 1  # nothing written


async def test_note_may_be_long_and_multiline(client, world) -> None:
    note = ("rad\n" * 2000)[:9000]
    r = await world.writer.patch(
        f"/api/vault/entries/{world.entry['id']}", json={"values": world.values(Anteckning=note)}
    )
    assert r.status_code == 200, r.text
    shown = await reveal(world.reader, world.entry["id"])
    assert {v["name"]: v["value"] for v in shown.json()["values"]}["Anteckning"] == note


async def test_edit_changes_and_clears_values(client, world) -> None:
    w = world
    r = await w.writer.patch(
        f"/api/vault/entries/{w.entry['id']}",
        json={"values": w.values(Lösenord="nytt-lösen-1", Anteckning=None, Användarnamn="root")},
    )
    assert r.status_code == 200, r.text
    fields = {f["name"]: f for f in r.json()["fields"]}
    assert fields["Användarnamn"]["value"] == "root"
    assert fields["Anteckning"]["has_value"] is False
    assert "nytt-lösen-1" not in r.text
    shown = {v["name"]: v["value"] for v in (await reveal(w.reader, w.entry["id"])).json()["values"]}
    assert shown == {"Lösenord": "nytt-lösen-1", "Anteckning": None}
    # An empty string clears too
    r = await w.writer.patch(f"/api/vault/entries/{w.entry['id']}", json={"values": w.values(Användarnamn="")})
    assert {f["name"]: f["has_value"] for f in r.json()["fields"]}["Användarnamn"] is False


async def test_delete_entry_removes_values_and_data_key(client, world) -> None:
    from plugins.vault.tables import VaultEntry

    r = await world.writer.delete(f"/api/vault/entries/{world.entry['id']}")
    assert r.status_code == 200 and r.json() == {"id": world.entry["id"], "deleted": True, "entries_deleted": 0}
    assert not await VaultEntry.exists().where(VaultEntry.id == world.entry["id"])
    assert (await world.writer.get(f"/api/vault/entries/{world.entry['id']}")).status_code == 404
    assert (await world.writer.delete(f"/api/vault/entries/{world.entry['id']}")).status_code == 404


async def test_other_tenant_entry_ids_are_404(client, world) -> None:
    t2 = await quick_tenant()
    stranger = await new_user(client, t2)
    from plugins.vault.tests.conftest import admin_of

    admin2 = await admin_of(client, t2)
    group = await add_group(t2.id, [stranger.employee_id])
    await make_form(admin2, access={"plain": {"groups": [group]}, "encrypted": {"groups": [group]}})
    url = f"/api/vault/entries/{world.entry['id']}"
    assert (await stranger.get(url)).status_code == 404
    assert (await stranger.patch(url, json={"values": []})).status_code == 404
    assert (await stranger.delete(url)).status_code == 404
    assert (await reveal(stranger, world.entry["id"])).status_code == 404
    assert (await stranger.get(f"/api/vault/entries?form_id={world.form['id']}")).json()["total"] == 0
    assert (await world.writer.get(url)).status_code == 200


async def test_malformed_entry_bodies_are_400(client, world) -> None:
    w = world
    for body in (
        {"form_id": w.form["id"], "customer_id": w.customer_id, "extra": True},
        {"customer_id": 1},
        {"form_id": "x"},
        {"form_id": w.form["id"], "customer_id": w.customer_id, "values": [{"field_id": 1}]},
    ):
        assert (await w.writer.post("/api/vault/entries", json=body)).status_code == 400, body
    assert (await w.writer.patch(f"/api/vault/entries/{w.entry['id']}", json={"nope": 1})).status_code == 400
