"""Keeping the person-search index current without per-row work: a sweep's anonymized rows
lose their terms in the anonymizing statement (no note, no re-read), noted rows are indexed
in bounded chunks, and an edit made while a sweep runs is found by the next search exactly
as an edit made at any other time. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest

from core.db import as_owner, atomic, is_sqlite, raw, utcnow
from core.gdpr import engine
from core.gdpr import search as gs
from core.gdpr.settings import RuleSetting
from tests.search.test_search import make_customer, places, search, unique_word

DUE = {"customers": RuleSetting("days", 30)}


async def _customer_terms(ids: list[int]) -> int:
    marks = ", ".join("{}" for _ in ids)
    rows = await raw(
        "SELECT COUNT(*) AS n FROM gdpr_search_term t JOIN gdpr_search_field f ON f.id = t.field_id "
        f"WHERE f.tbl = 'customer' AND t.record_id IN ({marks})",
        *ids,
    )
    return int(rows[0]["n"])


async def _noted(record_id: int) -> bool:
    return bool(await raw("SELECT id FROM gdpr_search_dirty WHERE record_id = {}", record_id))


async def _deleted_long_ago(client: Any, n: int) -> tuple[list[int], list[str]]:
    ids, words = [], []
    for _ in range(n):
        word = unique_word()
        c = await make_customer(client, name=f"Gammal {word}", email=f"{word}@example.se")
        assert (await client.delete(f"/api/customers/{c['id']}")).status_code == 200
        ids.append(int(c["id"]))
        words.append(word)
    marks = ", ".join("{}" for _ in ids)
    await raw(f"UPDATE customer SET deleted_at = {{}} WHERE id IN ({marks})",
              utcnow() - timedelta(days=400), *ids)
    return ids, words


async def test_a_record_edited_during_a_sweep_is_found_by_the_next_search(admin_client, tenant, monkeypatch):
    from plugins.customers.tables import Customer

    due_ids, due_words = await _deleted_long_ago(admin_client, 3)
    assert await _customer_terms(due_ids) > 0
    old, new_name, new_mail = unique_word(), unique_word(), unique_word()
    kept = await make_customer(admin_client, name=f"Kvar {old}", email=f"{old}@example.se")

    reindexed: list[tuple[str, list[int]]] = []
    original_reindex = gs._reindex_rows

    async def spy_reindex(reg: Any, tbl: str, ids: list[int]) -> int:
        reindexed.append((tbl, list(ids)))
        return await original_reindex(reg, tbl, ids)

    monkeypatch.setattr(gs, "_reindex_rows", spy_reindex)
    original_after = engine._after_claim
    original_atomic = engine.atomic
    calls = {"after": 0, "atomic": 0}

    async def after_claim(*args: Any, **kw: Any) -> int:
        calls["after"] += 1
        if calls["after"] == 1:
            # An edit inside a sweep batch's transaction: commits with the batch.
            await Customer.update({Customer.name: f"Ny {new_name}"}).where(Customer.id == kept["id"])
        return await original_after(*args, **kw)

    def atomic_between(*args: Any, **kw: Any) -> Any:
        if calls["after"] == 1 and not calls["atomic"]:
            calls["atomic"] += 1
            # Between two batches, outside any transaction (autocommit); the next batch's
            # transaction starts right after.
            return _edit_then(original_atomic(*args, **kw))
        return original_atomic(*args, **kw)

    @asynccontextmanager
    async def _edit_then(inner: Any) -> AsyncIterator[None]:
        await Customer.update({Customer.email: f"{new_mail}@example.se"}).where(Customer.id == kept["id"])
        async with inner:
            yield

    monkeypatch.setattr(engine, "_after_claim", after_claim)
    monkeypatch.setattr(engine, "atomic", atomic_between)
    results = await engine.sweep(tenant.id, "customers", batch_size=1, overrides=DUE, rules=["customers"])
    assert sum(r.records for r in results) == 3 and calls["after"] >= 3 and calls["atomic"] == 1

    # The next search finds the edited record by its new values, and not by the old ones.
    assert ("customers", "name", kept["id"]) in places(await search(admin_client, new_name))
    assert ("customers", "email", kept["id"]) in places(await search(admin_client, f"{new_mail}@example.se"))
    assert not [p for p in places(await search(admin_client, old)) if p[2] == kept["id"]]
    # The anonymized records have no terms and are found by nothing they held.
    assert await _customer_terms(due_ids) == 0
    for word in due_words:
        assert not [p for p in places(await search(admin_client, word)) if p[0] == "customers"], word
    # ... and were never noted and re-read: their terms went in the anonymizing statement.
    swept = {i for tbl, ids in reindexed if tbl == "customer" for i in ids}
    assert not swept & set(due_ids)
    assert kept["id"] in swept
    assert (await gs.check(tenant.id))["ok"]


async def test_every_path_that_marks_a_row_anonymized_removes_its_terms(admin_client, tenant):
    """A plugin's own code (the portal's account anonymization) sets ``anonymized_at``
    directly; the row's terms go too, and a row un-marked is indexed again."""
    word = unique_word()
    c = await make_customer(admin_client, name=f"Direkt {word}")
    assert await _customer_terms([c["id"]]) > 0
    async with atomic():
        await raw("UPDATE customer SET anonymized_at = {} WHERE id = {}", utcnow(), c["id"])
    assert await _customer_terms([c["id"]]) == 0
    assert not places(await search(admin_client, word))
    # Later writes to an anonymized row add nothing.
    async with atomic():
        await raw("UPDATE customer SET name = {} WHERE id = {}", f"Igen {word}", c["id"])
    assert await _customer_terms([c["id"]]) == 0
    assert not await _noted(c["id"])
    async with atomic():
        await raw("UPDATE customer SET anonymized_at = NULL WHERE id = {}", c["id"])
    assert ("customers", "name", c["id"]) in places(await search(admin_client, word))
    assert (await gs.check(tenant.id))["ok"]


