"""With the real customers plugin installed: deleting a customer (rule "immediately")
sets the customer link to 0 in cases, work orders and orders, inside the delete request.

The module plugins do not import the customers plugin; this only works through their
customer_ref / contact_ref declarations. Skipped where the customers plugin is not
installed (the stub-plugin tests cover the same contract without it).
"""

from __future__ import annotations

import pytest

from core.plugins import get_host


@pytest.fixture(autouse=True)
def _needs_customers() -> None:
    if get_host().plugin("customers") is None:
        pytest.skip("the customers plugin is not installed")


async def test_deleting_a_customer_clears_every_link(admin_client):
    r = await admin_client.put(
        "/api/customers/settings",
        json=[
            {"key": "customers", "mode": "immediately"},
            {"key": "contact_persons", "mode": "immediately"},
        ],
    )
    assert r.status_code == 200, r.text
    customer = (
        await admin_client.post(
            "/api/customers/", json={"name": "Anna Svensson", "kind": "private"}
        )
    ).json()
    keep = (await admin_client.post("/api/customers/", json={"name": "Bo Ek"})).json()
    contact = (
        await admin_client.post(f"/api/customers/{keep['id']}/contacts", json={"name": "Cia Ek"})
    ).json()
    links = {"customer_id": customer["id"], "contact_person_id": contact["id"]}
    made = {
        "cases": (await admin_client.post("/api/cases/", json={"title": "a", **links})).json(),
        "workorders": (
            await admin_client.post("/api/workorders/", json={"title": "b", **links})
        ).json(),
        "orders": (await admin_client.post("/api/orders/", json={"title": "c", **links})).json(),
    }
    other = (
        await admin_client.post("/api/cases/", json={"title": "d", "customer_id": keep["id"]})
    ).json()

    assert (await admin_client.delete(f"/api/customers/{customer['id']}")).status_code == 200
    for module, record in made.items():
        after = (await admin_client.get(f"/api/{module}/{record['id']}")).json()
        assert after["customer_id"] == 0, module
        assert after["contact_person_id"] == contact["id"], module
    assert (await admin_client.get(f"/api/cases/{other['id']}")).json() == other

    assert (
        await admin_client.delete(f"/api/customers/contacts/{contact['id']}")
    ).status_code == 200
    for module, record in made.items():
        assert (await admin_client.get(f"/api/{module}/{record['id']}")).json()[
            "contact_person_id"
        ] == 0, module
