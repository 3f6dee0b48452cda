"""Large name-prefix answers (#19.3): a field matching many records is counted in the index
and paged in SQL (core.gdpr.search._countable), never read whole. The thresholds are lowered
here so a handful of records takes that path; every answer must equal the one of the path
that reads every match (COUNT_FROM out of reach), page by page."""

from __future__ import annotations

from typing import Any

import pytest

from core.db import snapshot
from core.gdpr import search as gs
from core.testing.client import AppClient
from tests.search.test_search import make_customer, search, unique_word
from tests.search.test_secrets import gdpr_employee, hits
from tests.support import login

N = 7


def customer_group(result: dict) -> dict:
    return next(g for g in result["groups"] if g["record_type"] == "customer" and g["hits"])


async def both_paths(
    client: AppClient, monkeypatch: pytest.MonkeyPatch, q: str, **params: Any
) -> dict:
    """The answer by counting (COUNT_FROM 3), asserted equal to the answer by reading."""
    monkeypatch.setattr(gs, "MAX_LINKED_SUBJECTS", 2)
    monkeypatch.setattr(gs, "COUNT_FROM", 10**9)
    read = await search(client, q, **params)
    monkeypatch.setattr(gs, "COUNT_FROM", 3)
    counted = await search(client, q, **params)
    assert counted == read
    return counted


async def test_a_large_prefix_answer_pages_like_reading_every_match(admin_client, tenant, monkeypatch):
    word = unique_word()
    ids = [(await make_customer(admin_client, name=f"{word}{i} Svensson"))["id"] for i in range(N)]
    prefix = word.lower()
    async with snapshot():
        monkeypatch.setattr(gs, "COUNT_FROM", 3)
        monkeypatch.setattr(gs, "MAX_LINKED_SUBJECTS", 2)
        reg = gs.registry()
        by_id = {fid: key for key, fid in (await gs.field_ids(reg)).items()}
        counted = await gs._countable(tenant.id, gs.parse_query(prefix), reg, by_id, gs.EVERY_RECORD)
    assert [(by_id[f], n) for f, n in counted.items()] == [(("customer", "name"), N)]
    seen: list[int] = []
    for offset in range(0, N + 3, 3):
        page = await both_paths(admin_client, monkeypatch, prefix, limit=3, offset=offset)
        g = customer_group(page) if offset < N else None
        if g is None:
            assert all(not x["hits"] for x in page["groups"] if x["record_type"] == "customer")
            continue
        assert g["total"] == N and g["capped"] is False and page["total_capped"] is False
        assert all(prefix in h["value"].lower() for h in g["hits"])
        seen.extend(h["record_id"] for h in g["hits"])
    # Newest first, every record exactly once across the pages.
    assert seen == sorted(ids, reverse=True)
    # A window that is not a whole page (offset not a multiple of limit).
    odd = await both_paths(admin_client, monkeypatch, prefix, limit=3, offset=2)
    assert [h["record_id"] for h in customer_group(odd)["hits"]] == sorted(ids, reverse=True)[2:5]


async def test_a_total_above_the_cap_is_reported_as_capped(admin_client, tenant, monkeypatch):
    word = unique_word()
    for i in range(N):
        await make_customer(admin_client, name=f"{word} {i}")
    monkeypatch.setattr(gs, "COUNT_FROM", 3)
    monkeypatch.setattr(gs, "MAX_LINKED_SUBJECTS", 2)
    monkeypatch.setattr(gs, "TOTAL_CAP", 5)
    r = await search(admin_client, word, limit=2)
    g = customer_group(r)
    assert (g["total"], g["capped"], len(g["hits"])) == (5, True, 2)
    assert r["total_capped"] is True
    page = await admin_client.get("/settings/gdpr/search", params={"q": word})
    assert page.status_code == 200 and "5+</span>" in page.text
    monkeypatch.setattr(gs, "TOTAL_CAP", N)
    g = customer_group(await search(admin_client, word, limit=2))
    assert (g["total"], g["capped"]) == (N, False)


async def test_records_the_searcher_may_not_open_are_not_counted(app, admin_client, tenant, monkeypatch):
    """A time report opens to its employee and administrators only: a place gated row by row
    is never counted from the index, so a GDPR employee who may not open them gets no match
    and no total for them, however many there are; an administrator gets them all."""
    word = unique_word()
    for i in range(N):
        r = await admin_client.post("/api/time/reports/", json={
            "employee_id": tenant.admin_id, "date": f"2026-03-0{i + 1}", "hours": "1", "customer_id": 0,
            "work_reference": "AO-1", "comment": f"Montage {word}"})
        assert r.status_code == 201, r.text
    monkeypatch.setattr(gs, "COUNT_FROM", 3)
    monkeypatch.setattr(gs, "MAX_LINKED_SUBJECTS", 2)
    admin = [g for g in (await search(admin_client, word, limit=2))["groups"] if g["record_type"] == "time_report"]
    assert [(g["total"], len(g["hits"])) for g in admin] == [(N, 2)]
    async with gdpr_employee(app, admin_client, tenant) as gdpr:
        r = await search(gdpr, word, limit=2)
        assert not [h for _, rt, h in hits(r) if rt == "time_report"]
        assert not [g for g in r["groups"] if g["record_type"] == "time_report"]
    # Nobody (no searcher) reads a gated record, even one any employee may open.
    async with snapshot():
        reg = gs.registry()
        by_id = {fid: key for key, fid in (await gs.field_ids(reg)).items()}
        assert await gs._countable(tenant.id, gs.parse_query(word), reg, by_id, None) == {}