async def test_immediate_erasure_paths_leave_no_terms(admin_client, tenant):
    word = unique_word()
    c = await make_customer(admin_client, name=f"Strax {word}", email=f"{word}@example.se")
    r = await admin_client.put("/api/customers/settings", json=[{"key": "customers", "mode": "immediately"}])
    assert r.status_code == 200, r.text
    assert (await admin_client.delete(f"/api/customers/{c['id']}")).status_code == 200
    assert await _customer_terms([c["id"]]) == 0
    assert (await gs.check(tenant.id))["ok"]


async def test_a_flush_claims_then_reads_the_claimed_tables_in_one_statement(admin_client, tenant):
    """PostgreSQL: the notes come in one statement, the noted rows' values of every table
    they name in one more (in the claim's own when the tables are those of this process's
    last claim), and all the terms go in a third (not one per table). A row
    deleted since its note, and one anonymized, come back with no values and end with no
    terms; both engines index the same."""
    from core.db import count_queries
    from plugins.customers.tables import ContactPerson, Customer

    first, second, gone, hidden = (unique_word() for _ in range(4))
    async with atomic():
        rows = await Customer.insert(
            Customer(tenant_id=tenant.id, number=910_001, name=f"Ett {first}", email=f"{first}@example.se"),
            Customer(tenant_id=tenant.id, number=910_002, name=f"Borta {gone}"),
            Customer(tenant_id=tenant.id, number=910_003, name=f"Dold {hidden}"),
        ).returning(Customer.id)
        kept, deleted, anonymized = (int(r["id"]) for r in rows)
        await ContactPerson.insert(
            ContactPerson(tenant_id=tenant.id, customer_id=kept, name=f"Två {second}", mobile_phone="070-123 45 67")
        )
        await raw("DELETE FROM customer WHERE id = {}", deleted)
        await raw("UPDATE customer SET anonymized_at = {} WHERE id = {}", utcnow(), anonymized)
        with count_queries() as counted:
            done = await gs.flush()
        assert done >= 3
        if not is_sqlite():
            assert counted[0] <= 3
    # The next write to the same tables: the claim reads their rows itself (the tables of
    # this process's last claim), so the flush is two statements.
    async with atomic():
        await raw("UPDATE customer SET name = {} WHERE id = {}", f"Ett {first} Igen", kept)
        await raw("UPDATE contact_person SET name = {} WHERE customer_id = {}", f"Två {second} Igen", kept)
        with count_queries() as counted:
            assert await gs.flush() == 2
        if not is_sqlite():
            assert counted[0] == 2
    assert ("customers", "name", kept) in places(await search(admin_client, first))
    assert ("customers", "email", kept) in places(await search(admin_client, f"{first}@example.se"))
    assert [p for p in places(await search(admin_client, second)) if p[0] == "customers"]
    assert await _customer_terms([kept]) > 0
    assert await _customer_terms([deleted, anonymized]) == 0
    assert not places(await search(admin_client, gone)) and not places(await search(admin_client, hidden))
    assert (await gs.check(tenant.id))["ok"]


