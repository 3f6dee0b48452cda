"""M22 (orders): N days after invoiced or deleted, every link to the customer, every comment
row and the invoice comment go; amounts and article lines stay (bookkeeping).

The rule is "30 days" and the sweep runs at NOW (time frozen): an order invoiced or deleted
one second before NOW - 30 days is anonymized, one second after is not.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from plugins.orders.tables import OrderComment
from tests import sweeps
from tests.modules import activity_kinds, add_activity, set_rule
from tests.sweeps import OUTSIDE, PARTY_GONE, WORD, act_at, assert_swept, run_sweep

PERSONAL = dict(
    title="Installation",
    description="Värmepump, modell X",
    customer_reference="Bo Ek",
    invoice_comment="Faktureras Anna Svensson, Storgatan 1",
    lines=[
        {"description": "Arbete", "quantity": "2.5", "unit_price": "650"},
        {"description": "Material", "quantity": 1, "unit_price": "4999.90"},
    ],
)

# The customer and contact person: real ones of the test's tenant, set before each test.
_real_party = sweeps.real_party(PERSONAL)


async def make(client, action: str, moment: datetime):  # type: ignore[no-untyped-def]
    order = (await client.post("/api/orders/", json=PERSONAL)).json()
    for text in ("Kunden ringde", "Anna vill ha faktura per post"):
        r = await client.post(f"/api/orders/{order['id']}/comments", json={"text": text})
        assert r.status_code == 201
    await add_activity(client, "orders", "order", order["id"])
    return await act_at(client, f"/api/orders/{order['id']}", action, moment)


async def comment_rows(client, order_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    r = await client.get(f"/api/orders/{order_id}/comments")
    assert r.status_code == 200
    return [c["text"] for c in r.json()]


async def test_sweep_clears_customer_links_and_comments_keeps_bookkeeping(admin_client, tenant):
    await set_rule(admin_client, "orders", "orders", "days", 30)
    (invoiced_old, deleted_old), (invoiced_young, at_cutoff) = await sweeps.around_the_cutoff(
        partial(make, admin_client), ("invoice", "delete"), young="invoice", at_cutoff="delete"
    )
    # Closing is not this rule's clock: a closed, never invoiced order stays.
    closed_old = await make(admin_client, "close", OUTSIDE)

    assert await run_sweep(tenant.id, "orders") == {"orders": 2}

    for before in (invoiced_old, deleted_old):
        after = (await admin_client.get(f"/api/orders/{before['id']}")).json()
        # Gone: every link to the customer, the invoice comment, every comment row.
        assert await comment_rows(admin_client, before["id"]) == []
        # Kept: the bookkeeping.
        kept = ("number", "title", "description", "status", "created_by", "created_at", "invoiced_at")
        gone = {**PARTY_GONE, "customer_reference": WORD, "invoice_comment": ""}
        assert_swept(before, after, gone, (*kept, "deleted_at", "closed_at", "lines", "total"))
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
    assert await run_sweep(tenant.id, "orders") == {"orders": 0}


async def test_anonymized_order_takes_no_new_comments(admin_client, tenant):
    await set_rule(admin_client, "orders", "orders", "days", 30)
    order = await make(admin_client, "invoice", OUTSIDE)
    await run_sweep(tenant.id, "orders")
    r = await admin_client.post(f"/api/orders/{order['id']}/comments", json={"text": "Anna igen"})
    assert r.status_code == 409 and "anonymized" in r.json()["detail"]
    r = await admin_client.patch(f"/api/orders/{order['id']}", json={"customer_reference": "Bo Ek"})
    assert r.status_code == 409


async def test_disabled_module_is_404_but_still_swept(admin_client, tenant):
    from core.plugins import get_host
    from core.tenancy import set_module_enabled

    await set_rule(admin_client, "orders", "orders", "days", 30)
    order = await make(admin_client, "invoice", OUTSIDE)
    await set_module_enabled(get_host(), tenant.id, "orders", False)
    assert (await admin_client.get(f"/api/orders/{order['id']}")).status_code == 404
    assert await run_sweep(tenant.id, "orders") == {"orders": 1}
    await set_module_enabled(get_host(), tenant.id, "orders", True)
    assert (await admin_client.get(f"/api/orders/{order['id']}")).json()["customer_id"] == 0
