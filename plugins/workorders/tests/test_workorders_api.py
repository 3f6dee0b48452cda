"""Work orders and extra costs: CRUD, life cycle, approval, validation, isolation, auth."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine

from plugins.workorders.tables import ExtraCost, WorkOrder
from tests.modules import list_calls, record_calls
from tests.support import END_CUSTOMER, add_party, each_answers, logged


async def create(client, **body):  # type: ignore[no-untyped-def]
    body.setdefault("title", "Byte av element")
    response = await client.post("/api/workorders/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def add_cost(client, wo_id: int, description: str = "Extra rör", amount="1250.50"):  # type: ignore[no-untyped-def]
    r = await client.post(
        f"/api/workorders/{wo_id}/extra-costs", json={"description": description, "amount": amount}
    )
    assert r.status_code == 201, r.text
    return r.json()


async def counts(tenant_id: int) -> tuple[int, int]:
    return (
        await WorkOrder.count().where(WorkOrder.tenant_id == tenant_id),
        await ExtraCost.count().where(ExtraCost.tenant_id == tenant_id),
    )


async def test_create_numbers_and_normalizes(admin_client, tenant):
    customer, (contact,) = await add_party(tenant.id)
    a = await create(admin_client)
    b = await create(
        admin_client,
        customer_id=customer,
        contact_person_id=contact,
        email="Kund@Example.SE",
        customer_reference="Bo Ek",
        **{**END_CUSTOMER, "end_customer_phone": "+46 70 123 45 67"},
    )
    assert (a["number"], b["number"]) == (1, 2)
    assert b["email"] == "kund@example.se"
    assert b["end_customer_phone"] == "+46701234567"
    assert b["created_by"] == tenant.admin_id and b["status"] == "open"
    assert (await admin_client.get(f"/api/workorders/{b['id']}")).json() == b
    assert (await create(admin_client, number=40))["number"] == 40
    r = await admin_client.post("/api/workorders/", json={"title": "x", "number": 40})
    assert r.status_code == 400 and r.json()["field"] == "number"


BAD_CREATES = [
    ({"title": " "}, "title"),
    ({"title": "x", "email": "nope"}, "email"),
    ({"title": "x", "end_customer_email": "a@b"}, "end_customer_email"),
    ({"title": "x", "end_customer_phone": "0"}, "end_customer_phone"),
    ({"title": "x", "customer_id": -1}, "customer_id"),
    ({"title": "x", "contact_person_id": -1}, "contact_person_id"),
    ({"title": "x", "customer_reference": "r" * 201}, "customer_reference"),
    ({"title": "x", "status": "closed"}, "status"),
    ({"title": "x", "number": -5}, "number"),
]


async def test_bad_create_is_400_and_writes_nothing(admin_client, tenant):
    for body, field in BAD_CREATES:
        r = await admin_client.post("/api/workorders/", json=body)
        assert r.status_code == 400, (body, r.text)
        assert field in r.text, (body, r.text)
    assert await counts(tenant.id) == (0, 0)


async def test_list_paging_and_filters(admin_client, tenant):
    one, _ = await add_party(tenant.id, contacts=0)
    two, _ = await add_party(tenant.id, contacts=0)
    a = await create(admin_client, customer_id=one)
    b = await create(admin_client, customer_id=two)
    c = await create(admin_client, customer_id=one)
    await admin_client.post(f"/api/workorders/{c['id']}/close")
    d = await create(admin_client, customer_id=one)
    await admin_client.delete(f"/api/workorders/{d['id']}")

    def ids(r):  # type: ignore[no-untyped-def]
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    assert ids(await admin_client.get("/api/workorders/")) == [c["id"], b["id"], a["id"]]
    assert ids(await admin_client.get("/api/workorders/", params={"limit": 1, "offset": 1})) == [
        b["id"]
    ]
    assert ids(await admin_client.get("/api/workorders/", params={"customer_id": one})) == [
        c["id"],
        a["id"],
    ]
    assert ids(await admin_client.get("/api/workorders/", params={"status": "closed"})) == [c["id"]]
    assert ids(
        await admin_client.get("/api/workorders/", params={"status": "open", "customer_id": one})
    ) == [a["id"]]
    assert d["id"] in ids(
        await admin_client.get("/api/workorders/", params={"include_deleted": True})
    )
    for params in ({"limit": 500}, {"status": "gone"}, {"offset": -2}, {"customer_id": "x"}):
        assert (await admin_client.get("/api/workorders/", params=params)).status_code == 400, (
            params
        )


async def test_patch_close_reopen_delete(admin_client):
    wo = await create(admin_client, email="a@b.se")
    r = await admin_client.patch(f"/api/workorders/{wo['id']}", json={"email": "", "title": "Ny"})
    assert r.status_code == 200 and r.json()["email"] is None and r.json()["title"] == "Ny"
    r = await admin_client.patch(f"/api/workorders/{wo['id']}", json={"email": "bad"})
    assert r.status_code == 400 and r.json()["field"] == "email"
    assert (await admin_client.get(f"/api/workorders/{wo['id']}")).json()["title"] == "Ny"
    moment = datetime(2026, 5, 2, 8, 0, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        closed = (await admin_client.post(f"/api/workorders/{wo['id']}/close")).json()
    assert closed["status"] == "closed" and datetime.fromisoformat(closed["closed_at"]) == moment
    assert (await admin_client.post(f"/api/workorders/{wo['id']}/close")).status_code == 409
    reopened = (await admin_client.post(f"/api/workorders/{wo['id']}/reopen")).json()
    assert reopened["status"] == "open" and reopened["closed_at"] is None
    assert (await admin_client.post(f"/api/workorders/{wo['id']}/reopen")).status_code == 409
    deleted = (await admin_client.delete(f"/api/workorders/{wo['id']}")).json()
    assert deleted["deleted_at"] is not None
    assert (
        await admin_client.patch(f"/api/workorders/{wo['id']}", json={"title": "z"})
    ).status_code == 409
    assert (
        await admin_client.post(
            f"/api/workorders/{wo['id']}/extra-costs", json={"description": "d", "amount": 1}
        )
    ).status_code == 409
    assert (await admin_client.delete(f"/api/workorders/{wo['id']}")).json()[
        "deleted_at"
    ] == deleted["deleted_at"]


async def test_extra_costs_add_list_edit_delete(admin_client, tenant):
    wo = await create(admin_client)
    line = await add_cost(admin_client, wo["id"], " Extra rör ", 1250.5)
    assert line["description"] == "Extra rör" and line["amount"] == "1250.50"
    assert (
        line["approved_at"] is None
        and line["approver_name"] == ""
        and line["created_by"] == tenant.admin_id
    )
    second = await add_cost(admin_client, wo["id"], "Ventil", "99")
    listed = (await admin_client.get(f"/api/workorders/{wo['id']}/extra-costs")).json()
    assert [x["id"] for x in listed] == [line["id"], second["id"]]
    r = await admin_client.patch(
        f"/api/workorders/{wo['id']}/extra-costs/{line['id']}", json={"amount": "10.05"}
    )
    assert (
        r.status_code == 200
        and r.json()["amount"] == "10.05"
        and r.json()["description"] == "Extra rör"
    )
    assert (await admin_client.get(f"/api/workorders/extra-costs/{line['id']}")).json()[
        "amount"
    ] == "10.05"
    r = await admin_client.delete(f"/api/workorders/{wo['id']}/extra-costs/{second['id']}")
    assert r.status_code == 200
    assert len((await admin_client.get(f"/api/workorders/{wo['id']}/extra-costs")).json()) == 1
    # A line of another work order is not found under this one.
    other = await create(admin_client)
    assert (
        await admin_client.patch(
            f"/api/workorders/{other['id']}/extra-costs/{line['id']}", json={"amount": 1}
        )
    ).status_code == 404
    assert (
        await admin_client.delete(f"/api/workorders/{other['id']}/extra-costs/{line['id']}")
    ).status_code == 404


BAD_EXTRA_COSTS = [
    ({"description": "x", "amount": "1.005"}, "amount"),
    ({"description": "x", "amount": "-5"}, "amount"),
    ({"description": "x", "amount": 0}, "amount"),
    ({"description": "x", "amount": "NaN"}, "amount"),
    ({"description": "x", "amount": "Infinity"}, "amount"),
    ({"description": "x", "amount": "lots"}, "amount"),
    ({"description": "x", "amount": "10000000000"}, "amount"),
    ({"description": "   ", "amount": 5}, "description"),
    ({"description": "", "amount": 5}, "description"),
    ({"amount": 5}, "description"),
    ({"description": "x"}, "amount"),
    ({"description": "x", "amount": 5, "approved_at": "2026-01-01"}, "approved_at"),
]


async def test_bad_extra_cost_is_400_and_writes_nothing(admin_client, tenant):
    wo = await create(admin_client)
    line = await add_cost(admin_client, wo["id"])
    before = await counts(tenant.id)
    for body, field in BAD_EXTRA_COSTS:
        r = await admin_client.post(f"/api/workorders/{wo['id']}/extra-costs", json=body)
        assert r.status_code == 400, (body, r.text)
        assert field in r.text, (body, r.text)
        if set(body) == {"description", "amount"}:  # the same bad value in a PATCH
            r = await admin_client.patch(
                f"/api/workorders/{wo['id']}/extra-costs/{line['id']}", json=body
            )
            assert r.status_code == 400, (body, r.text)
            assert field in r.text, (body, r.text)
    assert await counts(tenant.id) == before
    assert (await admin_client.get(f"/api/workorders/extra-costs/{line['id']}")).json() == line


async def test_approval_without_two_factor_records_name_masked_phone_and_time(
    admin_client, tenant
):
    five, _ = await add_party(tenant.id, contacts=0)
    wo = await create(admin_client, customer_id=five)
    line = await add_cost(admin_client, wo["id"])
    moment = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        r = await admin_client.post(
            f"/api/workorders/{wo['id']}/extra-costs/{line['id']}/approve",
            json={"approver_name": " Bo Ek ", "approver_phone": "070-123 45 67"},
        )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "approved" and out["second_factor"] is None
    approved = out["extra_cost"]
    assert approved["approver_name"] == "Bo Ek"
    assert approved["approver_phone"] == "+46 70•••••67"
    assert datetime.fromisoformat(approved["approved_at"]) == moment
    # The full number is stored nowhere.
    row = await ExtraCost.select().where(ExtraCost.id == line["id"]).first()
    assert "1234" not in row["approver_phone"]
    # Approved lines are final.
    url = f"/api/workorders/{wo['id']}/extra-costs/{line['id']}"
    assert (
        await admin_client.post(f"{url}/approve", json={"approver_name": "X"})
    ).status_code == 409
    assert (await admin_client.patch(url, json={"amount": 1})).status_code == 409
    assert (await admin_client.delete(url)).status_code == 409
    assert (await admin_client.get(f"/api/workorders/extra-costs/{line['id']}")).json() == approved


BAD_APPROVALS = [
    ({}, "approver_name"),
    ({"approver_name": ""}, "approver_name"),
    ({"approver_name": "  "}, "approver_name"),
    ({"approver_name": "Bo", "approver_phone": "12"}, "approver_phone"),
    ({"approver_name": "Bo", "challenge_id": ""}, "challenge_id"),
    ({"approver_name": "Bo", "extra": True}, "extra"),
]


async def test_bad_approval_is_400_and_records_nothing(admin_client):
    wo = await create(admin_client)
    line = await add_cost(admin_client, wo["id"])
    for body, field in BAD_APPROVALS:
        r = await admin_client.post(
            f"/api/workorders/{wo['id']}/extra-costs/{line['id']}/approve", json=body
        )
        assert r.status_code == 400, (body, r.text)
        assert field in r.text, (body, r.text)
    assert (await admin_client.get(f"/api/workorders/extra-costs/{line['id']}")).json() == line


def endpoints(wo_id: int, line_id: int) -> list[tuple[str, str, dict | None]]:
    # Every call is refused, so the order deletes come before their parts' without harm.
    return [
        *record_calls("/api/workorders", wo_id),
        ("get", f"/api/workorders/{wo_id}/extra-costs", None),
        ("post", f"/api/workorders/{wo_id}/extra-costs", {"description": "x", "amount": 1}),
        ("patch", f"/api/workorders/{wo_id}/extra-costs/{line_id}", {"amount": 2}),
        (
            "post",
            f"/api/workorders/{wo_id}/extra-costs/{line_id}/approve",
            {"approver_name": "Mallory"},
        ),
        ("get", f"/api/workorders/extra-costs/{line_id}", None),
        ("delete", f"/api/workorders/{wo_id}/extra-costs/{line_id}", None),
    ]


async def test_another_tenants_work_order_is_404_everywhere_and_untouched(
    admin_client, other_client, other_tenant
):
    four, _ = await add_party(other_tenant.id, contacts=0)
    theirs = await create(other_client, customer_id=four)
    line = await add_cost(other_client, theirs["id"])
    before = await counts(other_tenant.id)
    await each_answers(admin_client, 404, endpoints(theirs["id"], line["id"]))
    # My own work order with their line id is 404 too.
    mine = await create(admin_client)
    r = await admin_client.patch(
        f"/api/workorders/{mine['id']}/extra-costs/{line['id']}", json={"amount": 3}
    )
    assert r.status_code == 404
    assert (await admin_client.get("/api/workorders/", params={"customer_id": four})).json()[
        "total"
    ] == 0
    assert await counts(other_tenant.id) == before
    assert (await other_client.get(f"/api/workorders/{theirs['id']}")).json() == theirs
    assert (await other_client.get(f"/api/workorders/extra-costs/{line['id']}")).json() == line


async def test_missing_session_is_401_everywhere(client, admin_client):
    wo = await create(admin_client)
    line = await add_cost(admin_client, wo["id"])
    client.cookies.clear()
    await each_answers(client, 401, [*list_calls("/api/workorders"), *endpoints(wo["id"], line["id"])])


async def test_changes_are_in_the_event_log(admin_client, tenant):

    wo = await create(admin_client)
    line = await add_cost(admin_client, wo["id"])
    url = f"/api/workorders/{wo['id']}/extra-costs/{line['id']}"
    await admin_client.patch(url, json={"amount": 5})
    assert (
        await admin_client.post(f"{url}/approve", json={"approver_name": " "})
    ).status_code == 400
    await admin_client.post(f"{url}/approve", json={"approver_name": "Bo"})
    await admin_client.delete(f"/api/workorders/{wo['id']}")
    rows = await logged(tenant.id, "workorders", wo["id"])
    assert [r["action"] for r in rows] == [
        "work_order.created",
        "work_order.extra_cost_added",
        "work_order.extra_cost_edited",
        "work_order.extra_cost_approved",
        "work_order.deleted",
    ]


async def test_concurrent_creates_get_distinct_numbers(tenant):
    """Creates racing in separate transactions (separate connections on PostgreSQL)."""
    import asyncio

    from plugins.workorders.schemas import WorkOrderIn
    from plugins.workorders.services import create_work_order

    rows = await asyncio.gather(
        *(
            create_work_order(tenant.id, tenant.admin_id, WorkOrderIn(title=f"t{i}"))
            for i in range(8)
        )
    )
    assert sorted(r["number"] for r in rows) == list(range(1, 9))