async def test_flush_takes_notes_in_bounded_chunks(admin_client, tenant, monkeypatch):
    from plugins.customers.tables import Customer

    words = [unique_word() for _ in range(9)]
    sizes: list[int] = []
    original = gs._claim_dirty

    afters: list[int] = []

    async def claim(limit: int, after: int = 0) -> list[dict[str, Any]]:
        rows = await original(limit, after)
        sizes.append(len(rows))
        afters.append(after)
        return rows

    monkeypatch.setattr(gs, "_claim_dirty", claim)
    async with atomic():
        for i, word in enumerate(words):
            await Customer.insert(Customer(tenant_id=tenant.id, number=900_000 + i, name=f"Bulk {word}"))
        done = await gs.flush(chunk=4)
        starts = list(afters)  # this flush's chunks (the commit flushes again, from 0)
    assert done >= len(words)
    assert sizes and max(sizes) <= 4 and sum(sizes) >= len(words)
    # Each chunk starts after the last one (keyset): no chunk steps over the notes before it.
    assert len(starts) >= 3 and starts[0] == 0 and starts == sorted(set(starts))
    for word in words:
        assert [p for p in places(await search(admin_client, word)) if p[0] == "customers"], word
    assert (await gs.check(tenant.id))["ok"]


async def test_deleting_rows_removes_their_terms_without_notes(admin_client, tenant):
    word = unique_word()
    c = await make_customer(admin_client, name=f"Radera {word}")
    async with atomic():
        await raw("DELETE FROM customer WHERE id = {}", c["id"])
        assert not await _noted(c["id"])
        assert await _customer_terms([c["id"]]) == 0
    assert (await gs.check(tenant.id))["ok"]


async def test_start_up_replaces_the_triggers_of_an_earlier_version(admin_client, tenant):
    """A database indexed by an earlier version (PostgreSQL: row-level triggers calling
    gallra_search_mark(); SQLite: triggers noting anonymized rows too) is upgraded by
    ensure_index, and the index keeps working."""
    tbl = "customer"
    async with as_owner():
        if is_sqlite():
            await raw(f'DROP TRIGGER IF EXISTS "gallra_search_{tbl}_upd"')
            await raw(f'DROP TRIGGER IF EXISTS "gallra_search_{tbl}_anon"')
            await raw(
                f'CREATE TRIGGER "gallra_search_{tbl}_upd" AFTER UPDATE OF name ON {tbl} FOR EACH ROW '
                f"BEGIN INSERT INTO gdpr_search_dirty (tbl, record_id) VALUES ('{tbl}', NEW.id); END"
            )
        else:
            await raw(
                "CREATE OR REPLACE FUNCTION gallra_search_mark() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN IF TG_OP = 'DELETE' THEN INSERT INTO gdpr_search_dirty (tbl, record_id) "
                "VALUES (TG_TABLE_NAME, OLD.id); ELSE INSERT INTO gdpr_search_dirty (tbl, record_id) "
                "VALUES (TG_TABLE_NAME, NEW.id); END IF; RETURN NULL; END $$"
            )
            for op in ("ins", "upd", "del"):
                await raw(f'DROP TRIGGER IF EXISTS "gallra_search_{tbl}_{op}" ON {tbl}')
            await raw(f'CREATE TRIGGER "gallra_search_{tbl}_ins" AFTER INSERT OR DELETE ON {tbl} '
                      "FOR EACH ROW EXECUTE FUNCTION gallra_search_mark()")
            await raw(f'CREATE TRIGGER "gallra_search_{tbl}_upd" AFTER UPDATE OF name ON {tbl} '
                      "FOR EACH ROW EXECUTE FUNCTION gallra_search_mark()")
    assert not (await gs.check(tenant.id))["ok"]  # a trigger is missing
    await gs.ensure_index()
    if is_sqlite():
        rows = await raw("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = {}", tbl)
        sql = {r["name"]: r["sql"] for r in rows}
        assert "WHEN NEW.anonymized_at IS NULL" in sql[f"gallra_search_{tbl}_upd"]
        assert f"gallra_search_{tbl}_anon" in sql
    else:
        rows = await raw(
            "SELECT tgname, tgtype FROM pg_trigger WHERE tgrelid = {}::regclass AND NOT tgisinternal", tbl
        )
        mine = {r["tgname"]: int(r["tgtype"]) for r in rows if r["tgname"].startswith("gallra_search_")}
        assert set(mine) == {f"gallra_search_{tbl}_{op}" for op in ("ins", "upd", "del")}
        assert not any(t & 1 for t in mine.values())  # none per row
    word = unique_word()
    c = await make_customer(admin_client, name=f"Uppgraderad {word}")
    assert ("customers", "name", c["id"]) in places(await search(admin_client, word))
    async with atomic():
        await raw("UPDATE customer SET anonymized_at = {} WHERE id = {}", utcnow(), c["id"])
    assert await _customer_terms([c["id"]]) == 0
    assert (await gs.check(tenant.id))["ok"]


