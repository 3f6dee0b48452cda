"""Data subjects' rights: the access export and erasure on request, with a plugin's veto."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.db import raw, utcnow
from core.gdpr import subjects
from core.gdpr.registry import get_declarations
from core.testing.client import AppClient
from tests.search.test_search import PNR, PNR10, make_customer, places, search, unique_word
from tests.support import login


async def person(client: AppClient) -> dict[str, Any]:
    """A private customer with a contact person, a case, an invoiced order and a log note,
    and an unrelated customer."""
    word = unique_word("Pers")
    email = f"{word.lower()}@example.se"
    c = await make_customer(client, name=f"Anna {word}", kind="private", national_id=PNR,
                            email=email, mobile_phone="070-111 22 33", notes=f"Ringer {word} ofta")
    contact = await client.post(f"/api/customers/{c['id']}/contacts", json={"name": f"Kontakt {word}"})
    assert contact.status_code == 201, contact.text
    case = await client.post("/api/cases/", json={"title": "Läckande kran", "customer_id": c["id"],
                                                   "end_customer_email": email})
    assert case.status_code == 201, case.text
    order = await client.post("/api/orders/", json={"title": "Material", "customer_id": c["id"],
                                                     "customer_reference": f"Anna {word}",
                                                     "lines": [{"description": "Rör", "unit_price": "100"}]})
    assert order.status_code == 201, order.text
    r = await client.post(f"/api/orders/{order.json()['id']}/invoice")
    assert r.status_code == 200, r.text
    other = await make_customer(client, name=f"Bertil {unique_word()}", kind="private",
                                email=f"{unique_word().lower()}@example.se")
    return {"word": word, "email": email, "customer": c, "case": case.json(), "order": order.json(),
            "contact": contact.json(), "other": other}


def records_of(document: dict) -> set[tuple[str, int]]:
    return {(r["table"], r["record_id"]) for r in document["records"]}


async def test_export_lists_every_field_of_the_person_and_nothing_of_others(admin_client, tenant):
    p = await person(admin_client)
    r = await admin_client.post("/api/gdpr/subjects/export", json={"emails": [p["email"].upper()]})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "done" and body["records"] == len(body["document"]["records"])
    recs = records_of(body["document"])
    assert ("customer", p["customer"]["id"]) in recs
    assert ("case_record", p["case"]["id"]) in recs
    assert ("sales_order", p["order"]["id"]) in recs
    assert ("contact_person", p["contact"]["id"]) in recs
    assert all(rid != p["other"]["id"] for t, rid in recs if t == "customer")
    # Every declared personal-data field of the customer table, with its value.
    cust = next(r for r in body["document"]["records"] if r["table"] == "customer")
    declared = {f.field.column for f in get_declarations().fields if f.table._meta.tablename == "customer"}
    assert {f["column"] for f in cust["fields"]} == declared
    values = {f["column"]: f["value"] for f in cust["fields"]}
    assert values["email"] == p["email"] and values["national_id"] == PNR
    assert values["mobile_phone"] == "+46701112233"
    # The other customer's values appear nowhere in the document.
    assert p["other"]["email"] not in r.text and p["other"]["name"] not in r.text
    # The readable page, escaped, and the same export by any other identifier.
    page = await admin_client.get(body["html_url"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert p["email"] in page.text and "<script" not in page.text
    for payload in ({"national_ids": [PNR10]}, {"phones": ["+46 70 111 22 33"]},
                    {"customer_numbers": [p["customer"]["number"]]}):
        other = await admin_client.post("/api/gdpr/subjects/export", json=payload)
        assert other.status_code == 201, other.text
        assert ("customer", p["customer"]["id"]) in records_of(other.json()["document"]), payload


async def test_large_exports_run_as_a_job_and_expire(admin_client, tenant, worker, monkeypatch):
    p = await person(admin_client)
    monkeypatch.setattr(subjects, "INLINE_LIMIT", 1)
    r = await admin_client.post("/api/gdpr/subjects/export", json={"emails": [p["email"]]})
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "pending" and r.json()["document"] is None
    url = r.json()["status_url"]
    assert (await admin_client.get(r.json()["html_url"])).status_code == 409
    worker.drain()
    done = await admin_client.get(url)
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert ("customer", p["customer"]["id"]) in records_of(done.json()["document"])
    # Seven days later the export is gone: the fixed retention rule deletes it.
    from core.gdpr.engine import sweep

    results = await sweep(tenant.id, "core", now=utcnow() + timedelta(days=8), rules=["core.subject_exports"])
    assert results[0].records >= 1
    assert (await admin_client.get(url)).status_code == 404
    assert not await raw("SELECT id FROM gdpr_subject_export WHERE id = {}", done.json()["id"])


async def test_erasure_preview_then_erase_with_veto(admin_client, tenant):
    p = await person(admin_client)
    body = {"emails": [p["email"]], "national_ids": [PNR]}
    preview = await admin_client.post("/api/gdpr/subjects/erase", json=body)
    assert preview.status_code == 200, preview.text
    plan = preview.json()
    assert plan["dry_run"] is True
    actions = {(r["table"], r["record_id"]): r["action"] for r in plan["records"]}
    assert actions[("customer", p["customer"]["id"])] == "anonymize"
    assert actions[("case_record", p["case"]["id"])] == "anonymize"
    vetoed = [v for v in plan["vetoed"] if v["record_id"] == p["order"]["id"]]
    assert vetoed and "bookkeeping" in vetoed[0]["reason"]
    assert plan["per_plugin"]["customers"]["anonymize"] >= 1
    # The preview changed nothing.
    assert ("customers", "email", p["customer"]["id"]) in places(await search(admin_client, p["email"]))

    body["dry_run"] = False
    done = await admin_client.post("/api/gdpr/subjects/erase", json=body)
    assert done.status_code == 200, done.text
    result = done.json()
    assert result["anonymized"] >= 3
    cust = (await admin_client.get(f"/api/customers/{p['customer']['id']}")).json()
    assert cust["anonymized_at"] is not None and p["word"] not in cust["name"]
    # The kept order is not anonymized, but its link to the person is cleared.
    order = (await admin_client.get(f"/api/orders/{p['order']['id']}")).json()
    assert order["anonymized_at"] is None and order["customer_id"] == 0
    # Searching again finds nothing of the person, except what the veto kept, and the audit says so.
    for q in (p["email"], PNR, "070-111 22 33"):
        assert not places(await search(admin_client, q)), q
    audit = result["audit"]
    kept = [r for r in result["remaining"]]
    if kept:
        assert audit["outcome"] == "remains"
        assert all(r["table"] == "sales_order" for r in kept)
        assert "bookkeeping" in audit["summary"]
    else:
        assert audit["outcome"] == "ok" and audit["summary"] == "nothing remains"
    runs = await raw("SELECT rule_key, trigger, outcome, error FROM gdpr_run WHERE id = {}", audit["run_id"])
    assert runs[0]["trigger"] == "erasure" and runs[0]["error"] == audit["summary"]
    assert p["email"] not in runs[0]["error"] and p["word"] not in runs[0]["error"]
    # The unrelated customer is untouched.
    other = (await admin_client.get(f"/api/customers/{p['other']['id']}")).json()
    assert other["anonymized_at"] is None and other["name"] == p["other"]["name"]


async def test_export_and_erasure_preview_name_places_in_the_users_language(admin_client, tenant):
    """Like person search: the places of the export (JSON and page) and of the erasure
    preview are named in the requesting user's language, Swedish or English."""
    p = await person(admin_client)
    body = {"emails": [p["email"]]}
    expected = {"sv": ("Kundregister", "Ärenden"), "en": ("Customer register", "Cases")}
    for language, (customer_place, case_place) in expected.items():
        await raw("UPDATE employee SET language = {} WHERE tenant_id = {}", language, tenant.id)
        r = await admin_client.post("/api/gdpr/subjects/export", json=body)
        assert r.status_code == 201, r.text
        document = r.json()["document"]
        assert document["language"] == language
        place = {(rec["table"], rec["record_id"]): rec["place"] for rec in document["records"]}
        assert place[("customer", p["customer"]["id"])] == customer_place
        assert place[("case_record", p["case"]["id"])] == case_place
        other = expected["en" if language == "sv" else "sv"]
        assert not set(other) & set(place.values())
        page = await admin_client.get(r.json()["html_url"])
        assert page.status_code == 200
        assert f"<html lang='{language}'>" in page.text
        assert customer_place in page.text and case_place in page.text
        assert other[0] not in page.text and other[1] not in page.text
        preview = await admin_client.post("/api/gdpr/subjects/erase", json=body)
        assert preview.status_code == 200, preview.text
        planned = {(rec["table"], rec["record_id"]): rec["place"] for rec in preview.json()["records"]}
        assert planned[("customer", p["customer"]["id"])] == customer_place
        assert planned[("case_record", p["case"]["id"])] == case_place
        # The route's answer follows the same language as search's groups.
        groups = (await search(admin_client, p["email"]))["groups"]
        assert customer_place in {g["place"] for g in groups}


