"""M18 (work orders): what a sweep keeps and what it removes, column by column.

The rule is "30 days" and the sweep runs at NOW (time frozen): a work order closed or
deleted one second before NOW - 30 days is anonymized, one second after is not.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from tests import sweeps
from tests.modules import activity_kinds, add_activity, set_rule
from tests.support import END_CUSTOMER, each_answers
from tests.sweeps import END_CUSTOMER_GONE, OUTSIDE, PARTY_GONE, WORD, run_sweep

PERSONAL = dict(
    title="Byte av element hos Anna",
    description="Nyckel hos grannen",
    email="kund@example.se",
    customer_reference="Bo Ek",
    **END_CUSTOMER,
)

# The customer and contact person: real ones of the test's tenant, set before each test.
_real_party = sweeps.real_party(PERSONAL)


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
    done = await sweeps.act_at(client, f"/api/workorders/{wo['id']}", action, moment)
    lines = (await client.get(base)).json()
    assert [x["id"] for x in lines] == [approved["id"], pending["id"]]
    return done, lines


async def test_sweep_removes_parties_extra_cost_details_and_activity(admin_client, tenant):
    await set_rule(admin_client, "workorders", "work_orders", "days", 30)
    (closed_old, deleted_old), (young, at_cutoff) = await sweeps.around_the_cutoff(
        partial(make, admin_client), ("close", "delete"), young="delete", at_cutoff="close"
    )

    assert await run_sweep(tenant.id, "workorders") == {"work_orders": 2}

    for before, lines_before in (closed_old, deleted_old):
        after = (await admin_client.get(f"/api/workorders/{before['id']}")).json()
        # Gone: customer, contact person, customer information, end customer.
        gone = {**PARTY_GONE, "email": None, "customer_reference": WORD, **END_CUSTOMER_GONE}
        kept = ("number", "title", "description", "status", "created_by", "created_at", "closed_at", "deleted_at")
        sweeps.assert_swept(before, after, gone, kept)
        # Extra costs: description, approver name and phone cleared; amounts and times kept.
        lines = (await admin_client.get(f"/api/workorders/{before['id']}/extra-costs")).json()
        assert len(lines) == 2
        for line, line_before in zip(lines, lines_before, strict=True):
            assert line["description"] == WORD
            assert line["approver_phone"] == ""
            assert line["approver_name"] == ""
            for column in ("id", "amount", "approved_at", "created_by", "created_at", "work_order_id"):
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

    assert await run_sweep(tenant.id, "workorders") == {"work_orders": 0}


async def test_anonymized_work_order_is_frozen(admin_client, tenant):
    await set_rule(admin_client, "workorders", "work_orders", "days", 30)
    wo, lines = await make(admin_client, "close", OUTSIDE)
    await run_sweep(tenant.id, "workorders")
    base = f"/api/workorders/{wo['id']}"
    await each_answers(admin_client, 409, (
        ("patch", "", {"email": "kund@example.se"}),
        ("post", "/reopen", None),
        ("post", "/extra-costs", {"description": "x", "amount": 1}),
        ("patch", f"/extra-costs/{lines[1]['id']}", {"description": "Anna"}),
        ("post", f"/extra-costs/{lines[1]['id']}/approve", {"approver_name": "Anna Svensson"}),
    ), under=base, detail="anonymized")
