"""M18 (work orders): what a sweep keeps and what it removes, column by column.

The rule is "30 days" and the sweep runs at NOW (time frozen): a work order closed or
deleted one second before NOW - 30 days is anonymized, one second after is not.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from core.gdpr.engine import sweep
from plugins.workorders.tables import WorkOrder
from tests.modules import activity_kinds, add_activity, set_rule
from tests.stub_people import add_person, anonymize_person
from tests.support import add_party

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
CUTOFF = NOW - timedelta(days=30)
OUTSIDE = CUTOFF - timedelta(seconds=1)
INSIDE = CUTOFF + timedelta(seconds=1)
WORD = "Anonymiserad"

PERSONAL = dict(
    title="Byte av element hos Anna",
    description="Nyckel hos grannen",
    customer_id=51,
    contact_person_id=52,
    email="kund@example.se",
    customer_reference="Bo Ek",
    end_customer_name="Anna Svensson",
    end_customer_address="Storgatan 1",
    end_customer_phone="0701234567",
    end_customer_email="anna@example.se",
)


@pytest.fixture(autouse=True)
async def _real_party(tenant):  # type: ignore[no-untyped-def]
    """PERSONAL names a real customer and contact person of the test's tenant: a record may
    name only those (core.references.check_party)."""
    customer, (contact,) = await add_party(tenant.id)
    PERSONAL.update(customer_id=customer, contact_person_id=contact)


async def make(client, action: str, moment: datetime):  # type: ignore[no-untyped-def]
    """A work order with an approved and an unapproved extra cost and every activity kind."""
    wo = (await client.post("/api/workorders/", json=PERSONAL)).json()
    base = f"/api/workorders/{wo['id']}/extra-costs"
    approved = (
        await client.post(
            base, json={"description": "Extra rör till Annas kök", "amount": "1250.50"}
        )
    ).json()
    r = await client.post(
        f"{base}/{approved['id']}/approve",
        json={"approver_name": "Anna Svensson", "approver_phone": "0701234567"},
    )
    assert r.status_code == 200, r.text
    pending = (await client.post(base, json={"description": "Ventil", "amount": "99"})).json()
    await add_activity(client, "workorders", "work_order", wo["id"])
    with time_machine.travel(moment, tick=False):
        if action == "close":
            r = await client.post(f"/api/workorders/{wo['id']}/close")
        else:
            r = await client.delete(f"/api/workorders/{wo['id']}")
    assert r.status_code == 200, r.text
    lines = (await client.get(base)).json()
    assert [x["id"] for x in lines] == [approved["id"], pending["id"]]
    return r.json(), lines


async def run_sweep(tenant_id: int) -> dict[str, int]:
    with time_machine.travel(NOW, tick=False):
        results = await sweep(tenant_id, "workorders")
    return {r.rule: r.records for r in results}


async def test_sweep_removes_parties_extra_cost_details_and_activity(admin_client, tenant):
    await set_rule(admin_client, "workorders", "work_orders", "days", 30)
    closed_old = await make(admin_client, "close", OUTSIDE)
    deleted_old = await make(admin_client, "delete", OUTSIDE)
    young = await make(admin_client, "delete", INSIDE)
    at_cutoff = await make(admin_client, "close", CUTOFF)

    assert await run_sweep(tenant.id) == {"work_orders": 2}

    for before, lines_before in (closed_old, deleted_old):
        after = (await admin_client.get(f"/api/workorders/{before['id']}")).json()
        # Gone: customer, contact person, customer information, end customer.
        assert after["customer_id"] == 0
        assert after["contact_person_id"] == 0
        assert after["email"] is None
        assert after["customer_reference"] == WORD
        assert after["end_customer_name"] == WORD
        assert after["end_customer_address"] == WORD
        assert after["end_customer_phone"] is None
        assert after["end_customer_email"] is None
        assert datetime.fromisoformat(after["anonymized_at"]) == NOW
        # Kept:
        for column in (
            "number",
            "title",
            "description",
            "status",
            "created_by",
            "created_at",
            "closed_at",
            "deleted_at",
        ):
            assert after[column] == before[column], column
        # Extra costs: description, approver name and phone cleared; amounts and times kept.
        lines = (await admin_client.get(f"/api/workorders/{before['id']}/extra-costs")).json()
        assert len(lines) == 2
        for line, line_before in zip(lines, lines_before, strict=True):
            assert line["description"] == WORD
            assert line["approver_phone"] == ""
            assert line["approver_name"] == ""
            for column in (
                "id",
                "amount",
                "approved_at",
                "created_by",
                "created_at",
                "work_order_id",
            ):
                assert line[column] == line_before[column], column
        # Comments, work reports, conversations and notes go (#17: notes are free text
        # about the customer too).
        assert await activity_kinds(admin_client, "workorders", "work_order", before["id"]) == []

    for before, lines_before in (young, at_cutoff):
        assert (await admin_client.get(f"/api/workorders/{before['id']}")).json() == before
        assert (
            await admin_client.get(f"/api/workorders/{before['id']}/extra-costs")
        ).json() == lines_before
        assert (
            len(await activity_kinds(admin_client, "workorders", "work_order", before["id"])) == 4
        )

    assert await run_sweep(tenant.id) == {"work_orders": 0}


async def test_anonymized_work_order_is_frozen(admin_client, tenant):
    await set_rule(admin_client, "workorders", "work_orders", "days", 30)
    wo, lines = await make(admin_client, "close", OUTSIDE)
    await run_sweep(tenant.id)
    base = f"/api/workorders/{wo['id']}"
    for method, path, body in (
        ("patch", "", {"email": "kund@example.se"}),
        ("post", "/reopen", None),
        ("post", "/extra-costs", {"description": "x", "amount": 1}),
        ("patch", f"/extra-costs/{lines[1]['id']}", {"description": "Anna"}),
        ("post", f"/extra-costs/{lines[1]['id']}/approve", {"approver_name": "Anna Svensson"}),
    ):
        kwargs = {"json": body} if body is not None else {}
        r = await getattr(admin_client, method)(f"{base}{path}", **kwargs)
        assert r.status_code == 409 and "anonymized" in r.json()["detail"], (path, r.text)


async def test_settings_endpoint(admin_client):
    rows = (await admin_client.get("/api/workorders/settings")).json()
    assert [r["key"] for r in rows] == ["work_orders"]
    assert rows[0]["label_sv"] == "Arbetsordrar" and rows[0]["allowed_modes"] == ["days", "off"]
    r = await admin_client.put(
        "/api/workorders/settings", json=[{"key": "work_orders", "mode": "immediately"}]
    )
    assert r.status_code == 400
    r = await admin_client.put(
        "/api/workorders/settings", json=[{"key": "work_orders", "mode": "days", "days": 4000}]
    )
    assert r.status_code == 400


async def test_customer_and_contact_links_become_zero(admin_client, other_client, tenant, people):
    customer = await add_person(tenant.id, "customer")
    contact = await add_person(tenant.id, "contact")
    wo = (
        await admin_client.post(
            "/api/workorders/",
            json={"title": "a", "customer_id": customer, "contact_person_id": contact},
        )
    ).json()
    # Another tenant's record holding the same id numbers (stored before references were
    # checked; a request can no longer name another organization's people) is not ours.
    theirs = (await other_client.post("/api/workorders/", json={"title": "b"})).json()
    await WorkOrder.update({WorkOrder.customer_id: customer, WorkOrder.contact_person_id: contact}).where(
        WorkOrder.id == theirs["id"]
    )
    theirs = (await other_client.get(f"/api/workorders/{theirs['id']}")).json()
    await anonymize_person(tenant.id, "customer", customer)
    after = (await admin_client.get(f"/api/workorders/{wo['id']}")).json()
    assert (
        after["customer_id"] == 0
        and after["contact_person_id"] == contact
        and after["anonymized_at"] is None
    )
    await anonymize_person(tenant.id, "contact", contact)
    assert (await admin_client.get(f"/api/workorders/{wo['id']}")).json()["contact_person_id"] == 0
    assert (await other_client.get(f"/api/workorders/{theirs['id']}")).json() == theirs