async def test_bad_requests(app, admin_client, tenant, other_tenant):
    for body, field in (
        ({}, "identifiers"),
        ({"emails": ["not-an-email"]}, "emails[0]"),
        ({"phones": ["12"]}, "phones[0]"),
        ({"national_ids": ["19850709-1234"]}, "national_ids[0]"),
        ({"customer_numbers": [0]}, "customer_numbers[0]"),
    ):
        for path in ("/api/gdpr/subjects/export", "/api/gdpr/subjects/erase"):
            r = await admin_client.post(path, json=body)
            assert r.status_code == 400, (path, body, r.text)
            assert r.json().get("field") == field, r.json()
    r = await admin_client.post("/api/gdpr/subjects/export", json={"emails": ["a@example.se"] * 21})
    assert r.status_code == 400
    r = await admin_client.post("/api/gdpr/subjects/erase", json={"customer_numbers": [2**40]})
    assert r.status_code == 400
    r = await admin_client.post("/api/gdpr/subjects/export", json={"emails": ["a@example.se"], "x": 1})
    assert r.status_code == 400
    r = await admin_client.post(
        "/api/gdpr/subjects/export", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    mine = await admin_client.post("/api/gdpr/subjects/export", json={"emails": ["nobody@example.se"]})
    assert mine.status_code == 201 and mine.json()["records"] == 0
    async with AppClient(app=app) as other:
        assert (await login(other, other_tenant)).status_code == 200
        assert (await other.get(mine.json()["status_url"])).status_code == 404
        assert (await other.get(mine.json()["html_url"])).status_code == 404


async def test_hook_veto_erasure(admin_client, tenant):
    """The orders plugin keeps invoiced orders (bookkeeping) and nothing else."""
    from core.plugins import await_me_maybe, get_host

    c = await make_customer(admin_client, name="Veto Kund")
    made = []
    for invoice in (True, False):
        r = await admin_client.post("/api/orders/", json={"title": "O", "customer_id": c["id"],
                                                          "lines": [{"description": "x", "unit_price": "1"}]})
        assert r.status_code == 201, r.text
        if invoice:
            assert (await admin_client.post(f"/api/orders/{r.json()['id']}/invoice")).status_code == 200
        made.append(r.json()["id"])
    answers = get_host().call_plugin("orders", "veto_erasure", tenant_id=tenant.id, rule="orders", record_ids=made)
    merged: dict[int, str] = {}
    for a in answers:
        merged.update(await await_me_maybe(a) or {})
    assert set(merged) == {made[0]} and "bookkeeping" in merged[made[0]]
    # Another rule, or another tenant's ids: nothing kept.
    answers = get_host().call_plugin(
        "orders", "veto_erasure", tenant_id=tenant.id + 10_000, rule="orders", record_ids=made
    )
    for a in answers:
        assert not await await_me_maybe(a)


async def test_erasure_deletes_the_person_s_stored_exports(admin_client, tenant):
    """#17.5: a subject-access export does not outlive the erasure of its person; the
    preview lists it, the audit says so, and other people's exports stay."""
    p = await person(admin_client)
    mine = await admin_client.post("/api/gdpr/subjects/export", json={"emails": [p["email"]]})
    by_number = await admin_client.post("/api/gdpr/subjects/export",
                                        json={"customer_numbers": [p["customer"]["number"]]})
    theirs = await admin_client.post("/api/gdpr/subjects/export",
                                     json={"emails": [p["other"]["email"]]})
    for r in (mine, by_number, theirs):
        assert r.status_code == 201, r.text
    assert PNR in (await admin_client.get(mine.json()["html_url"])).text
    body = {"national_ids": [PNR]}  # other identifiers than the exports were asked with
    preview = await admin_client.post("/api/gdpr/subjects/erase", json=body)
    planned = {r["record_id"] for r in preview.json()["records"]
               if r["table"] == "gdpr_subject_export"}
    assert planned == {mine.json()["id"], by_number.json()["id"]}
    # A preview changes nothing.
    assert (await admin_client.get(mine.json()["status_url"])).status_code == 200
    done = await admin_client.post("/api/gdpr/subjects/erase", json={**body, "dry_run": False})
    assert done.status_code == 200, done.text
    assert "subject access exports deleted: 2" in done.json()["audit"]["summary"]
    for r in (mine, by_number):
        assert (await admin_client.get(r.json()["status_url"])).status_code == 404
        assert (await admin_client.get(r.json()["html_url"])).status_code == 404
        assert not await raw("SELECT id FROM gdpr_subject_export WHERE id = {}", r.json()["id"])
    assert (await admin_client.get(theirs.json()["status_url"])).status_code == 200


async def test_export_includes_the_person_s_logins_and_failed_logins(app, admin_client, tenant):
    """Article 15: the person's own login rows and failed logins (system log, M24) are in
    their export, and their erasure deletes them."""
    emp = await admin_client.post("/api/employees/", json={
        "name": "Logga Inne", "email": f"{unique_word().lower()}@example.se", "role": "user",
        "password": "a-long-password-1"})
    assert emp.status_code == 201, emp.text
    email = emp.json()["email"]
    async with AppClient(app=app) as other:
        bad = await other.post("/api/auth/login",
                               json={"tenant": tenant.slug, "email": email, "password": "wrong-one"})
        assert bad.status_code == 401
        ok = await other.post("/api/auth/login", json={"tenant": tenant.slug, "email": email,
                                                        "password": "a-long-password-1"})
        assert ok.status_code == 200, ok.text
    r = await admin_client.post("/api/gdpr/subjects/export", json={"emails": [email]})
    assert r.status_code == 201, r.text
    records = r.json()["document"]["records"]
    logins = [rec for rec in records if rec["table"] == "system_log"]
    kinds = [f["value"] for rec in logins for f in rec["fields"] if f["column"] == "kind"]
    assert sorted(kinds) == ["login", "login_failed"], logins
    assert all(any(f["column"] == "at" and f["value"] for f in rec["fields"]) for rec in logins)
    # Erasing the employee clears both.
    done = await admin_client.post("/api/gdpr/subjects/erase",
                                   json={"emails": [email], "dry_run": False})
    assert done.status_code == 200, done.text
    assert not await raw("SELECT id FROM system_log WHERE employee_id = {}", emp.json()["id"])
