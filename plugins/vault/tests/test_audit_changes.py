"""#17.10: every change to a form, its access lists and its entries leaves a trace (who,
what, when; never a value) in the vault audit and in the core's event log."""

from __future__ import annotations

import json

from plugins.vault.tests.conftest import SECRET_NOTE, SECRET_PASSWORD, build_world, new_user
from tests.support import TEST_PASSWORD


async def _vault_audit(tenant_id: int) -> list[tuple[str, str, int, int, list[str]]]:
    from plugins.vault.tables import VaultAudit

    rows = await VaultAudit.select().where(
        (VaultAudit.tenant_id == tenant_id) & (VaultAudit.action != "reveal")
    ).order_by(VaultAudit.id)
    return [
        (r["action"], r["outcome"], int(r["employee_id"]), int(r["entry_id"]), json.loads(r["field_names"]))
        for r in rows
    ]


async def _events(tenant_id: int) -> list[tuple[str, int, str, int]]:
    from core.eventlog import EventLog

    rows = await EventLog.select().where(
        (EventLog.tenant_id == tenant_id) & EventLog.action.like("vault.%")
    ).order_by(EventLog.id)
    return [(r["action"], int(r["employee_id"]), r["record_type"], int(r["record_id"])) for r in rows]


async def test_changes_to_forms_access_and_entries_are_audited(client) -> None:
    w = await build_world(client)
    tid, form_id, entry_id = w.tenant.id, w.form["id"], w.entry["id"]
    admin, writer = w.admin.employee_id, w.writer.employee_id
    created = await _vault_audit(tid)
    assert created == [
        ("form", "created", admin, 0, ["Användarnamn", "Lösenord", "Adress", "Anteckning"]),
        ("access", "changed", admin, 0, [f"granted: encrypted group {w.group_id}", f"granted: plain user {writer}"]),
        ("entry", "created", writer, entry_id, ["Användarnamn", "Lösenord", "Adress", "Anteckning"]),
    ]

    # Granting decrypt access to one more person.
    other = await new_user(client, w.tenant)
    r = await w.admin.put(
        f"/api/vault/forms/{form_id}/access",
        json={"plain": {"users": [writer]}, "encrypted": {"users": [other.employee_id], "groups": [w.group_id]}},
    )
    assert r.status_code == 200
    # Overwriting a secret.
    r = await w.writer.patch(f"/api/vault/entries/{entry_id}", json={"values": w.values(Lösenord="nytt-hemligt-9")})
    assert r.status_code == 200
    # Changing the form, then deleting the entry and the whole form.
    r = await w.admin.patch(f"/api/vault/forms/{form_id}", json={"name": "Routrar", "require_two_factor": True})
    assert r.status_code == 200
    assert (await w.writer.delete(f"/api/vault/entries/{entry_id}")).status_code == 200
    r = await w.writer.post(
        "/api/vault/entries",
        json={"form_id": form_id, "customer_id": w.customer_id, "values": w.values(Lösenord="x-1")},
    )
    second = r.json()["id"]
    assert (await w.admin.delete(f"/api/vault/forms/{form_id}?delete_entries=true")).status_code == 200

    assert (await _vault_audit(tid))[3:] == [
        ("access", "changed", admin, 0, [f"granted: encrypted user {other.employee_id}"]),
        ("entry", "changed", writer, entry_id, ["Lösenord"]),
        ("form", "changed", admin, 0, ["name", "require_two_factor"]),
        ("entry", "deleted", writer, entry_id, []),
        ("entry", "created", writer, second, ["Lösenord"]),
        ("form", "deleted", admin, 0, ["entries deleted: 1"]),
    ]
    assert await _events(tid) == [
        ("vault.form_created", admin, "vault_form", form_id),
        ("vault.access_changed", admin, "vault_form", form_id),
        ("vault.entry_created", writer, "vault_entry", entry_id),
        ("vault.access_changed", admin, "vault_form", form_id),
        ("vault.entry_changed", writer, "vault_entry", entry_id),
        ("vault.form_changed", admin, "vault_form", form_id),
        ("vault.entry_deleted", writer, "vault_entry", entry_id),
        ("vault.entry_created", writer, "vault_entry", second),
        ("vault.form_deleted", admin, "vault_form", form_id),
    ]

    # Never a value, in either log.
    from core.eventlog import EventLog
    from plugins.vault.tables import VaultAudit

    dump = json.dumps(
        [*await VaultAudit.select().where(VaultAudit.tenant_id == tid),
         *await EventLog.select().where(EventLog.tenant_id == tid)],
        default=str,
    )
    for secret in (SECRET_PASSWORD, SECRET_NOTE, "nytt-hemligt-9", "x-1", TEST_PASSWORD, "admin@kund.se"):
        assert secret not in dump


async def test_managers_see_the_changes_in_the_audit_api(client) -> None:
    w = await build_world(client)
    page = (await w.admin.get("/api/vault/audit")).json()
    assert [(i["action"], i["outcome"]) for i in page["items"]] == [
        ("entry", "created"), ("access", "changed"), ("form", "created")
    ]
    assert all(i["form_id"] == w.form["id"] and i["ip"] for i in page["items"])