async def _bulk_insert(tenant_id: int, words: list[str], number: int) -> None:
    from plugins.customers.tables import Customer

    async with atomic():
        await Customer.insert(
            *[Customer(tenant_id=tenant_id, number=number + i, name=f"Bulk {w}") for i, w in enumerate(words)]
        )


async def _notes() -> int:
    return int((await raw("SELECT COUNT(*) AS n FROM gdpr_search_dirty"))[0]["n"])


async def test_a_bulk_write_leaves_the_rest_to_the_background_and_a_search_catches_up_first(
    admin_client, tenant, stub_broker, monkeypatch
):
    from core import worker as worker_module

    monkeypatch.setattr(gs, "FLUSH_CHUNK", 4)
    monkeypatch.setattr(gs, "BULK_NOTES", 5)
    sent: list[str] = []
    monkeypatch.setattr(worker_module, "enqueue", lambda name, *a, **kw: sent.append(name))
    # A small write is indexed in its own transaction, as always.
    small = unique_word()
    await _bulk_insert(tenant.id, [small], 800_000)
    assert await _notes() == 0 and not sent

    # A bulk write commits with one chunk indexed; the rest waits for the background task.
    words = [unique_word() for _ in range(12)]
    await _bulk_insert(tenant.id, words, 800_100)
    assert sent == [gs.INDEX_TASK]
    assert await _notes() == 12 - 4
    # A search before the task ran catches up first: it finds the last row written.
    assert [p for p in places(await search(admin_client, words[-1])) if p[0] == "customers"]
    assert await _notes() == 0
    for word in [*words, small]:
        assert [p for p in places(await search(admin_client, word)) if p[0] == "customers"], word
    assert (await gs.check(tenant.id))["ok"]


async def test_the_worker_indexes_a_bulk_write_in_bounded_rounds(admin_client, tenant, worker, monkeypatch):
    from core.worker import task_names

    assert gs.INDEX_TASK in task_names()
    monkeypatch.setattr(gs, "FLUSH_CHUNK", 2)
    monkeypatch.setattr(gs, "BULK_NOTES", 3)
    rounds: list[tuple[int, int]] = []
    original_round = gs._flush_round

    async def spy_round(reg: Any, chunk: int, last: int) -> tuple[int, int]:
        out = await original_round(reg, chunk, last)
        rounds.append((out[0], await _notes()))
        return out

    monkeypatch.setattr(gs, "_flush_round", spy_round)
    words = [unique_word() for _ in range(9)]
    await _bulk_insert(tenant.id, words, 800_300)
    worker.drain()
    assert await _notes() == 0
    # The commit indexed one chunk, the task the rest: at most a chunk (two notes) a round.
    # (Another process on the same database, such as a server a page test left running in
    # this test worker, may claim some notes too, with SKIP LOCKED; then this process's
    # rounds add up to fewer than nine, but every round is still bounded.)
    assert len(rounds) >= 2 and max(n for n, _ in rounds) <= 2
    left = [n for _, n in rounds]
    assert left == sorted(left, reverse=True)
    for word in words:
        assert [p for p in places(await search(admin_client, word)) if p[0] == "customers"], word
    assert (await gs.check(tenant.id))["ok"]


