"""Requests kept as proof: person search finds them, rule dsr.answered (3 years after the
answer by default) clears the person's data and keeps the facts, open ones never."""

from __future__ import annotations

from datetime import timedelta

from core.db import utcnow
from core.gdpr.engine import sweep
from plugins.dsr.tests.conftest import make_request


async def test_the_rule_defaults_to_three_years_after_the_answer(admin_client) -> None:
    rules = {r["key"]: r for r in (await admin_client.get("/api/dsr/settings/")).json()}
    assert (rules["dsr.answered"]["mode"], rules["dsr.answered"]["days"]) == ("days", 1095)
    assert rules["dsr.pending"]["fixed"] is True


async def test_person_search_finds_the_request(admin_client) -> None:
    req = await make_request(admin_client, requester_email="sokbar@example.se", requester_phone="070-765 43 21")
    for q in ("sokbar@example.se", "0707654321"):
        r = await admin_client.get("/api/gdpr/search", params={"q": q})
        assert r.status_code == 200, r.text
        hits = [h for g in r.json()["groups"] if g["record_type"] == "dsr_request" for h in g["hits"]]
        assert [h["record_id"] for h in hits] == [req["id"]], q


async def test_answered_requests_lose_the_persons_data_after_three_years(admin_client, tenant) -> None:
    answered = await make_request(admin_client, requester_email="gammal@example.se", details="Radera mig")
    await admin_client.post(f"/api/dsr/{answered['id']}/refuse", json={"reason": "Bokföringslagen"})
    still_open = await make_request(admin_client, requester_email="oppen@example.se")
    assert sum(r.records for r in await sweep(tenant.id, "dsr", now=utcnow() + timedelta(days=1094))) == 0
    results = await sweep(tenant.id, "dsr", now=utcnow() + timedelta(days=1096))
    assert sum(r.records for r in results) == 1
    gone = (await admin_client.get(f"/api/dsr/{answered['id']}")).json()
    assert gone["anonymized_at"] is not None and gone["requester_email"] is None
    assert (gone["details"], gone["answer"], gone["kind"], gone["status"]) == ("", "", "access", "refused")
    kept = (await admin_client.get(f"/api/dsr/{still_open['id']}")).json()
    assert kept["requester_email"] == "oppen@example.se" and kept["anonymized_at"] is None
