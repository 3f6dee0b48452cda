"""Every endpoint: no session is 401; another tenant's ids are 404 and change nothing."""

from __future__ import annotations

from plugins.customers.tables import ContactPerson, Customer, CustomerContact
from plugins.customers.tests.conftest import make_contact, make_customer, make_log


def endpoints(
    customer_id: int, contact_id: int, entry_id: int
) -> list[tuple[str, str, dict | None]]:
    return [
        ("GET", f"/api/customers/{customer_id}", None),
        ("PATCH", f"/api/customers/{customer_id}", {"name": "Hijacked"}),
        ("DELETE", f"/api/customers/{customer_id}", None),
        ("GET", f"/api/customers/{customer_id}/contacts", None),
        ("POST", f"/api/customers/{customer_id}/contacts", {"name": "Intruder"}),
        ("GET", f"/api/customers/contacts/{contact_id}", None),
        ("PATCH", f"/api/customers/contacts/{contact_id}", {"name": "Hijacked"}),
        ("DELETE", f"/api/customers/contacts/{contact_id}", None),
        ("GET", f"/api/customers/{customer_id}/log", None),
        ("POST", f"/api/customers/{customer_id}/log", {"comment": "Intruder"}),
        ("GET", f"/api/customers/log/{entry_id}", None),
        ("PATCH", f"/api/customers/log/{entry_id}", {"comment": "Hijacked"}),
        ("DELETE", f"/api/customers/log/{entry_id}", None),
    ]


async def snapshot(tenant_id: int) -> tuple[list, list, list]:
    return (
        await Customer.select().where(Customer.tenant_id == tenant_id).order_by(Customer.id),
        await ContactPerson.select()
        .where(ContactPerson.tenant_id == tenant_id)
        .order_by(ContactPerson.id),
        await CustomerContact.select()
        .where(CustomerContact.tenant_id == tenant_id)
        .order_by(CustomerContact.id),
    )


async def test_other_tenants_ids_are_404_and_nothing_changes(
    admin_client, other_client, tenant, other_tenant
):
    customer = await make_customer(admin_client, email="mine@acme.example")
    contact = await make_contact(admin_client, customer["id"])
    entry = await make_log(admin_client, customer["id"], contact_person_id=contact["id"])
    before = await snapshot(tenant.id)
    theirs_before = await snapshot(other_tenant.id)
    for method, path, body in endpoints(customer["id"], contact["id"], entry["id"]):
        response = await other_client.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert "mine@acme.example" not in response.text
    # Listing shows none of them either.
    listed = (await other_client.get("/api/customers/?include_deleted=true")).json()
    assert customer["id"] not in [c["id"] for c in listed["items"]]
    params = {"q": str(customer["number"])}
    found = (await other_client.get("/api/customers/", params=params)).json()
    assert customer["id"] not in [c["id"] for c in found["items"]]
    assert await snapshot(tenant.id) == before
    assert await snapshot(other_tenant.id) == theirs_before


async def test_log_entry_cannot_name_another_tenants_contact_person(
    admin_client, other_client, other_tenant
):
    mine = await make_customer(admin_client)
    contact = await make_contact(admin_client, mine["id"])
    theirs = await make_customer(other_client)
    response = await other_client.post(
        f"/api/customers/{theirs['id']}/log", json={"contact_person_id": contact["id"]}
    )
    assert response.status_code == 400
    assert response.json()["field"] == "contact_person_id"
    assert await CustomerContact.count().where(CustomerContact.tenant_id == other_tenant.id) == 0


async def test_no_session_is_401(client):
    for method, path, body in [
        ("GET", "/api/customers/", None),
        ("POST", "/api/customers/", {"name": "Acme AB"}),
        *endpoints(1, 1, 1),
        ("GET", "/api/customers/settings", None),
        ("PUT", "/api/customers/settings", [{"key": "customers", "mode": "off"}]),
    ]:
        response = await client.request(method, path, json=body)
        assert response.status_code == 401, (method, path, response.text)


async def test_module_disabled_for_the_tenant_is_404(admin_client, tenant):
    customer = await make_customer(admin_client)
    response = await admin_client.put("/api/modules/customers", json={"enabled": False})
    assert response.status_code == 200, response.text
    assert (await admin_client.get("/api/customers/")).status_code == 404
    assert (await admin_client.get(f"/api/customers/{customer['id']}")).status_code == 404
    assert (await admin_client.post("/api/customers/", json={"name": "X"})).status_code == 404
