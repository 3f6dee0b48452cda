"""GDPR contact persons: the data-protection officer and other contacts."""

from __future__ import annotations

import pytest

from plugins.privacy.tests.conftest import make_contact


async def test_create_normalizes_and_lists_by_role(admin_client, tenant):
    dpo = await make_contact(admin_client, email=" Dora@Example.SE ", employee_id=tenant.admin_id)
    assert (dpo["email"], dpo["phone"], dpo["role"]) == ("dora@example.se", "+46701234567", "dpo")
    assert dpo["employee_id"] == tenant.admin_id
    await make_contact(
        admin_client, name="Extern Konsult", role="contact", organization="Dataskydd AB", phone=None, email=None
    )
    listed = (await admin_client.get("/api/privacy/contacts/?role=dpo")).json()
    assert [c["name"] for c in listed["items"]] == ["Dora Dataskydd"]
    assert (await admin_client.get("/api/privacy/contacts/")).json()["total"] == 2
    assert (await admin_client.get("/api/privacy/contacts/?role=boss")).status_code == 400

    r = await admin_client.patch(f"/api/privacy/contacts/{dpo['id']}", json={"phone": "", "notes": "Nås via växeln"})
    assert r.status_code == 200, r.text
    assert r.json()["phone"] is None and r.json()["email"] == "dora@example.se"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "not-an-address"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"employee_id": 2_000_000_000}, "employee_id"),
        ({"name": "  "}, "name"),
    ],
)
async def test_bad_values_are_400(admin_client, body, field):
    r = await admin_client.post("/api/privacy/contacts/", json={"name": "X", **body})
    assert r.status_code == 400, r.text
    assert r.json()["field"] == field
    assert (await admin_client.get("/api/privacy/contacts/")).json()["total"] == 0


@pytest.mark.parametrize("body", [{"name": "X", "role": "king"}, {"role": "dpo"}, {"name": "X", "x": 1}])
async def test_malformed_bodies_are_refused(admin_client, body):
    assert (await admin_client.post("/api/privacy/contacts/", json=body)).status_code == 400


async def test_an_employee_of_another_organization_cannot_be_linked(admin_client, other_tenant):
    r = await admin_client.post("/api/privacy/contacts/", json={"name": "X", "employee_id": other_tenant.admin_id})
    assert r.status_code == 400 and r.json()["field"] == "employee_id"


async def test_another_tenants_contact_is_not_found(admin_client, other_client):
    c = await make_contact(admin_client)
    for method, body in (("get", None), ("patch", {"name": "Mine"}), ("delete", None)):
        kwargs = {"json": body} if body is not None else {}
        r = await getattr(other_client, method)(f"/api/privacy/contacts/{c['id']}", **kwargs)
        assert r.status_code == 404, (method, r.text)
    got = (await admin_client.get(f"/api/privacy/contacts/{c['id']}")).json()
    assert got["name"] == "Dora Dataskydd" and got["deleted_at"] is None
