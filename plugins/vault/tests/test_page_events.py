"""A vault page and the vault API leave the same trace for the same change (M23, #18.4).

The vault's routes are its own (access lists and a second factor decide, not the record
layer's routes), so tests/core/test_record_events.py does not reach them: here a form and
an entry are created, changed and deleted once through the pages and once through the API,
and both leave the same event-log rows and the same vault audit rows (never a value).
"""

from __future__ import annotations

import json
import re
from typing import Any

from core.eventlog import EventLog
from tests.pages.helpers import page_login, post_form

FIELDS = [("Användarnamn", "text", False), ("Lösenord", "password", True)]


async def _events(tenant_id: int, record_type: str, record_id: int) -> list[tuple[Any, ...]]:
    rows = await EventLog.select().where(
        (EventLog.tenant_id == tenant_id) & (EventLog.record_type == record_type)
        & (EventLog.record_id == record_id)
    ).order_by(EventLog.id)
    return [(r["action"], r["plugin"], r["record_type"], r["employee_id"]) for r in rows]


async def _audit(tenant_id: int, form_id: int, entry_id: int = 0) -> list[tuple[Any, ...]]:
    from plugins.vault.tables import VaultAudit

    rows = await VaultAudit.select().where(
        (VaultAudit.tenant_id == tenant_id) & (VaultAudit.form_id == form_id)
        & (VaultAudit.entry_id == entry_id)
    ).order_by(VaultAudit.id)
    return [(r["action"], r["outcome"], r["employee_id"], json.loads(r["field_names"])) for r in rows]


async def _page_form(client: Any, tenant: Any, name: str) -> int:
    data = {"name": name, "purpose": "internal", "auto_delete_days": "",
            "plain_users": str(tenant.admin_id), "encrypted_users": str(tenant.admin_id)}
    for i, (field, kind, encrypted) in enumerate(FIELDS):
        data |= {f"field_name.{i}": field, f"field_type.{i}": kind}
        if encrypted:
            data[f"field_encrypted.{i}"] = "on"
    r = await post_form(client, "/vault/forms/new", data, "/vault/forms/new")
    assert r.status_code == 303, r.text
    return int(r.headers["location"].split("form_id=")[1])


async def _api_form(client: Any, tenant: Any, name: str) -> dict[str, Any]:
    me = {"users": [tenant.admin_id]}
    r = await client.post("/api/vault/forms", json={
        "name": name, "purpose": "internal", "access": {"plain": me, "encrypted": me},
        "fields": [{"name": f, "type": k, "encrypted": e} for f, k, e in FIELDS],
    })
    assert r.status_code == 201, r.text
    return r.json()


async def test_the_pages_log_what_the_api_logs(anon_client, tenant) -> None:
    client = anon_client
    assert (await page_login(client, tenant)).status_code == 303
    by_page = await _page_form(client, tenant, "Sidor")
    by_api = (await _api_form(client, tenant, "Api"))["id"]

    # The form renamed, its fields too; the same lists.
    edit = f"/vault/forms/{by_page}/edit"
    page = (await client.get(edit)).text
    ids = re.findall(r'name="field_id\.(\d+)" value="(\d+)"', page)
    assert len(ids) == 2, page
    data = {"name": "Sidor 2", "purpose": "internal", "auto_delete_days": "",
            "plain_users": str(tenant.admin_id), "encrypted_users": str(tenant.admin_id)}
    for i, (field, kind, encrypted) in enumerate(FIELDS):
        data |= {f"field_id.{i}": ids[i][1], f"field_name.{i}": field + " 2", f"field_type.{i}": kind}
        if encrypted:
            data[f"field_encrypted.{i}"] = "on"
    r = await post_form(client, edit, data, edit)
    assert r.status_code == 303, r.text
    fields = (await client.get(f"/api/vault/forms/{by_api}")).json()["fields"]
    r = await client.patch(f"/api/vault/forms/{by_api}", json={
        "name": "Api 2",
        "fields": [{"id": f["id"], "name": f["name"] + " 2", "type": f["type"], "encrypted": f["encrypted"]}
                   for f in fields],
    })
    assert r.status_code == 200, r.text
    me = {"users": [tenant.admin_id]}
    assert (await client.put(f"/api/vault/forms/{by_api}/access",
                             json={"plain": me, "encrypted": me})).status_code == 200

    # An entry on each form, then deleted the same way it was made.
    path = f"/vault/entries/new?form_id={by_page}"
    field_ids = re.findall(r'name="value\.(\d+)"', (await client.get(path)).text)
    r = await post_form(client, path, {f"value.{field_ids[0]}": "admin", f"value.{field_ids[1]}": "hemligt-1"}, path)
    assert r.status_code == 303, r.text
    page_entry = int(r.headers["location"].split("#entry-")[1])
    r = await client.post("/api/vault/entries", json={
        "form_id": by_api, "values": [{"field_id": f["id"], "value": v} for f, v in zip(fields, ("admin", "hemligt-1"),
                                                                                        strict=True)],
    })
    assert r.status_code == 201, r.text
    api_entry = r.json()["id"]
    r = await post_form(client, f"/vault/entries/{page_entry}/delete", {}, "/vault")
    assert r.status_code == 303, r.text
    assert (await client.delete(f"/api/vault/entries/{api_entry}")).status_code == 200

    admin = tenant.admin_id
    form_events = [(f"vault.{a}", "vault", "vault_form", admin)
                   for a in ("form_created", "access_changed", "form_changed")]
    assert await _events(tenant.id, "vault_form", by_api) == form_events
    assert await _events(tenant.id, "vault_form", by_page) == form_events
    entry_events = [(f"vault.{a}", "vault", "vault_entry", admin) for a in ("entry_created", "entry_deleted")]
    assert await _events(tenant.id, "vault_entry", api_entry) == entry_events
    assert await _events(tenant.id, "vault_entry", page_entry) == entry_events

    assert await _audit(tenant.id, by_page) == await _audit(tenant.id, by_api) == [
        ("form", "created", admin, ["Användarnamn", "Lösenord"]),
        ("access", "changed", admin, [f"granted: encrypted user {admin}", f"granted: plain user {admin}"]),
        ("form", "changed", admin, ["name", "field changed: Användarnamn", "field changed: Lösenord"]),
    ]
    entry_audit = [("entry", "created", admin, ["Användarnamn 2", "Lösenord 2"]), ("entry", "deleted", admin, [])]
    assert await _audit(tenant.id, by_page, page_entry) == entry_audit
    assert await _audit(tenant.id, by_api, api_entry) == entry_audit
