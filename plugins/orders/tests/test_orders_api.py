"""Orders: CRUD, lines, invoicing, comment rows, validation, tenant isolation, auth."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine

from plugins.orders.tables import Order, OrderComment, OrderLine
from tests.modules import list_calls, record_calls
from tests.support import add_party, each_answers, logged


async def create(client, **body):  # type: ignore[no-untyped-def]
    body.setdefault("title", "Installation")
    response = await client.post("/api/orders/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def counts(tenant_id: int) -> tuple[int, int, int]:
    return (
        await Order.count().where(Order.tenant_id == tenant_id),
        await OrderLine.count().where(OrderLine.tenant_id == tenant_id),
        await OrderComment.count().where(OrderComment.tenant_id == tenant_id),
    )


async def test_create_with_lines_computes_exact_amounts(admin_client, tenant):
    customer, (contact,) = await add_party(tenant.id)
    order = await create(
        admin_client,
        customer_id=customer,
        contact_person_id=contact,
        customer_reference="Bo Ek",
        invoice_comment="Märk fakturan med projekt 12",
        lines=[
            {"description": "Arbete", "quantity": "1.5", "unit_price": "650"},
            {"description": "Material", "quantity": 3, "unit_price": "19.99"},
            {"description": "Rabatt", "unit_price": "-100"},
            {"description": "Kabel", "quantity": "0.333", "unit_price": "10.01"},
        ],
    )
    assert order["number"] == 1 and order["created_by"] == tenant.admin_id
    assert [line["amount"] for line in order["lines"]] == ["975.00", "59.97", "-100.00", "3.33"]
    assert [line["quantity"] for line in order["lines"]] == ["1.5", "3", "1", "0.333"]
    assert [line["position"] for line in order["lines"]] == [1, 2, 3, 4]
    assert order["total"] == "938.30"
    assert order["invoiced_at"] is None
    assert (await admin_client.get(f"/api/orders/{order['id']}")).json() == order
    assert (await create(admin_client))["number"] == 2


BAD_CREATES = [
    ({"title": ""}, "title"),
    ({"title": "  "}, "title"),
    ({"title": "x", "customer_id": -1}, "customer_id"),
    ({"title": "x", "invoice_comment": "c" * 2001}, "invoice_comment"),
    ({"title": "x", "lines": [{"description": "a", "unit_price": "1.001"}]}, "lines.0.unit_price"),
    (
        {
            "title": "x",
            "lines": [
                {"description": "a", "unit_price": 1},
                {"description": "b", "unit_price": 1, "quantity": 0},
            ],
        },
        "lines.1.quantity",
    ),
    ({"title": "x", "lines": [{"description": " ", "unit_price": 1}]}, "lines.0.description"),
    (
        {"title": "x", "lines": [{"description": "a", "unit_price": 1, "quantity": "0.0001"}]},
        "lines.0.quantity",
    ),
    ({"title": "x", "lines": [{"description": "a", "unit_price": "NaN"}]}, "lines.0.unit_price"),
    ({"title": "x", "lines": [{"description": "a"}]}, "unit_price"),
    ({"title": "x", "invoiced_at": "2026-01-01T00:00:00Z"}, "invoiced_at"),
]


async def test_bad_create_is_400_and_writes_nothing(admin_client, tenant):
    for body, field in BAD_CREATES:
        r = await admin_client.post("/api/orders/", json=body)
        assert r.status_code == 400, (body, r.text)
        assert field in r.text, (body, r.text)
    assert await counts(tenant.id) == (0, 0, 0)


async def test_lines_add_edit_delete(admin_client):
    order = await create(admin_client)
    r = await admin_client.post(
        f"/api/orders/{order['id']}/lines",
        json={"description": "Arbete", "quantity": 2, "unit_price": "500"},
    )
    assert r.status_code == 201 and r.json()["amount"] == "1000.00" and r.json()["position"] == 1
    line = r.json()
    r = await admin_client.post(
        f"/api/orders/{order['id']}/lines", json={"description": "Resa", "unit_price": "120"}
    )
    second = r.json()
    assert second["position"] == 2
    r = await admin_client.patch(
        f"/api/orders/{order['id']}/lines/{line['id']}", json={"quantity": "2.5"}
    )
    assert r.status_code == 200 and r.json()["amount"] == "1250.00"
    r = await admin_client.delete(f"/api/orders/{order['id']}/lines/{second['id']}")
    assert r.status_code == 200
    got = (await admin_client.get(f"/api/orders/{order['id']}")).json()
    assert [x["id"] for x in got["lines"]] == [line["id"]] and got["total"] == "1250.00"
    for body, field in (
        ({"quantity": 0}, "quantity"),
        ({"unit_price": "1.234"}, "unit_price"),
        ({"description": " "}, "description"),
        ({"unit_price": "2000000000"}, "unit_price"),
        ({"vat": 25}, "vat"),
    ):
        r = await admin_client.patch(f"/api/orders/{order['id']}/lines/{line['id']}", json=body)
        assert r.status_code == 400 and field in r.text, (body, r.text)
        r = await admin_client.post(
            f"/api/orders/{order['id']}/lines", json={"description": "d", "unit_price": 1, **body}
        )
        assert r.status_code == 400 and field in r.text, (body, r.text)
    assert (await admin_client.get(f"/api/orders/{order['id']}")).json() == got
    other = await create(admin_client)
    assert (
        await admin_client.patch(
            f"/api/orders/{other['id']}/lines/{line['id']}", json={"quantity": 1}
        )
    ).status_code == 404


async def test_invoice_freezes_lines_and_invoice_text(admin_client):
    order = await create(admin_client)
    r = await admin_client.post(f"/api/orders/{order['id']}/invoice")
    assert r.status_code == 409 and "no article lines" in r.json()["detail"]
    line = (
        await admin_client.post(
            f"/api/orders/{order['id']}/lines", json={"description": "A", "unit_price": 10}
        )
    ).json()
    moment = datetime(2026, 4, 30, 15, 0, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        invoiced = (await admin_client.post(f"/api/orders/{order['id']}/invoice")).json()
    assert datetime.fromisoformat(invoiced["invoiced_at"]) == moment
    assert (await admin_client.post(f"/api/orders/{order['id']}/invoice")).status_code == 409
    await each_answers(admin_client, 409, (
        ("patch", f"/api/orders/{order['id']}", {"invoice_comment": "changed"}),
        ("post", f"/api/orders/{order['id']}/lines", {"description": "B", "unit_price": 1}),
        ("patch", f"/api/orders/{order['id']}/lines/{line['id']}", {"unit_price": 1}),
        ("delete", f"/api/orders/{order['id']}/lines/{line['id']}", None),
    ), detail="invoiced")
    # Comment rows and closing still work on an invoiced order.
    assert (
        await admin_client.post(f"/api/orders/{order['id']}/comments", json={"text": "Betald"})
    ).status_code == 201
    assert (await admin_client.post(f"/api/orders/{order['id']}/close")).json()[
        "status"
    ] == "closed"
    assert (await admin_client.get(f"/api/orders/{order['id']}")).json()["lines"] == invoiced[
        "lines"
    ]


async def test_comment_rows(admin_client, tenant):
    order = await create(admin_client)
    r = await admin_client.post(
        f"/api/orders/{order['id']}/comments", json={"text": " Kunden ringde "}
    )
    assert r.status_code == 201
    c = r.json()
    assert (
        c["text"] == "Kunden ringde"
        and c["created_by"] == tenant.admin_id
        and c["order_id"] == order["id"]
    )
    await admin_client.post(f"/api/orders/{order['id']}/comments", json={"text": "Två"})
    assert [
        x["text"] for x in (await admin_client.get(f"/api/orders/{order['id']}/comments")).json()
    ] == ["Kunden ringde", "Två"]
    assert (await admin_client.get(f"/api/orders/comments/{c['id']}")).json() == c
    before = await counts(tenant.id)
    for body, field in (
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({}, "text"),
        ({"text": "x" * 10_001}, "text"),
        ({"text": "a", "by": 1}, "by"),
    ):
        r = await admin_client.post(f"/api/orders/{order['id']}/comments", json=body)
        assert r.status_code == 400 and field in r.text, (body, r.text)
    assert await counts(tenant.id) == before


async def test_list_filters_and_life_cycle(admin_client, tenant):
    three, _ = await add_party(tenant.id, contacts=0)
    four, _ = await add_party(tenant.id, contacts=0)
    a = await create(admin_client, customer_id=three, lines=[{"description": "x", "unit_price": 1}])
    b = await create(admin_client, customer_id=three)
    c = await create(admin_client, customer_id=four)
    await admin_client.post(f"/api/orders/{a['id']}/invoice")
    await admin_client.post(f"/api/orders/{b['id']}/close")
    d = await create(admin_client)
    await admin_client.delete(f"/api/orders/{d['id']}")

    def ids(r):  # type: ignore[no-untyped-def]
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    assert ids(await admin_client.get("/api/orders/")) == [c["id"], b["id"], a["id"]]
    assert ids(await admin_client.get("/api/orders/", params={"customer_id": three})) == [
        b["id"],
        a["id"],
    ]
    assert ids(await admin_client.get("/api/orders/", params={"invoiced": True})) == [a["id"]]
    assert ids(await admin_client.get("/api/orders/", params={"invoiced": False})) == [
        c["id"],
        b["id"],
    ]
    assert ids(await admin_client.get("/api/orders/", params={"status": "closed"})) == [b["id"]]
    assert ids(await admin_client.get("/api/orders/", params={"limit": 1, "offset": 2})) == [
        a["id"]
    ]
    assert d["id"] in ids(await admin_client.get("/api/orders/", params={"include_deleted": True}))
    for params in ({"limit": 201}, {"status": "x"}, {"invoiced": "maybe"}, {"customer_id": -1}):
        assert (await admin_client.get("/api/orders/", params=params)).status_code == 400, params
    assert (await admin_client.post(f"/api/orders/{b['id']}/close")).status_code == 409
    assert (await admin_client.post(f"/api/orders/{b['id']}/reopen")).json()["closed_at"] is None
    assert (await admin_client.post(f"/api/orders/{b['id']}/reopen")).status_code == 409
    for method, path in (
        ("patch", f"/api/orders/{d['id']}"),
        ("post", f"/api/orders/{d['id']}/comments"),
        ("post", f"/api/orders/{d['id']}/lines"),
    ):
        body = (
            {"title": "x"}
            if method == "patch"
            else (
                {"text": "x"}
                if path.endswith("comments")
                else {"description": "x", "unit_price": 1}
            )
        )
        r = await getattr(admin_client, method)(path, json=body)
        assert r.status_code == 409 and "deleted" in r.json()["detail"], path


def endpoints(order_id: int, line_id: int, comment_id: int) -> list[tuple[str, str, dict | None]]:
    # Every call is refused, so the order deletes come before their parts' without harm.
    return [
        *record_calls("/api/orders", order_id),
        ("post", f"/api/orders/{order_id}/lines", {"description": "x", "unit_price": 1}),
        ("patch", f"/api/orders/{order_id}/lines/{line_id}", {"unit_price": 2}),
        ("get", f"/api/orders/{order_id}/comments", None),
        ("post", f"/api/orders/{order_id}/comments", {"text": "x"}),
        ("get", f"/api/orders/comments/{comment_id}", None),
        ("post", f"/api/orders/{order_id}/invoice", None),
        ("delete", f"/api/orders/{order_id}/lines/{line_id}", None),
    ]


async def test_another_tenants_order_is_404_everywhere_and_untouched(
    admin_client, other_client, other_tenant
):
    six, _ = await add_party(other_tenant.id, contacts=0)
    theirs = await create(
        other_client, customer_id=six, lines=[{"description": "x", "unit_price": 5}]
    )
    comment = (
        await other_client.post(f"/api/orders/{theirs['id']}/comments", json={"text": "privat"})
    ).json()
    before = await counts(other_tenant.id)
    await each_answers(admin_client, 404, endpoints(theirs["id"], theirs["lines"][0]["id"], comment["id"]))
    mine = await create(admin_client)
    r = await admin_client.patch(
        f"/api/orders/{mine['id']}/lines/{theirs['lines'][0]['id']}", json={"unit_price": 3}
    )
    assert r.status_code == 404
    assert await counts(other_tenant.id) == before
    assert (await other_client.get(f"/api/orders/{theirs['id']}")).json() == theirs


async def test_missing_session_is_401_everywhere(client, admin_client):
    order = await create(admin_client, lines=[{"description": "x", "unit_price": 5}])
    comment = (
        await admin_client.post(f"/api/orders/{order['id']}/comments", json={"text": "c"})
    ).json()
    client.cookies.clear()
    calls = endpoints(order["id"], order["lines"][0]["id"], comment["id"])
    await each_answers(client, 401, [*list_calls("/api/orders"), *calls])


async def test_changes_are_in_the_event_log(admin_client, tenant):

    order = await create(admin_client)
    line = (
        await admin_client.post(
            f"/api/orders/{order['id']}/lines", json={"description": "A", "unit_price": 1}
        )
    ).json()
    await admin_client.patch(
        f"/api/orders/{order['id']}/lines/{line['id']}", json={"unit_price": 2}
    )
    await admin_client.post(f"/api/orders/{order['id']}/comments", json={"text": "c"})
    await admin_client.post(f"/api/orders/{order['id']}/invoice")
    assert (await admin_client.post(f"/api/orders/{order['id']}/invoice")).status_code == 409
    rows = await logged(tenant.id, "orders", order["id"])
    assert [r["action"] for r in rows] == [
        "order.created",
        "order.line_added",
        "order.line_edited",
        "order.comment_added",
        "order.invoiced",
    ]


async def test_concurrent_creates_get_distinct_numbers(tenant):
    """Creates racing in separate transactions (separate connections on PostgreSQL)."""
    import asyncio

    from plugins.orders.schemas import OrderIn
    from plugins.orders.services import create_order

    rows = await asyncio.gather(
        *(create_order(tenant.id, tenant.admin_id, OrderIn(title=f"t{i}")) for i in range(8))
    )
    assert sorted(r["number"] for r in rows) == list(range(1, 9))