@pytest.mark.pg
async def test_statement_triggers_note_only_rows_whose_watched_columns_changed(admin_client, tenant):
    word = unique_word()
    c = await make_customer(admin_client, name=f"Samma {word}")
    async with atomic():
        # A column no search source declares: no note.
        await raw("UPDATE customer SET created_at = created_at WHERE id = {}", c["id"])
        assert not await _noted(c["id"])
        await raw("UPDATE customer SET name = {} WHERE id = {}", f"Annan {word}", c["id"])
        assert await _noted(c["id"])
    assert ("customers", "name", c["id"]) in places(await search(admin_client, word))


@pytest.mark.pg
async def test_the_search_plans_for_its_own_arguments_and_only_within_its_transaction(admin_client, tenant):
    """core.db.custom_plans: the search's statements are planned for the tenant and record
    type they ask about (a generic plan read the whole activity table to learn that a type
    had none), and the setting ends with the transaction, so no pooled connection keeps it."""
    from core.db import custom_plans, snapshot

    async with snapshot():
        before = (await raw("SELECT current_setting('plan_cache_mode') AS m"))[0]["m"]
        await custom_plans()
        inside = (await raw("SELECT current_setting('plan_cache_mode') AS m"))[0]["m"]
    async with snapshot():
        after = (await raw("SELECT current_setting('plan_cache_mode') AS m"))[0]["m"]
    assert (before, inside, after) == ("auto", "force_custom_plan", "auto")
    # Only words are planned so: an e-mail address or a number matches a few records.
    for query, mode in (("someone@example.se", "auto"), ("070-123 45 67", "auto"), ("anna", "force_custom_plan")):
        async with snapshot():
            await gs.search(tenant.id, query, viewer=gs.EVERY_RECORD)
            assert (await raw("SELECT current_setting('plan_cache_mode') AS m"))[0]["m"] == mode, query


async def _terms_of(tbl: str, record_id: int) -> set[tuple[int, str, str, int]]:
    rows = await raw(
        "SELECT t.tenant_id, t.kind, t.term, t.field_id FROM gdpr_search_term t "
        "JOIN gdpr_search_field f ON f.id = t.field_id WHERE f.tbl = {} AND t.record_id = {}",
        tbl, record_id,
    )
    return {(int(r["tenant_id"]), r["kind"], r["term"], int(r["field_id"])) for r in rows}


@pytest.mark.pg
async def test_a_create_writes_its_terms_in_its_own_statement_as_the_flush_would(
    admin_client, tenant, monkeypatch
):
    """PostgreSQL: a record's create writes its own and its "created" event's search terms
    in the statement that inserts them (core.gdpr.search.new_rows_terms), so the commit
    claims nothing: BEGIN, that one statement, COMMIT. The terms are exactly those the
    flush writes for the stored rows, no note is left, and the quiet setting lasts for
    that statement only."""
    from tests.support import record_simple_statements

    sent = record_simple_statements(monkeypatch)
    fetched = record_simple_statements(monkeypatch, "fetch")
    word, other = unique_word(), unique_word()
    fields = {
        "name": f"Själv {word} Indexerad", "email": f"{word}@example.se", "mobile_phone": "070-765 43 21",
        "national_id": "19121212-1212", "kind": "private", "notes": f"Ring {other}.",
        "postal_street": "Storgatan 1", "postal_city": "Ystad",
    }
    for _ in range(2):  # the first may load the index's fields
        await gs.flush_pending()  # no notes waiting that the create's commit would claim
        sent.clear()
        fetched.clear()
        c = await make_customer(admin_client, **fields)
    # (a connection another tenant's statement used last is set back first: not the create's)
    assert [s.split()[0].rstrip(";") for s in sent if not s.startswith("SELECT set_config")] == ["BEGIN", "COMMIT"]
    writes = [f for f in fetched if "gdpr_search_term" in f or "gdpr_search_dirty" in f]
    assert len(writes) == 1 and writes[0].startswith("WITH gallra_new_row"), fetched
    assert not await _noted(c["id"])
    event = (await raw(
        "SELECT id FROM event_log WHERE record_type = 'customer' AND record_id = {} AND action = 'customer.created'",
        c["id"],
    ))[0]["id"]
    assert not await raw("SELECT id FROM gdpr_search_dirty WHERE tbl = 'event_log' AND record_id = {}", event)
    own = {tbl: await _terms_of(tbl, rid) for tbl, rid in (("customer", c["id"]), ("event_log", event))}
    assert {("w", word.lower()), ("w", other.lower()), ("e", f"{word.lower()}@example.se"), ("p", "46707654321")} <= {
        (k, t) for _, k, t, _ in own["customer"]
    }
    assert own["event_log"]  # the employee who created it
    # What the flush writes for the same rows, from the table.
    reg = gs.registry()
    async with atomic():
        await gs._reindex_rows(reg, "customer", [c["id"]])
        await gs._reindex_rows(reg, "event_log", [event])
    assert {tbl: await _terms_of(tbl, rid) for tbl, rid in (("customer", c["id"]), ("event_log", event))} == own
    assert ("customers", "name", c["id"]) in places(await search(admin_client, word))
    assert ("customers", "notes", c["id"]) in places(await search(admin_client, other))


