"""Retention and GDPR (M12): auto-delete at the boundary by the core's sweep, with its audit
row; erasure of a customer deletes the customer's entries; declarations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from core.contracts import PersonalDataField
from plugins.vault.tests.conftest import build_world, quick_tenant

T0 = datetime(2031, 3, 10, 9, 0, 0, tzinfo=UTC)


async def _exists(entry_id: int) -> bool:
    from plugins.vault.tables import VaultEntry

    return bool(await VaultEntry.exists().where(VaultEntry.id == entry_id))


async def _sweep(tenant_id: int):
    from core.gdpr.engine import sweep

    return {r.rule: r for r in await sweep(tenant_id, "vault")}


async def test_auto_delete_at_the_boundary_with_an_audit_row(client) -> None:
    from core.gdpr.tables import GdprRun

    with time_machine.travel(T0, tick=False):
        w = await build_world(client, auto_delete_days=30)
        kept = await build_world(client, w.tenant)  # another form without auto-delete
    other = await build_world(client, await quick_tenant(), auto_delete_days=30)  # later, elsewhere
    entry, forever = w.entry["id"], kept.entry["id"]

    with time_machine.travel(T0 + timedelta(days=30), tick=False):
        result = await _sweep(w.tenant.id)
        assert result["vault_entries"].outcome == "ok" and result["vault_entries"].records == 0
        assert await _exists(entry)  # exactly N days old: not older than N days yet
    with time_machine.travel(T0 + timedelta(days=30, seconds=1), tick=False):
        result = await _sweep(w.tenant.id)
        assert result["vault_entries"].records == 1
    assert not await _exists(entry)
    assert await _exists(forever) and await _exists(other.entry["id"])
    runs = await GdprRun.select().where(
        (GdprRun.tenant_id == w.tenant.id) & (GdprRun.rule_key == "vault_entries") & (GdprRun.records == 1)
    )
    assert [(r["plugin"], r["trigger"], r["outcome"]) for r in runs] == [("vault", "sweep", "ok")]
    await w.admin.renew()
    await w.writer.renew()
    page = (await w.admin.get("/api/gdpr/runs?plugin=vault&rule=vault_entries")).json()
    assert any(r["records"] == 1 and r["outcome"] == "ok" for r in page["items"])
    # The writer sees it gone; nothing of it is left to decrypt.
    assert (await w.writer.get(f"/api/vault/entries/{entry}")).status_code == 404


async def test_changing_a_forms_days_moves_every_deadline(client) -> None:
    with time_machine.travel(T0, tick=False):
        w = await build_world(client)
    entry = w.entry["id"]
    with time_machine.travel(T0 + timedelta(days=5), tick=False):
        await w.admin.renew()
        await w.writer.renew()
        r = await w.admin.patch(f"/api/vault/forms/{w.form['id']}", json={"auto_delete_days": 10})
        assert r.status_code == 200
        fresh = await w.writer.post("/api/vault/entries", json={"form_id": w.form["id"], "customer_id": w.customer_id})
        fresh_id = fresh.json()["id"]
    with time_machine.travel(T0 + timedelta(days=10, seconds=1), tick=False):
        await _sweep(w.tenant.id)
    assert not await _exists(entry)  # counted from its creation, not from the change
    assert await _exists(fresh_id)
    # Turning auto-delete off keeps the rest for good.
    await w.admin.renew()
    r = await w.admin.patch(f"/api/vault/forms/{w.form['id']}", json={"auto_delete_days": None})
    assert r.status_code == 200
    with time_machine.travel(T0 + timedelta(days=400), tick=False):
        await _sweep(w.tenant.id)
    assert await _exists(fresh_id)


async def test_erasing_a_customer_deletes_their_entries(client) -> None:
    """The customers plugin (here a stand-in) anonymizes a customer; the core deletes every
    vault entry referencing it, because the vault declared customer_id a customer_ref
    with strategy delete_row."""
    from core.gdpr.engine import anonymize_records
    from plugins.vault.tables import VaultEntry
    from plugins.vault.tests.fakes import VTCustomer

    w = await build_world(client)
    rows = await VTCustomer.insert(VTCustomer(tenant_id=w.tenant.id, name="Kund AB")).returning(VTCustomer.id)
    customer = int(rows[0]["id"])
    mine = []
    for _ in range(2):
        r = await w.writer.post("/api/vault/entries", json={"form_id": w.form["id"], "customer_id": customer})
        mine.append(r.json()["id"])
    other_customer = w.entry["id"]  # the world's customer
    elsewhere = await build_world(client, await quick_tenant())
    # Another tenant's entry holding the same customer number (stored before references
    # were checked: a request can no longer name another organization's customer).
    same_number_other_tenant = elsewhere.entry["id"]
    await VaultEntry.update({VaultEntry.customer_id: customer}).where(VaultEntry.id == same_number_other_tenant)

    done = await anonymize_records(w.tenant.id, "fakecustomers", "vaulttest_customers", [customer], reason="erasure")
    assert done == 1
    assert not any([await _exists(e) for e in mine])
    assert await _exists(other_customer) and await _exists(same_number_other_tenant)
    listed = (await w.writer.get(f"/api/vault/entries?customer_id={customer}")).json()
    assert listed["total"] == 0


async def test_declarations_pass_the_engine_checks(vault_host) -> None:
    from core.gdpr.registry import build
    from plugins.vault.tables import VaultEntry

    decl = build(vault_host)
    rule = decl.rules["vault_entries"]
    assert rule.owner == "vault" and rule.rule.fixed
    assert rule.rule.label_sv == "Säkra uppgifter – automatisk radering"
    refs = [
        (f.table, f.field.column, f.field.strategy) for f in decl.reference_fields("customer_ref") if f.owner == "vault"
    ]
    assert refs == [(VaultEntry, "customer_id", "delete_row")]
    sources = vault_host.collect_by_plugin("declare_search_sources")["vault"]
    searched = {(s.table, s.column) for s in sources}
    fields = vault_host.collect_by_plugin("declare_personal_data")["vault"]
    personal = {(f.table, f.column) for f in fields if isinstance(f, PersonalDataField)}
    # Every personal-data column is searched, except the values: the ciphertexts, and the
    # plain values the form's access lists guard (#17.4; an entry is found by its customer).
    assert personal - searched == {(VaultEntry, "secret_values"), (VaultEntry, "plain_values")}
    assert (VaultEntry, "customer_id") in searched
    # The entry's hits show under a place named after the column that matched, all derived
    # from the record spec (one declaration); the plugin's own hook names no entry column.
    places = [(s.column, s.place_en, s.area, s.record_type, s.link(5)) for s in sources if s.table is VaultEntry]
    assert places == [
        ("customer_id", "Secure data (form)", "workcloud", "vault_entry", "/api/vault/entries/5"),
        ("created_by", "Secure data – created by", "workcloud", "vault_entry", "/api/vault/entries/5"),
        ("updated_by", "Secure data – changed by", "workcloud", "vault_entry", "/api/vault/entries/5"),
    ]
    from plugins.vault import gdpr

    assert not [s for s in gdpr.search_sources() if s.table is VaultEntry]
    assert not [f for f in gdpr.personal_data() if f.table is VaultEntry]
    assert all(r.table is not VaultEntry for r in gdpr.retention_rules())
    types = [t for t in vault_host.collect("declare_record_types") if t.key == "vault_entry"]
    assert types[0].number_column == "form_name" and types[0].link(5) == "/api/vault/entries/5"


async def test_audit_log_is_deleted_after_three_months(client) -> None:
    from plugins.vault.tables import VaultAudit
    from plugins.vault.tests.conftest import reveal

    with time_machine.travel(T0, tick=False):
        w = await build_world(client)
        assert (await reveal(w.reader, w.entry["id"])).status_code == 200
    where = (VaultAudit.tenant_id == w.tenant.id)
    # The reveal, and the form, its access list and the entry being created.
    assert await VaultAudit.count().where(where) == 4
    with time_machine.travel(T0 + timedelta(days=89), tick=False):
        await _sweep(w.tenant.id)
    assert await VaultAudit.count().where(where) == 4
    with time_machine.travel(T0 + timedelta(days=90, seconds=1), tick=False):
        result = await _sweep(w.tenant.id)
    assert result["vault_audit"].records == 4
    assert await VaultAudit.count().where(where) == 0


async def test_search_links_resolve_for_the_own_tenant_only(client) -> None:
    from plugins.vault.tables import VaultAccess, VaultAudit
    from plugins.vault.tests.conftest import reveal

    w = await build_world(client)
    assert (await reveal(w.reader, w.entry["id"])).status_code == 200
    # Filter on the tenant too: SQLite reuses the ids of deleted rows, so another test's
    # audit row may name the same entry id.
    access = await VaultAccess.select(VaultAccess.id).where(
        (VaultAccess.form_id == w.form["id"]) & (VaultAccess.tenant_id == w.tenant.id)
    ).first()
    audit = await VaultAudit.select(VaultAudit.id).where(
        (VaultAudit.entry_id == w.entry["id"]) & (VaultAudit.tenant_id == w.tenant.id)
    ).first()
    ids = {"vault_entry": w.entry["id"], "vault_access": access["id"], "vault_audit": audit["id"]}
    stranger = await build_world(client, await quick_tenant())
    from core.plugins import get_host

    for source in get_host().collect_by_plugin("declare_search_sources")["vault"]:
        if source.link is None:  # throttling counters and pending steps: shown, not opened
            continue
        record = ids[source.table._meta.tablename]
        # Entries open for those on the form's lists; access rows and the log for managers.
        own = w.writer if source.table._meta.tablename == "vault_entry" else w.admin
        assert (await own.get(source.link(record))).status_code == 200, source
        theirs = stranger.writer if source.table._meta.tablename == "vault_entry" else stranger.admin
        assert (await theirs.get(source.link(record))).status_code == 404, source
    got = (await w.admin.get(f"/api/vault/access/{access['id']}")).json()
    assert got["form_name"] == "Inloggningar" and got["level"] in ("plain", "encrypted")
    assert (await w.writer.get(f"/api/vault/access/{access['id']}")).status_code == 403
    assert (await w.writer.get(f"/api/vault/audit/{audit['id']}")).status_code == 403


async def test_plain_values_are_stored_searchable_as_written(client) -> None:
    from plugins.vault.tables import VaultEntry

    w = await build_world(client)
    r = await w.writer.patch(f"/api/vault/entries/{w.entry['id']}", json={"values": w.values(Användarnamn="Åsa Öberg")})
    assert r.status_code == 200
    rows = await VaultEntry.select(VaultEntry.id).where(VaultEntry.plain_values.like("%Åsa Öberg%"))
    assert [x["id"] for x in rows] == [w.entry["id"]]
