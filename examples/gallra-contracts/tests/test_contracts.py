"""The contracts API and its GDPR behaviour, through the fixtures of Gallra's test kit
(gallra_client: the administrator of gallra_tenant, logged in)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from core.gdpr.engine import sweep

PERSONAL = {
    "title": "Serviceavtal Anna Svensson",
    "signer_name": "Anna Svensson",
    "signer_email": "Anna@Example.se",
    "signed_on": "2026-03-01",
    "terms": "Anna betalar kvartalsvis.",
}


async def party(client):  # type: ignore[no-untyped-def]
    """A customer and one of its contact persons, made through Gallra's customer register
    (another plugin: this one only names them by id, and Gallra checks every id it names)."""
    r = await client.post("/api/customers/", json={"name": "Svensson Fastigheter AB"})
    assert r.status_code == 201, r.text
    customer_id = r.json()["id"]
    r = await client.post(f"/api/customers/{customer_id}/contacts", json={"name": "Anna Svensson"})
    assert r.status_code == 201, r.text
    return {"customer_id": customer_id, "contact_person_id": r.json()["id"]}


async def create(client, **extra):  # type: ignore[no-untyped-def]
    parties = {} if "customer_id" in extra else await party(client)
    r = await client.post("/api/contracts/", json={**PERSONAL, **parties, **extra})
    assert r.status_code == 201, r.text
    return r.json()


async def test_references_are_checked(gallra_client):
    """A customer that does not exist, or a contact person of another customer, is refused
    with a 400 naming the field; nothing is written."""
    mine = await party(gallra_client)
    other = await party(gallra_client)
    for body, field, code in (
        ({"customer_id": 999_999}, "customer_id", "reference.no_customer"),
        ({"customer_id": mine["customer_id"], "contact_person_id": other["contact_person_id"]},
         "contact_person_id", "reference.not_their_contact"),
    ):
        r = await gallra_client.post("/api/contracts/", json={**PERSONAL, **body})
        assert r.status_code == 400 and r.json()["field"] == field, r.text
        assert r.json()["code"] == code
    assert (await gallra_client.get("/api/contracts/")).json()["total"] == 0


async def test_create_numbers_and_reads_back(gallra_client):
    first = await create(gallra_client)
    second = await create(gallra_client, title="Hyresavtal")
    assert (first["number"], second["number"]) == (1, 2)
    assert first["signer_email"] == "anna@example.se"  # normalized
    assert first["signed_on"] == "2026-03-01"
    assert first["status"] == "active"
    got = (await gallra_client.get(f"/api/contracts/{first['id']}")).json()
    assert got == first
    page = (await gallra_client.get("/api/contracts/")).json()
    assert page["total"] == 2 and [c["number"] for c in page["items"]] == [2, 1]


async def test_bad_input_is_a_400_naming_the_field(gallra_client):
    r = await gallra_client.post("/api/contracts/", json={**PERSONAL, "signer_email": "nope"})
    assert r.status_code == 400 and r.json()["field"] == "signer_email"
    r = await gallra_client.post("/api/contracts/", json={**PERSONAL, "title": "  "})
    assert r.status_code == 400 and r.json()["field"] == "title"
    r = await gallra_client.post("/api/contracts/", json={**PERSONAL, "surprise": 1})
    assert r.status_code == 400
    r = await gallra_client.post("/api/contracts/", json={**PERSONAL, "signed_on": "yesterday"})
    assert r.status_code == 400
    await create(gallra_client, number=7)
    r = await gallra_client.post("/api/contracts/", json={**PERSONAL, "number": 7})
    assert r.status_code == 400 and r.json()["code"] == "number_taken"
    assert (await gallra_client.get("/api/contracts/")).json()["total"] == 1  # nothing half-written


async def test_another_organization_sees_nothing(
    gallra_client, gallra_app, gallra_tenant_factory, gallra_login
):
    from core.testing.client import AppClient

    mine = await create(gallra_client)
    other = await gallra_tenant_factory()
    async with AppClient(app=gallra_app) as theirs:
        await gallra_login(theirs, other)
        assert (await theirs.get(f"/api/contracts/{mine['id']}")).status_code == 404
        assert (await theirs.patch(f"/api/contracts/{mine['id']}", json={"title": "x"})).status_code == 404
        assert (await theirs.post(f"/api/contracts/{mine['id']}/end")).status_code == 404
        assert (await theirs.delete(f"/api/contracts/{mine['id']}")).status_code == 404
        assert (await theirs.get("/api/contracts/")).json()["total"] == 0
    assert (await gallra_client.get(f"/api/contracts/{mine['id']}")).json()["title"] == mine["title"]


async def test_anonymous_requests_are_refused(gallra_anon_client):
    assert (await gallra_anon_client.get("/api/contracts/")).status_code == 401


async def test_a_disabled_module_is_404_for_that_organization_only(
    gallra_client, gallra_tenant
):
    r = await gallra_client.put("/api/modules/contracts", json={"enabled": False})
    assert r.status_code == 200, r.text
    assert (await gallra_client.get("/api/contracts/")).status_code == 404
    assert (await gallra_client.get("/api/contracts/settings")).status_code == 404


async def test_edit_end_and_delete(gallra_client):
    c = await create(gallra_client)
    r = await gallra_client.patch(f"/api/contracts/{c['id']}", json={"signer_email": "", "terms": "Nya"})
    assert r.status_code == 200 and r.json()["signer_email"] is None and r.json()["terms"] == "Nya"
    r = await gallra_client.post(f"/api/contracts/{c['id']}/end")
    assert r.status_code == 200 and r.json()["status"] == "ended" and r.json()["ended_at"]
    assert (await gallra_client.post(f"/api/contracts/{c['id']}/end")).status_code == 409
    r = await gallra_client.delete(f"/api/contracts/{c['id']}")
    assert r.status_code == 200 and r.json()["deleted_at"]
    assert r.json()["signer_name"] == "Anna Svensson"  # the rule is off by default: kept
    assert (await gallra_client.patch(f"/api/contracts/{c['id']}", json={"title": "x"})).status_code == 409
    assert (await gallra_client.get("/api/contracts/")).json()["total"] == 0
    assert (await gallra_client.get("/api/contracts/?include_deleted=true")).json()["total"] == 1


async def test_settings_endpoint_shows_and_changes_the_rule(gallra_client):
    rows = (await gallra_client.get("/api/contracts/settings")).json()
    assert [(r["key"], r["mode"], r["label_sv"]) for r in rows] == [("contracts.ended", "off", "Avtal")]
    r = await gallra_client.put(
        "/api/contracts/settings", json=[{"key": "contracts.ended", "mode": "days", "days": 0}]
    )
    assert r.status_code == 400 and "contracts.ended" in r.json()["detail"]
    r = await gallra_client.put("/api/contracts/settings", json=[{"key": "cases", "mode": "off"}])
    assert r.status_code == 400
    r = await gallra_client.put(
        "/api/contracts/settings", json=[{"key": "contracts.ended", "mode": "days", "days": 30}]
    )
    assert r.status_code == 200 and r.json()[0]["days"] == 30


async def test_deleting_with_immediately_anonymizes_in_the_request(gallra_client):
    await gallra_client.put(
        "/api/contracts/settings", json=[{"key": "contracts.ended", "mode": "immediately"}]
    )
    c = await create(gallra_client)
    r = await gallra_client.post(
        f"/api/activity/contracts/contract/{c['id']}", json={"kind": "comment", "body": "Om Anna"}
    )
    assert r.status_code == 201, r.text
    after = (await gallra_client.delete(f"/api/contracts/{c['id']}")).json()
    assert after["anonymized_at"] is not None
    assert (after["customer_id"], after["contact_person_id"]) == (0, 0)
    assert (after["signer_name"], after["signer_email"], after["terms"]) == ("Anonymiserad", None, "")
    assert after["title"] == PERSONAL["title"] and after["signed_on"] == "2026-03-01"  # kept
    items = (await gallra_client.get(f"/api/activity/contracts/contract/{c['id']}")).json()["items"]
    assert items == []


@pytest.mark.parametrize("age_days, anonymized", [(31, True), (29, False)])
async def test_sweep_anonymizes_only_past_the_cutoff(gallra_client, gallra_tenant, age_days, anonymized):
    await gallra_client.put(
        "/api/contracts/settings", json=[{"key": "contracts.ended", "mode": "days", "days": 30}]
    )
    c = await create(gallra_client)
    now = datetime.now(UTC)
    with time_machine.travel(now - timedelta(days=age_days), tick=False):
        assert (await gallra_client.post(f"/api/contracts/{c['id']}/end")).status_code == 200
    results = await sweep(gallra_tenant.id, "contracts")
    assert [(r.rule, r.records) for r in results] == [("contracts.ended", 1 if anonymized else 0)]
    after = (await gallra_client.get(f"/api/contracts/{c['id']}")).json()
    assert (after["signer_name"] == "Anonymiserad") is anonymized
    assert (after["anonymized_at"] is not None) is anonymized
