"""Person search: every format finds the stored value, every place is searched, tenants are
apart, anonymization empties the index, and the index always matches the data."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from core.db import atomic, raw
from core.gdpr import search as gs
from core.gdpr.search import parse_query, terms_for
from core.testing.client import AppClient
from core.validation import luhn_ok
from tests.support import login


def with_check_digit(nine: str) -> str:
    for digit in "0123456789":
        if luhn_ok(nine + digit):
            return nine + digit
    raise AssertionError("unreachable")


PNR10 = with_check_digit("850709123")  # born 1985-07-09
PNR = f"19{PNR10[:6]}-{PNR10[6:]}"
OLD10 = with_check_digit("120304567")  # born 1912-03-04: "+" form
OLD = f"19{OLD10[:6]}-{OLD10[6:]}"
ORG10 = with_check_digit("556016068")
ORG = f"{ORG10[:6]}-{ORG10[6:]}"


def unique_word(prefix: str = "Zq") -> str:
    return prefix + uuid.uuid4().hex[:8].translate(str.maketrans("0123456789", "ghijklmnop"))


async def make_customer(client: AppClient, **fields: Any) -> dict:
    body = {"name": "Acme AB", "kind": "company", **fields}
    r = await client.post("/api/customers/", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def search(client: AppClient, q: str, **params: Any) -> dict:
    r = await client.get("/api/gdpr/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return r.json()


def places(result: dict) -> set[tuple[str, str, int]]:
    """(module, field, record_id) of every hit."""
    return {(g["module"], h["field"], h["record_id"]) for g in result["groups"] for h in g["hits"]}


# --- normalization ----------------------------------------------------------------------


def test_query_kinds() -> None:
    assert parse_query("Anna.Svensson@Example.SE").kind == "email"
    assert parse_query("070-123 45 67").kind == "phone"
    assert parse_query(PNR10).kind == "national_id"
    assert parse_query("svens").kind == "text"
    assert parse_query("127.0.0.1").kind == "ip"
    with pytest.raises(gs.SearchError):
        parse_query("   ")
    with pytest.raises(gs.SearchError):
        parse_query("x" * 201)
    with pytest.raises(gs.SearchError):
        parse_query("-- !!")


def test_terms_keep_swedish_letters_apart() -> None:
    assert ("w", "åsa") in terms_for("name", "Åsa Öberg")
    assert ("w", "öberg") in terms_for("name", "Åsa Öberg")
    assert ("w", "asa") not in terms_for("name", "Åsa Öberg")
    # "a" prefix must not find "å" words: å sorts after z, outside the range of "a".
    lk = parse_query("as").alternatives[0][0]
    assert not (lk.term <= "åsa" < gs._upper(lk.term))


@pytest.mark.parametrize(
    "written", ["070-123 45 67", "+46 70 123 45 67", "0046701234567", "46701234567", "0701234567"]
)
def test_every_phone_form_normalizes_alike(written: str) -> None:
    assert (gs.Lookup("p", "46701234567"),) in parse_query(written).alternatives


def test_ten_digits_that_are_both_an_identity_and_a_phone_number_search_both() -> None:
    ten = with_check_digit("070123456")  # 2007-01-23, and a mobile number 070-123 45 6x
    alts = parse_query(ten).alternatives
    assert (gs.Lookup("n", "20" + ten),) in alts
    assert (gs.Lookup("p", "46" + ten[1:]),) in alts


# --- end to end ---------------------------------------------------------------------------


async def test_every_format_finds_the_stored_values(admin_client, tenant):
    word = unique_word("Svens")
    person = await make_customer(
        admin_client, name=f"Anna {word}", kind="private", national_id=PNR,
        email=f"Anna.{word}@Example.SE", mobile_phone="070-123 45 67",
        postal_street="Storgatan 12", postal_city="Västerås",
    )
    old = await make_customer(
        admin_client, name="Gammal Person", kind="private", national_id=f"{OLD10[:6]}+{OLD10[6:]}"
    )
    company = await make_customer(admin_client, name="Bolaget AB", org_number=ORG)
    pid = person["id"]
    email = f"anna.{word.lower()}@example.se"
    for q in (email, email.upper(), f"anna.{word.lower()}@exa", "example.se", "@example.se", "Exampl"):
        assert ("customers", "email", pid) in places(await search(admin_client, q)), q
    for q in ("070-123 45 67", "+46 70 123 45 67", "0046701234567", "46701234567"):
        assert ("customers", "mobile_phone", pid) in places(await search(admin_client, q)), q
    for q in (PNR, PNR.replace("-", ""), PNR10, f"{PNR10[:6]}-{PNR10[6:]}"):
        assert ("customers", "national_id", pid) in places(await search(admin_client, q)), q
    for q in (OLD, OLD.replace("-", ""), f"{OLD10[:6]}+{OLD10[6:]}"):
        assert ("customers", "national_id", old["id"]) in places(await search(admin_client, q)), q
    for q in (ORG, ORG10):
        assert ("customers", "org_number", company["id"]) in places(await search(admin_client, q)), q
    # Names and addresses by word prefix, any case; å, ä, ö are letters of their own.
    prefix = word[:7].lower()
    assert ("customers", "name", pid) in places(await search(admin_client, prefix))
    assert ("customers", "name", pid) in places(await search(admin_client, f"ANNA {prefix}"))
    assert ("customers", "postal_city", pid) in places(await search(admin_client, "väster"))
    assert ("customers", "postal_city", pid) not in places(await search(admin_client, "vaster"))
    assert ("customers", "postal_street", pid) in places(await search(admin_client, "storgatan 1"))
    # Two words must both be in the record: "Anna" and another customer's word finds neither.
    assert ("customers", "name", pid) not in places(await search(admin_client, f"Bolaget {prefix}"))


async def test_hits_carry_number_status_value_and_link(admin_client, tenant):
    word = unique_word()
    c = await make_customer(admin_client, name=f"Hitta {word}", kind="private")
    result = await search(admin_client, word)
    assert result["query_kind"] == "text" and result["total"] >= 1
    group = next(g for g in result["groups"] if g["module"] == "customers" and g["record_type"] == "customer")
    hit = next(h for h in group["hits"] if h["record_id"] == c["id"])
    assert hit == {
        "record_id": c["id"], "number": c["number"], "field": "name", "category": "name",
        "status": "active", "value": f"Hitta {word}", "link": f"/api/customers/{c['id']}",
    }
    assert group["area"] == "workcloud" and group["total"] == 1 and group["place"]
    # Deleted (rule off: not anonymized) shows as deleted.
    r = await admin_client.put("/api/customers/settings", json=[{"key": "customers", "mode": "off"}])
    assert r.status_code == 200, r.text
    assert (await admin_client.delete(f"/api/customers/{c['id']}")).status_code == 200
    hits = [h for g in (await search(admin_client, word))["groups"] for h in g["hits"]]
    assert [h["status"] for h in hits if h["record_id"] == c["id"]] == ["deleted"]


async def test_groups_are_paged_with_their_totals(admin_client, tenant):
    word = unique_word()
    ids = [(await make_customer(admin_client, name=f"{word} {i}"))["id"] for i in range(5)]
    p1 = await search(admin_client, word, limit=2)
    g1 = next(g for g in p1["groups"] if g["record_type"] == "customer")
    assert g1["total"] == 5 and len(g1["hits"]) == 2
    seen = {h["record_id"] for h in g1["hits"]}
    for page in (2, 3):
        g = next(g for g in (await search(admin_client, word, limit=2, offset=(page - 1) * 2))["groups"]
                 if g["record_type"] == "customer")
        seen |= {h["record_id"] for h in g["hits"]}
    assert seen == set(ids)


async def test_another_tenants_identical_value_is_never_returned(app, admin_client, tenant, other_tenant):
    word = unique_word()
    mine = await make_customer(admin_client, name=f"Delad {word}", email=f"{word}@example.se")
    async with AppClient(app=app) as other:
        assert (await login(other, other_tenant)).status_code == 200
        theirs = await make_customer(other, name=f"Delad {word}", email=f"{word}@example.se")
        for q in (word, f"{word}@example.se"):
            assert {r for _, _, r in places(await search(other, q))} == {theirs["id"]}
    for q in (word, f"{word}@example.se"):
        assert {r for _, _, r in places(await search(admin_client, q))} == {mine["id"]}


async def test_immediate_anonymization_removes_the_values(admin_client, tenant):
    word = unique_word()
    c = await make_customer(admin_client, name=f"Borta {word}", kind="private", national_id=PNR,
                            email=f"{word}@example.se", mobile_phone="070-765 43 21")
    r = await admin_client.put("/api/customers/settings", json=[{"key": "customers", "mode": "immediately"}])
    assert r.status_code == 200, r.text
    assert (await admin_client.delete(f"/api/customers/{c['id']}")).status_code == 200
    for q in (word, f"{word}@example.se", "070-765 43 21", PNR):
        assert c["id"] not in {rid for m, _, rid in places(await search(admin_client, q)) if m == "customers"}, q
    rows = await raw("SELECT COUNT(*) AS n FROM gdpr_search_term WHERE tenant_id = {} AND term = {}",
                     tenant.id, word.lower())
    assert rows[0]["n"] == 0
    assert (await gs.check(tenant.id))["ok"]


async def test_index_follows_every_write_path(admin_client, tenant):
    from plugins.customers.tables import Customer

    word, word2, word3 = unique_word(), unique_word(), unique_word()
    c = await make_customer(admin_client, name=f"Först {word}")
    r = await admin_client.patch(f"/api/customers/{c['id']}", json={"name": f"Sedan {word2}"})
    assert r.status_code == 200, r.text
    assert not places(await search(admin_client, word))
    assert ("customers", "name", c["id"]) in places(await search(admin_client, word2))
    assert (await gs.check(tenant.id))["ok"]
    # A write outside any transaction (autocommit) is in the index before the next answer.
    await Customer.update({Customer.notes: f"Anteckning {word3}"}).where(Customer.id == c["id"])
    assert ("customers", "notes", c["id"]) in places(await search(admin_client, word3))
    # A transaction that rolls back leaves the index as it was.
    with pytest.raises(RuntimeError):
        async with atomic():
            await Customer.update({Customer.name: "Rullas Tillbaka"}).where(Customer.id == c["id"])
            raise RuntimeError("roll back")
    assert ("customers", "name", c["id"]) in places(await search(admin_client, word2))
    # Deleting rows removes their terms.
    await Customer.delete().where(Customer.id == c["id"])
    assert not places(await search(admin_client, word2))
    assert (await gs.check(tenant.id))["ok"]


async def test_every_text_place_of_every_module_is_searched(admin_client, tenant):
    """A value stored in every declared text place (of every installed plugin, including the
    core's) is found in every one, with the module disabled too."""
    from core.plugins import get_host

    assert (await admin_client.put("/api/modules/projects", json={"enabled": False})).status_code == 200
    reg = gs.registry(get_host())
    word = unique_word()
    expected: set[tuple[str, str]] = set()
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for s in reg.sources:
        if s.source.category not in ("name", "free_text", "address"):
            continue
        key = (s.source.table, s.source.where)
        values = rows.setdefault(key, {"tenant_id": tenant.id, **dict(s.source.where)})
        values[s.source.column] = f"Värde {word}"
        expected.add((s.owner, s.source.column))
    async with atomic():
        for (table, _), values in rows.items():
            # Columns unique per tenant (numbers, e-mail addresses, tokens) get fresh values.
            for col in table._meta.columns:
                name = col._meta.name
                if name in values or name == "id":
                    continue
                if name == "email":
                    values[name] = f"{uuid.uuid4().hex}@example.invalid"
                elif name == "number":
                    values[name] = 10_000_000 + uuid.uuid4().int % 10_000_000
                elif col._meta.unique:
                    values[name] = uuid.uuid4().hex
            await table.insert(table(**values))
    result = await search(admin_client, word, limit=200)
    found = {(g["module"], h["field"]) for g in result["groups"] for h in g["hits"]}
    assert expected <= found, expected - found
    assert "projects" in {m for m, _ in found}
    assert (await gs.check(tenant.id))["ok"]


async def test_permissions_and_bad_queries(app, admin_client, tenant):
    r = await admin_client.get("/api/gdpr/search", params={"q": ""})
    assert r.status_code == 400
    r = await admin_client.get("/api/gdpr/search", params={"q": "x" * 201})
    assert r.status_code == 400
    r = await admin_client.get("/api/gdpr/search", params={"q": "!!"})
    assert r.status_code == 400 and r.json()["field"] == "q"
    r = await admin_client.get("/api/gdpr/search", params={"q": "anna", "limit": 10_000})
    assert r.status_code == 400
    # the old paging words are not silently ignored (#18.9: one pagination shape)
    r = await admin_client.get("/api/gdpr/search", params={"q": "anna", "page_size": 10})
    assert r.status_code == 400 and "page_size" in r.text
    r = await admin_client.get("/api/gdpr/search")
    assert r.status_code == 400
    # A user without the GDPR permission is refused; the permission through a group opens it.
    r = await admin_client.post("/api/employees/", json={"name": "Ulla User", "email": "ulla@example.se",
                                                          "password": "a-long-password-1"})
    assert r.status_code == 201, r.text
    emp = r.json()
    async with AppClient(app=app) as anon:
        assert (await anon.get("/api/gdpr/search", params={"q": "anna"})).status_code == 401
        assert (await login(anon, tenant, email="ulla@example.se", password="a-long-password-1")).status_code == 200
        assert (await anon.get("/api/gdpr/search", params={"q": "anna"})).status_code == 403
        g = await admin_client.post("/api/groups/", json={"name": "GDPR", "permissions": ["gdpr"]})
        assert g.status_code == 201, g.text
        r = await admin_client.put(f"/api/groups/{g.json()['id']}/members", json={"employee_ids": [emp["id"]]})
        assert r.status_code == 200, r.text
        assert (await login(anon, tenant, email="ulla@example.se", password="a-long-password-1")).status_code == 200
        assert (await anon.get("/api/gdpr/search", params={"q": "anna"})).status_code == 200


async def test_each_search_is_in_the_event_log_without_the_value(admin_client, tenant):
    word = unique_word()
    await search(admin_client, word)
    rows = await raw("SELECT action, detail FROM event_log WHERE tenant_id = {} AND action = 'gdpr.search'", tenant.id)
    assert len(rows) == 1
    assert rows[0]["detail"] and word.lower() not in rows[0]["detail"].lower()
    from core.security import keyed_hash

    assert rows[0]["detail"] == keyed_hash(word.casefold())


async def test_rebuild_and_check(admin_client, tenant):
    word = unique_word()
    c = await make_customer(admin_client, name=f"Bygg {word}")
    await raw("DELETE FROM gdpr_search_term WHERE tenant_id = {}", tenant.id)
    report = await gs.check(tenant.id)
    assert not report["ok"] and report["differences"] >= 1
    assert all(set(d) == {"tbl", "col", "record_id", "missing", "extra"} for d in report["first"])
    await gs.rebuild(tenant.id)
    assert (await gs.check(tenant.id))["ok"]
    assert ("customers", "name", c["id"]) in places(await search(admin_client, word))


async def test_records_linked_to_a_found_customer_are_shown(admin_client, tenant):
    word = unique_word()
    c = await make_customer(admin_client, name=f"Länkad {word}")
    case = await admin_client.post("/api/cases/", json={"title": "Ärende utan namn", "customer_id": c["id"]})
    assert case.status_code == 201, case.text
    found = places(await search(admin_client, word))
    assert ("customers", "name", c["id"]) in found
    assert ("cases", "customer_id", case.json()["id"]) in found


async def test_find_answers_with_the_same_records_as_search(admin_client, tenant):
    """find() (the conformance kit's) collects like search(): direct and linked records
    alike, the same places, and at most ``cap`` of them, the newest first."""
    word = unique_word()
    older = await make_customer(admin_client, name=f"Äldre {word}")
    newer = await make_customer(admin_client, name=f"Nyare {word}")
    case = await admin_client.post("/api/cases/", json={"title": "Ärende utan namn", "customer_id": newer["id"]})
    assert case.status_code == 201, case.text
    in_search = places(await search(admin_client, word, limit=100))
    hits = await gs.find(tenant.id, word)
    in_find = {(h.plugin, h.column, h.record_id) for h in hits}
    assert in_find == in_search
    assert {("customers", "name", older["id"]), ("customers", "name", newer["id"]),
            ("cases", "customer_id", case.json()["id"])} <= in_find
    case_hit = next(h for h in hits if h.plugin == "cases")
    assert case_hit.table == "case_record" and case_hit.status == "active" and case_hit.link
    two_words = await gs.find(tenant.id, f"nyare {word}")
    assert {(h.plugin, h.record_id) for h in two_words if h.plugin == "customers"} == {("customers", newer["id"])}
    capped = await gs.find(tenant.id, word, cap=1)
    assert len(capped) == 1
    assert capped[0].record_id == max(h.record_id for h in hits)


async def test_what_is_linked_to_a_found_person_comes_in_one_statement_each(admin_client, tenant):
    """An exact search finding a customer adds the customer's children (contact persons,
    portal accounts, ...: every child link of every rule, once) in one statement, and the
    activity of every record type found in one more: the statements do not grow with the
    rules and record types the plugins declare (an e-mail search ran 23 of them, 12 of
    which asked the same few child tables again and again)."""
    from core.db import count_queries

    word = unique_word()
    email = f"{word.lower()}@example.se"
    c = await make_customer(admin_client, name=f"Länkad {word}", email=email)
    contact = await admin_client.post(f"/api/customers/{c['id']}/contacts", json={"name": "Kontakt Utan Namn"})
    assert contact.status_code == 201, contact.text
    case = await admin_client.post("/api/cases/", json={"title": "Ärende utan namn", "customer_id": c["id"]})
    assert case.status_code == 201, case.text
    for plugin, record_type, rid in (("customers", "customer", c["id"]), ("cases", "case", case.json()["id"])):
        body = {"kind": "comment", "body": "Ringt"}
        r = await admin_client.post(f"/api/activity/{plugin}/{record_type}/{rid}", json=body)
        assert r.status_code == 201, r.text
    await search(admin_client, email)  # the index is caught up and the plans are made
    with count_queries() as counted:
        answer = await gs.search(tenant.id, email, viewer=gs.EVERY_RECORD)
    found = {(g["module"], h["field"], h["record_id"]) for g in answer["groups"] for h in g["hits"]}
    assert ("customers", "email", c["id"]) in found
    assert ("cases", "customer_id", case.json()["id"]) in found
    assert any(m == "customers" and rid == contact.json()["id"] for m, _, rid in found)
    activity = [h for g in answer["groups"] if g["record_type"] == "activity" for h in g["hits"]]
    assert len(activity) == 2  # the comment on the customer and the one on its case
    tables = {"customer", "contact_person", "case_record", "activity"}
    # The index catch-up check, the direct matches, the people linked to the customer, the
    # customer's children, the activity, the cases' split by kind, and one read per table
    # shown.
    assert counted[0] <= 6 + len(tables), counted[0]


async def test_a_search_finding_many_records_says_their_activity_is_not_followed(
    admin_client, tenant, monkeypatch
):
    """The search page follows the activity of the records of a type only while it found at
    most MAX_LINKED_RECORDS of them (lowered here): past that the answer says ``truncated``,
    the page says why and what to search for instead, and find() (the conformance kit's,
    the export's way) still follows every record."""
    monkeypatch.setattr(gs, "MAX_LINKED_RECORDS", 2)
    word = unique_word()
    cases = []
    for i in range(3):
        r = await admin_client.post("/api/cases/", json={"title": f"Ärende {i}", "end_customer_name": f"Anna {word}"})
        assert r.status_code == 201, r.text
        cases.append(r.json()["id"])
    comments = []
    for rid in cases[:2]:
        r = await admin_client.post(f"/api/activity/cases/case/{rid}", json={"kind": "comment", "body": "Ringt"})
        assert r.status_code == 201, r.text
        comments.append(r.json()["id"])

    def activity_ids(answer: dict) -> set[int]:
        return {h["record_id"] for g in answer["groups"] if g["record_type"] == "activity" for h in g["hits"]}

    many = await search(admin_client, word, limit=50)
    assert {h["record_id"] for g in many["groups"] if g["module"] == "cases" for h in g["hits"]} == set(cases)
    assert many["truncated"] is True and activity_ids(many) == set()
    page = await admin_client.get("/settings/gdpr/search", params={"q": word})
    assert page.status_code == 200 and 'id="search-truncated"' in page.text
    assert "Sök på personens e-postadress" in page.text
    assert set(comments) <= {h.record_id for h in await gs.find(tenant.id, word) if h.table == "activity"}

    # Two records found: their activity is shown, and nothing is said.
    monkeypatch.setattr(gs, "MAX_LINKED_RECORDS", 3)
    few = await search(admin_client, word, limit=50)
    assert few["truncated"] is False and activity_ids(few) == set(comments)
    page = await admin_client.get("/settings/gdpr/search", params={"q": word})
    assert 'id="search-truncated"' not in page.text


async def test_many_records_of_a_type_without_any_activity_truncate_nothing(admin_client, tenant, monkeypatch):
    monkeypatch.setattr(gs, "MAX_LINKED_RECORDS", 1)
    word = unique_word()
    for i in range(3):
        r = await admin_client.post("/api/cases/", json={"title": f"Ärende {i}", "end_customer_name": f"Per {word}"})
        assert r.status_code == 201, r.text
    answer = await search(admin_client, word)
    assert answer["total"] == 3
    # No case of this tenant has any activity: nothing was left out.
    assert answer["truncated"] is False