async def test_another_tenants_matches_never_count(app, admin_client, tenant, other_tenant, monkeypatch):
    word = unique_word()
    mine = [(await make_customer(admin_client, name=f"{word} {i}"))["id"] for i in range(4)]
    async with AppClient(app=app) as other:
        assert (await login(other, other_tenant)).status_code == 200
        theirs = [(await make_customer(other, name=f"{word} {i}"))["id"] for i in range(N)]
        g = customer_group(await both_paths(other, monkeypatch, word, limit=20))
        assert g["total"] == N and {h["record_id"] for h in g["hits"]} == set(theirs)
    g = customer_group(await both_paths(admin_client, monkeypatch, word, limit=20))
    assert g["total"] == 4 and {h["record_id"] for h in g["hits"]} == set(mine)


async def test_what_is_linked_to_a_counted_place_is_found_as_when_read(admin_client, tenant, monkeypatch):
    """The activity attached to the records of a counted place is found (by the query as a
    subquery, no id list), and a case referring to one of many customers is not (as reading
    every match would not either: more than MAX_LINKED_SUBJECTS people found)."""
    word = unique_word()
    ids = [(await make_customer(admin_client, name=f"{word} {i}"))["id"] for i in range(N)]
    notes = []
    for cid in ids[:2]:
        r = await admin_client.post(
            f"/api/activity/customers/customer/{cid}/", json={"kind": "comment", "body": "Ringde om fakturan"}
        )
        assert r.status_code == 201, r.text
        notes.append(r.json()["id"])
    case = await admin_client.post("/api/cases/", json={"title": "Ärende utan namn", "customer_id": ids[0]})
    assert case.status_code == 201, case.text
    answer = await both_paths(admin_client, monkeypatch, word, limit=20)
    found = {(g["module"], g["record_type"], h["record_id"]) for g in answer["groups"] for h in g["hits"]}
    assert {r for m, rt, r in found if rt == "customer" and m == "customers"} == set(ids)
    assert not [r for m, rt, r in found if rt == "case"]
    assert {r for m, rt, r in found if (m, rt) == ("core", "activity")} == set(notes)


async def test_an_exact_query_past_the_scan_bound_is_read_whole(admin_client, tenant, monkeypatch):
    """The first scan (_direct_matches) stops at COUNT_FROM index entries. An answer cut there
    is never used: a query reaching the bound is counted, and an exact one (never counted)
    is read whole, every record found and counted."""
    import random

    phone = f"+46703{random.randrange(10**6):06d}"
    ids = [(await make_customer(admin_client, name=f"Kund {i}", mobile_phone=phone))["id"] for i in range(N)]
    monkeypatch.setattr(gs, "COUNT_FROM", 3)
    monkeypatch.setattr(gs, "MAX_LINKED_SUBJECTS", 2)
    async with snapshot():
        assert await gs._direct_matches(tenant.id, gs.parse_query(phone)) is None
    r = await search(admin_client, phone, limit=20)
    g = customer_group(r)
    assert g["total"] == N and [h["record_id"] for h in g["hits"]] == sorted(ids, reverse=True)
    monkeypatch.setattr(gs, "COUNT_FROM", 10**9)
    assert await search(admin_client, phone, limit=20) == r


async def test_the_activity_of_many_found_records_is_the_same_by_either_way(admin_client, tenant, monkeypatch):
    """From MANY_RECORDS found records of a type, the search first asks whether the type has
    any activity at all; the answer (cases with comments, customers without) is the one of
    looking every record up."""
    word = unique_word()
    case_ids = []
    for i in range(3):
        c = await make_customer(admin_client, name=f"{word}{i} Aktiv")
        case = await admin_client.post("/api/cases/", json={"title": f"{word}{i} ärende", "customer_id": c["id"]})
        assert case.status_code == 201, case.text
        case_ids.append(case.json()["id"])
    comment = await admin_client.post(
        f"/api/activity/cases/case/{case_ids[0]}", json={"kind": "comment", "body": "Ringde upp"}
    )
    assert comment.status_code == 201, comment.text
    monkeypatch.setattr(gs, "MAX_LINKED_SUBJECTS", 0)  # no links to persons: only activity
    monkeypatch.setattr(gs, "MANY_RECORDS", 10**9)
    one_by_one = await search(admin_client, word.lower(), limit=50)
    monkeypatch.setattr(gs, "MANY_RECORDS", 0)
    asked_first = await search(admin_client, word.lower(), limit=50)
    assert asked_first == one_by_one
    activity = [g for g in asked_first["groups"] if g["record_type"] == "activity"]
    assert [h["record_id"] for g in activity for h in g["hits"]] == [comment.json()["id"]]
