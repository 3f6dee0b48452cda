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
    # A record names a customer, or a customer and one of its contact persons (checked:
    # core.references), so the two deletes are seen on two sets of records.
    made = await _one_each(admin_client, {"customer_id": customer["id"]})
    with_contact = await _one_each(
        admin_client, {"customer_id": keep["id"], "contact_person_id": contact["id"]}
    )

    assert (await admin_client.delete(f"/api/customers/{customer['id']}")).status_code == 200
    for module, record in made.items():
        after = (await admin_client.get(f"/api/{module}/{record['id']}")).json()
        assert after["customer_id"] == 0, module
    for module, record in with_contact.items():
        assert (await admin_client.get(f"/api/{module}/{record['id']}")).json() == record

    assert (
        await admin_client.delete(f"/api/customers/contacts/{contact['id']}")
    ).status_code == 200
    for module, record in with_contact.items():
        after = (await admin_client.get(f"/api/{module}/{record['id']}")).json()
        assert (after["customer_id"], after["contact_person_id"]) == (keep["id"], 0), module


async def _one_each(client, links):  # type: ignore[no-untyped-def]
    made = {}
    for module, title in (("cases", "a"), ("workorders", "b"), ("orders", "c")):
        r = await client.post(f"/api/{module}/", json={"title": title, **links})
        assert r.status_code == 201, r.text
        made[module] = r.json()
    return made
