"""Contact persons of a customer and the customer-contact log (Kundkontakt)."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine

from plugins.customers.tables import ContactPerson, CustomerContact
from plugins.customers.tests.conftest import make_contact, make_customer, make_log
from plugins.customers.tests.test_customers import assert_names_field


async def count_contacts(tenant_id: int) -> int:
    return int(await ContactPerson.count().where(ContactPerson.tenant_id == tenant_id))


async def count_log(tenant_id: int) -> int:
    return int(await CustomerContact.count().where(CustomerContact.tenant_id == tenant_id))


# --- contact persons --------------------------------------------------------------------


async def test_contact_person_crud(admin_client):
    customer = await make_customer(admin_client)
    created = await make_contact(
        admin_client,
        customer["id"],
        name=" Karin Kontakt ",
        title="Inköpschef",
        email="Karin@Acme.Example",
        mobile_phone="070-123 45 67",
        private_phone="+46 70 765 43 21",
        work_phone="08-123 456 78",
    )
    assert created["customer_id"] == customer["id"]
    assert created["name"] == "Karin Kontakt"
    assert created["email"] == "karin@acme.example"
    assert (created["mobile_phone"], created["private_phone"], created["work_phone"]) == (
        "+46701234567", "+46707654321", "+46812345678",
    )
    got = await admin_client.get(f"/api/customers/contacts/{created['id']}")
    assert got.status_code == 200 and got.json() == created

    patched = await admin_client.patch(
        f"/api/customers/contacts/{created['id']}", json={"title": "VD", "private_phone": ""}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["title"] == "VD"
    assert patched.json()["private_phone"] is None
    assert patched.json()["mobile_phone"] == "+46701234567"

    other = await make_contact(admin_client, customer["id"], name="Anders Annan")
    listed = (await admin_client.get(f"/api/customers/{customer['id']}/contacts")).json()
    assert listed["total"] == 2
    assert [c["name"] for c in listed["items"]] == ["Anders Annan", "Karin Kontakt"]

    deleted = await admin_client.delete(f"/api/customers/contacts/{other['id']}")
    assert deleted.status_code == 200
    assert deleted.json()["deleted_at"] is not None
    assert deleted.json()["name"] == "Anders Annan"  # rule contact_persons is off by default
    listed = (await admin_client.get(f"/api/customers/{customer['id']}/contacts")).json()
    assert [c["id"] for c in listed["items"]] == [created["id"]]
    listed = (
        await admin_client.get(f"/api/customers/{customer['id']}/contacts?include_deleted=true")
    ).json()
    assert listed["total"] == 2
    response = await admin_client.patch(
        f"/api/customers/contacts/{other['id']}", json={"name": "X"}
    )
    assert response.status_code == 409


async def test_contacts_paging(admin_client):
    customer = await make_customer(admin_client)
    for i in range(3):
        await make_contact(admin_client, customer["id"], name=f"Person {i}")
    path = f"/api/customers/{customer['id']}/contacts?offset=1&limit=1"
    page = (await admin_client.get(path)).json()
    assert page["total"] == 3 and [c["name"] for c in page["items"]] == ["Person 1"]
    response = await admin_client.get(f"/api/customers/{customer['id']}/contacts?limit=201")
    assert_names_field(response, "limit")


BAD_CONTACT = [
    ({"mobile_phone": "12"}, "mobile_phone"),
    ({"private_phone": "abc"}, "private_phone"),
    ({"work_phone": "070-12"}, "work_phone"),
    ({"email": "nope"}, "email"),
    ({"name": ""}, "name"),
    ({"name": "  "}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"title": "x" * 201}, "title"),
    ({"shoe_size": 44}, "shoe_size"),
]


async def test_contact_validation_writes_nothing(admin_client, tenant):
    customer = await make_customer(admin_client)
    existing = await make_contact(admin_client, customer["id"])
    for fields, field in BAD_CONTACT:
        before = await count_contacts(tenant.id)
        response = await admin_client.post(
            f"/api/customers/{customer['id']}/contacts", json={"name": "Ok", **fields}
        )
        assert_names_field(response, field)
        assert await count_contacts(tenant.id) == before
        response = await admin_client.patch(
            f"/api/customers/contacts/{existing['id']}", json={"title": "changed", **fields}
        )
        assert_names_field(response, field)
        current = await admin_client.get(f"/api/customers/contacts/{existing['id']}")
        assert current.json() == existing


async def test_no_new_contact_persons_for_a_deleted_customer(admin_client, tenant):
    customer = await make_customer(admin_client)
    await admin_client.delete(f"/api/customers/{customer['id']}")
    before = await count_contacts(tenant.id)
    response = await admin_client.post(
        f"/api/customers/{customer['id']}/contacts", json={"name": "A"}
    )
    assert response.status_code == 409
    assert await count_contacts(tenant.id) == before


async def test_unknown_customer_404(admin_client):
    assert (await admin_client.get("/api/customers/999999/contacts")).status_code == 404
    r = await admin_client.post("/api/customers/999999/contacts", json={"name": "A"})
    assert r.status_code == 404
    assert (await admin_client.get("/api/customers/contacts/999999")).status_code == 404
    assert (await admin_client.get("/api/customers/999999/log")).status_code == 404
    assert (await admin_client.get("/api/customers/log/999999")).status_code == 404


# --- the customer-contact log -----------------------------------------------------------


@time_machine.travel(datetime(2026, 6, 15, 12, 0, tzinfo=UTC), tick=False)
async def test_log_crud(admin_client, tenant):
    customer = await make_customer(admin_client)
    karin = await make_contact(admin_client, customer["id"])
    entry = await make_log(
        admin_client, customer["id"], contact_person_id=karin["id"], date="2026-05-01",
        comment="Offert skickad",
    )
    assert entry["date"] == "2026-05-01T00:00:00Z"
    assert entry["customer_id"] == customer["id"]
    assert entry["contact_person_id"] == karin["id"]
    assert entry["comment"] == "Offert skickad"
    assert entry["created_by"] == tenant.admin_id
    # Without a date the entry is dated now; a date-time with an offset is stored in UTC.
    now_entry = await make_log(admin_client, customer["id"])
    assert now_entry["date"] == "2026-06-15T12:00:00Z"
    assert now_entry["contact_person_id"] == 0
    offset_entry = await make_log(admin_client, customer["id"], date="2026-06-01T10:30:00+02:00")
    assert offset_entry["date"] == "2026-06-01T08:30:00Z"

    listed = (await admin_client.get(f"/api/customers/{customer['id']}/log")).json()
    assert listed["total"] == 3
    assert [e["id"] for e in listed["items"]] == [now_entry["id"], offset_entry["id"], entry["id"]]

    got = await admin_client.get(f"/api/customers/log/{entry['id']}")
    assert got.status_code == 200 and got.json() == entry
    patched = await admin_client.patch(
        f"/api/customers/log/{entry['id']}",
        json={"contact_person_id": 0, "comment": "Offert skickad igen", "date": "2026-05-02"},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["contact_person_id"] == 0
    assert patched.json()["comment"] == "Offert skickad igen"
    assert patched.json()["date"] == "2026-05-02T00:00:00Z"

    deleted = await admin_client.delete(f"/api/customers/log/{entry['id']}")
    assert deleted.status_code == 200
    assert (await admin_client.get(f"/api/customers/log/{entry['id']}")).status_code == 404
    assert await count_log(tenant.id) == 2


async def test_log_entry_comments_go_with_the_entry(admin_client, tenant):
    from core.activity.service import add_activity, list_activity

    customer = await make_customer(admin_client)
    entry = await make_log(admin_client, customer["id"])
    await add_activity(
        tenant.id, "customers", "customer_contact", entry["id"], "comment", "Hej", None, ""
    )
    assert (await admin_client.delete(f"/api/customers/log/{entry['id']}")).status_code == 200
    total, _ = await list_activity(tenant.id, "customers", "customer_contact", entry["id"])
    assert total == 0


async def test_log_contact_person_must_be_of_the_same_customer(admin_client, tenant):
    customer = await make_customer(admin_client)
    other_customer = await make_customer(admin_client, name="Other AB")
    theirs = await make_contact(admin_client, other_customer["id"])
    gone = await make_contact(admin_client, customer["id"], name="Gone")
    await admin_client.delete(f"/api/customers/contacts/{gone['id']}")
    entry = await make_log(admin_client, customer["id"])
    for contact_id in (theirs["id"], gone["id"], 999_999):
        before = await count_log(tenant.id)
        response = await admin_client.post(
            f"/api/customers/{customer['id']}/log", json={"contact_person_id": contact_id}
        )
        assert_names_field(response, "contact_person_id")
        assert await count_log(tenant.id) == before
        response = await admin_client.patch(
            f"/api/customers/log/{entry['id']}", json={"contact_person_id": contact_id}
        )
        assert_names_field(response, "contact_person_id")
    assert (await admin_client.get(f"/api/customers/log/{entry['id']}")).json() == entry


BAD_LOG = [
    ({"date": "yesterday"}, "date"),
    ({"date": "2026-13-01"}, "date"),
    ({"date": "1899-12-31"}, "date"),
    ({"date": "2999-01-01"}, "date"),
    ({"date": "x" * 41}, "date"),
    ({"comment": "x" * 10_001}, "comment"),
    ({"contact_person_id": -1}, "contact_person_id"),
    ({"contact_person_id": "one"}, "contact_person_id"),
    ({"customer_id": 5}, "customer_id"),
]


async def test_log_validation_writes_nothing(admin_client, tenant):
    customer = await make_customer(admin_client)
    entry = await make_log(admin_client, customer["id"])
    for fields, field in BAD_LOG:
        before = await count_log(tenant.id)
        response = await admin_client.post(f"/api/customers/{customer['id']}/log", json=fields)
        assert_names_field(response, field)
        assert await count_log(tenant.id) == before
        response = await admin_client.patch(
            f"/api/customers/log/{entry['id']}", json={"comment": "changed", **fields}
        )
        assert_names_field(response, field)
    assert (await admin_client.get(f"/api/customers/log/{entry['id']}")).json() == entry


async def test_no_new_log_entries_for_a_deleted_customer(admin_client, tenant):
    customer = await make_customer(admin_client)
    await admin_client.delete(f"/api/customers/{customer['id']}")
    response = await admin_client.post(f"/api/customers/{customer['id']}/log", json={})
    assert response.status_code == 409
    assert await count_log(tenant.id) == 0