@pytest.mark.pg
async def test_the_quiet_of_a_self_indexing_insert_ends_with_its_statement(admin_client, tenant):
    """The insert trigger takes its table back off the quiet setting: a later write to the
    same table in the same transaction is noted and indexed at commit as usual."""
    from core.db import may_have_noted
    from plugins.customers.services import CUSTOMERS as service

    first, second = unique_word(), unique_word()
    await gs.flush_pending()  # no notes waiting that the create's commit would claim
    async with atomic():
        row = await service.create(tenant.id, {"name": f"Först {first}", "kind": "company"})
        assert not may_have_noted()
        setting = (await raw(f"SELECT current_setting('{gs.SELF_INDEXED_SETTING}', true) AS s"))[0]["s"]
        assert (setting or "").strip() == ""
        assert not may_have_noted()  # a SELECT only reads
        await raw("UPDATE customer SET name = {} WHERE id = {}", f"Sedan {second}", row["id"])
        assert may_have_noted()
        assert await _noted(row["id"])
    assert not await _noted(row["id"])
    assert ("customers", "name", row["id"]) in places(await search(admin_client, second))
    assert not places(await search(admin_client, first))


@pytest.mark.pg
async def test_only_a_plain_select_leaves_a_transaction_without_notes(tenant):
    from core.db import may_have_noted

    for sql, noted in (
        ("SELECT id FROM customer WHERE tenant_id = {}", False),
        ("SELECT id FROM customer WHERE tenant_id = {} FOR UPDATE", True),
        ("UPDATE customer SET name = name WHERE tenant_id = {}", True),
        ("WITH x AS (SELECT 1) SELECT id FROM customer WHERE tenant_id = {}", True),
        ("DELETE FROM gdpr_search_dirty WHERE id < 0 AND {} > 0", True),
    ):
        async with atomic():
            assert not may_have_noted()
            await raw(sql, tenant.id)
            assert may_have_noted() is noted, sql
    assert may_have_noted()  # outside a transaction nothing is known


@pytest.mark.pg
async def test_a_self_indexing_create_still_indexes_notes_others_left(admin_client, tenant):
    """A write outside any transaction leaves a note; the next create's commit claims and
    indexes it, as every commit did before creates indexed themselves."""
    from core.db import may_have_noted
    from plugins.customers.services import CUSTOMERS

    old, new = unique_word(), unique_word()
    c = await make_customer(admin_client, name=f"Före {old}")
    await raw("UPDATE customer SET name = {} WHERE id = {}", f"Efter {new}", c["id"])  # no transaction
    assert await _noted(c["id"])
    async with atomic():
        await CUSTOMERS.create(tenant.id, {"name": f"Ny {unique_word()}", "kind": "company"})
        assert may_have_noted()  # the INSERT saw the waiting note
    assert not await _noted(c["id"])
    assert await _terms_of("customer", c["id"]) and ("w", new.lower()) in {
        (k, t) for _, k, t, _ in await _terms_of("customer", c["id"])
    }
    assert ("w", old.lower()) not in {(k, t) for _, k, t, _ in await _terms_of("customer", c["id"])}


@pytest.mark.pg
async def test_an_insert_under_quiet_is_still_noted(admin_client, tenant):
    """quiet(tbl) stops the update trigger only: a row inserted inside it is noted and
    indexed at commit (the self-indexing create has a setting of its own)."""
    from plugins.customers.tables import Customer

    word = unique_word()
    async with atomic():
        async with gs.quiet("customer"):
            rows = await Customer.insert(
                Customer(tenant_id=tenant.id, number=920_001, name=f"Tyst {word}")
            ).returning(Customer.id)
        assert await _noted(int(rows[0]["id"]))
    assert ("customers", "name", int(rows[0]["id"])) in places(await search(admin_client, word))
