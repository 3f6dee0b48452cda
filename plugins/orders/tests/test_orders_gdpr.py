"""M22 (orders): N days after invoiced or deleted, every link to the customer, every comment
row and the invoice comment go; amounts and article lines stay (bookkeeping).

The rule is "30 days" and the sweep runs at NOW (time frozen): an order invoiced or deleted
one second before NOW - 30 days is anonymized, one second after is not.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from core.gdpr.engine import sweep
from plugins.orders.tables import Order, OrderComment
from tests.modules import activity_kinds, add_activity, set_rule
from tests.stub_people import add_person, anonymize_person
from tests.support import add_party

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
CUTOFF = NOW - timedelta(days=30)
OUTSIDE = CUTOFF - timedelta(seconds=1)
INSIDE = CUTOFF + timedelta(seconds=1)
WORD = "Anonymiserad"

PERSONAL = dict(
    title="Installation",
    description="Värmepump, modell X",
    customer_id=61,
    contact_person_id=62,
    customer_reference="Bo Ek",
    invoice_comment="Faktureras Anna Svensson, Storgatan 1",
    lines=[
        {"description": "Arbete", "quantity": "2.5", "unit_price": "650"},
        {"description": "Material", "quantity": 1, "unit_price": "4999.90"},
    ],
)


@pytest.fixture(autouse=True)
async def _real_party(tenant):  # type: ignore[no-untyped-def]
    """PERSONAL names a real customer and contact person of the test's tenant: a record may
    name only those (core.references.check_party)."""
    customer, (contact,) = await add_party(tenant.id)
    PERSONAL.update(customer_id=customer, contact_person_id=contact)


async def make(client, action: str, moment: datetime):  # type: ignore[no-untyped-def]
    order = (await client.post("/api/orders/", json=PERSONAL)).json()
    for text in ("Kunden ringde", "Anna vill ha faktura per post"):
        r = await client.post(f"/api/orders/{order['id']}/comments", json={"text": text})
        assert r.status_code == 201
    await add_activity(client, "orders", "order", order["id"])
    with time_machine.travel(moment, tick=False):
        if action == "invoice":
            r = await client.post(f"/api/orders/{order['id']}/invoice")
        elif action == "close":
            r = await client.post(f"/api/orders/{order['id']}/close")
        else:
            r = await client.delete(f"/api/orders/{order['id']}")
    assert r.status_code == 200, r.text
    return r.json()


async def run_sweep(tenant_id: int) -> dict[str, int]:
    with time_machine.travel(NOW, tick=False):
        results = await sweep(tenant_id, "orders")
    return {r.rule: r.records for r in results}


async def comment_rows(client, order_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    r = await client.get(f"/api/orders/{order_id}/comments")
    assert r.status_code == 200
    return [c["text"] for c in r.json()]


async def test_sweep_clears_customer_links_and_comments_keeps_bookkeeping(admin_client, tenant):
    await set_rule(admin_client, "orders", "orders", "days", 30)
    invoiced_old = await make(admin_client, "invoice", OUTSIDE)
    deleted_old = await make(admin_client, "delete", OUTSIDE)
    invoiced_young = await make(admin_client, "invoice", INSIDE)
    at_cutoff = await make(admin_client, "delete", CUTOFF)
    # Closing is not this rule's clock: a closed, never invoiced order stays.
    closed_old = await make(admin_client, "close", OUTSIDE)

    assert await run_sweep(tenant.id) == {"orders": 2}

    for before in (invoiced_old, deleted_old):
        after = (await admin_client.get(f"/api/orders/{before['id']}")).json()
        # Gone: every link to the customer, the invoice comment, every comment row.
        assert after["customer_id"] == 0
        assert after["contact_person_id"] == 0
        assert after["customer_reference"] == WORD
        assert after["invoice_comment"] == ""
        assert await comment_rows(admin_client, before["id"]) == []
        assert datetime.fromisoformat(after["anonymized_at"]) == NOW
        # Kept: the bookkeeping.
        for column in (
            "number",
            "title",
            "description",
            "status",
            "created_by",
            "created_at",
            "invoiced_at",
            "deleted_at",
            "closed_at",
            "lines",
            "total",
        ):
            assert after[column] == before[column], column
        assert after["total"] == "6624.90"
        # All comments go, also those attached through activity; other kinds stay.
        assert await activity_kinds(admin_client, "orders", "order", before["id"]) == [
            "conversation",
            "note",
            "work_report",
        ]

    for untouched in (invoiced_young, at_cutoff, closed_old):
        assert (await admin_client.get(f"/api/orders/{untouched['id']}")).json() == untouched
        assert len(await comment_rows(admin_client, untouched["id"])) == 2
        assert len(await activity_kinds(admin_client, "orders", "order", untouched["id"])) == 4

    # No comment row of an anonymized order is left in the table.
    left = await OrderComment.count().where(
        (OrderComment.tenant_id == tenant.id)
        & OrderComment.order_id.is_in([invoiced_old["id"], deleted_old["id"]])
    )
    assert left == 0
    assert await run_sweep(tenant.id) == {"orders": 0}


async def test_anonymized_order_takes_no_new_comments(admin_client, tenant):
    await set_rule(admin_client, "orders", "orders", "days", 30)
    order = await make(admin_client, "invoice", OUTSIDE)
    await run_sweep(tenant.id)
    r = await admin_client.post(f"/api/orders/{order['id']}/comments", json={"text": "Anna igen"})
    assert r.status_code == 409 and "anonymized" in r.json()["detail"]
    r = await admin_client.patch(f"/api/orders/{order['id']}", json={"customer_reference": "Bo Ek"})
    assert r.status_code == 409


async def test_settings_endpoint(admin_client):
    rows = (await admin_client.get("/api/orders/settings")).json()
    assert [r["key"] for r in rows] == ["orders"]
    assert rows[0]["label_sv"] == "Order" and rows[0]["clock"] == ["invoiced", "deleted"]
    r = await admin_client.put(
        "/api/orders/settings", json=[{"key": "orders", "mode": "immediately"}]
    )
    assert r.status_code == 400
    r = await admin_client.put(
        "/api/orders/settings", json=[{"key": "orders", "mode": "sometimes"}]
    )
    assert r.status_code == 400


async def test_customer_and_contact_links_become_zero(admin_client, other_client, tenant, people):
    customer = await add_person(tenant.id, "customer")
    contact = await add_person(tenant.id, "contact")
    order = (
        await admin_client.post(
            "/api/orders/",
            json={"title": "a", "customer_id": customer, "contact_person_id": contact},
        )
    ).json()
    # Another tenant's record holding the same id numbers (stored before references were
    # checked; a request can no longer name another organization's people) is not ours.
    theirs = (await other_client.post("/api/orders/", json={"title": "b"})).json()
    await Order.update({Order.customer_id: customer, Order.contact_person_id: contact}).where(
        Order.id == theirs["id"]
    )
    theirs = (await other_client.get(f"/api/orders/{theirs['id']}")).json()
    await anonymize_person(tenant.id, "customer", customer)
    await anonymize_person(tenant.id, "contact", contact)
    after = (await admin_client.get(f"/api/orders/{order['id']}")).json()
    assert (after["customer_id"], after["contact_person_id"], after["anonymized_at"]) == (
        0,
        0,
        None,
    )
    assert (await other_client.get(f"/api/orders/{theirs['id']}")).json() == theirs


async def test_disabled_module_is_404_but_still_swept(admin_client, tenant):
    from core.plugins import get_host
    from core.tenancy import set_module_enabled

    await set_rule(admin_client, "orders", "orders", "days", 30)
    order = await make(admin_client, "invoice", OUTSIDE)
    await set_module_enabled(get_host(), tenant.id, "orders", False)
    assert (await admin_client.get(f"/api/orders/{order['id']}")).status_code == 404
    assert await run_sweep(tenant.id) == {"orders": 1}
    await set_module_enabled(get_host(), tenant.id, "orders", True)
    assert (await admin_client.get(f"/api/orders/{order['id']}")).json()["customer_id"] == 0
