"""The record of processing activities (article 30): edit, pre-fill from the modules,
checks against what the system really stores, isolation and permissions."""

from __future__ import annotations

import pytest

from core.tables import Employee, EmployeeGroup, GroupMember
from core.users import create_employee_with_password
from plugins.privacy.tests.conftest import COMPLETE, make_activity
from tests.support import TEST_PASSWORD, login


async def test_create_read_edit_delete(admin_client):
    a = await make_activity(admin_client, data_subjects=[" Kunder ", "Kunder", "  ", "Kontaktpersoner"])
    assert a["number"] == 1 and a["incomplete"] == []
    assert a["data_subjects"] == ["Kunder", "Kontaktpersoner"]  # trimmed, no blanks or duplicates
    b = await make_activity(admin_client, name="Personal")
    assert b["number"] == 2

    r = await admin_client.patch(f"/api/privacy/activities/{a['id']}", json={"purpose": "", "recipients": []})
    assert r.status_code == 200, r.text
    assert r.json()["incomplete"] == ["purpose"] and r.json()["recipients"] == []
    assert r.json()["legal_basis"] == "contract"  # untouched

    r = await admin_client.delete(f"/api/privacy/activities/{a['id']}")
    assert r.status_code == 200 and r.json()["deleted_at"] is not None
    listed = (await admin_client.get("/api/privacy/activities/")).json()
    assert [i["number"] for i in listed["items"]] == [2] and listed["total"] == 1
    listed = (await admin_client.get("/api/privacy/activities/?include_deleted=true")).json()
    assert [i["number"] for i in listed["items"]] == [1, 2]
    r = await admin_client.patch(f"/api/privacy/activities/{a['id']}", json={"name": "X"})
    assert r.status_code == 409 and "deleted" in r.json()["detail"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "   "}, "name"),
        ({"modules": ["no_such_module"]}, "modules"),
    ],
)
async def test_bad_values_are_400_naming_the_field(admin_client, body, field):
    r = await admin_client.post("/api/privacy/activities/", json={**COMPLETE, **body})
    assert r.status_code == 400, r.text
    assert r.json()["field"] == field
    assert (await admin_client.get("/api/privacy/activities/")).json()["total"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {**COMPLETE, "legal_basis": "because"},
        {**COMPLETE, "unknown": 1},
        {**COMPLETE, "data_subjects": "Kunder"},
        {"purpose": "no name"},
        {**COMPLETE, "name": "x" * 201},
    ],
)
async def test_malformed_bodies_are_refused(admin_client, body):
    r = await admin_client.post("/api/privacy/activities/", json=body)
    assert r.status_code == 400, r.text
    assert (await admin_client.get("/api/privacy/activities/")).json()["total"] == 0


async def test_activity_is_checked_against_what_its_modules_store(admin_client):
    system = (await admin_client.get("/api/privacy/inventory/system")).json()["modules"]
    cases = next(m for m in system if m["module"] == "cases")
    assert "Adress" in cases["personal_data"]  # the end customer's address
    assert "Kunder" in cases["data_subjects"]  # cases refer to customers
    a = await make_activity(admin_client, modules=["cases"], personal_data=["Namn"])
    assert a["system_personal_data"] == cases["personal_data"]
    assert "Adress" in a["missing_personal_data"] and "Namn" not in a["missing_personal_data"]
    r = await admin_client.patch(
        f"/api/privacy/activities/{a['id']}", json={"personal_data": cases["personal_data"]}
    )
    assert r.json()["missing_personal_data"] == []


async def test_system_view_shows_the_organizations_retention_choice(admin_client):
    r = await admin_client.put("/api/cases/settings", json=[{"key": "cases", "mode": "days", "days": 400}])
    assert r.status_code == 200, r.text
    system = (await admin_client.get("/api/privacy/inventory/system")).json()["modules"]
    cases = next(m for m in system if m["module"] == "cases")
    rule = next(r for r in cases["retention"] if r["key"] == "cases")
    assert (rule["mode"], rule["days"]) == ("days", 400)
    assert "Ärenden: anonymiseras 400 dagar efter avslut eller borttagning" in cases["retention_text"]
    core = next(m for m in system if m["module"] == "core")
    assert "raderas 90 dagar" in core["retention_text"]  # the system log's rows are deleted


async def test_prefill_adds_one_activity_per_module_in_use(admin_client):
    r = await admin_client.put("/api/modules/orders", json={"enabled": False})
    assert r.status_code == 200, r.text
    await make_activity(admin_client, modules=["customers"])
    r = await admin_client.post("/api/privacy/activities/prefill")
    assert r.status_code == 201, r.text
    body = r.json()
    by_module = {a["modules"][0]: a for a in body["created"]}
    assert body["skipped"] == ["customers"]  # already covered
    assert "orders" not in by_module  # turned off for the organization
    assert {"core", "cases", "quotes", "privacy"} <= set(by_module)
    system = {m["module"]: m for m in (await admin_client.get("/api/privacy/inventory/system")).json()["modules"]}
    for module, activity in by_module.items():
        assert activity["personal_data"] == system[module]["personal_data"]
        assert activity["data_subjects"] == system[module]["data_subjects"]
        assert activity["retention"] == system[module]["retention_text"]
        # A person decides purpose and legal basis.
        assert activity["incomplete"] == ["purpose", "legal_basis"]
        assert activity["missing_personal_data"] == []
    numbers = sorted(a["number"] for a in body["created"])
    assert numbers == list(range(2, 2 + len(numbers)))
    again = (await admin_client.post("/api/privacy/activities/prefill")).json()
    assert again["created"] == [] and set(again["skipped"]) == set(by_module) | {"customers"}


async def test_another_tenants_activity_is_not_found(admin_client, other_client):
    a = await make_activity(admin_client)
    for method, body in (("get", None), ("patch", {"name": "Mine"}), ("delete", None)):
        kwargs = {"json": body} if body is not None else {}
        r = await getattr(other_client, method)(f"/api/privacy/activities/{a['id']}", **kwargs)
        assert r.status_code == 404, (method, r.text)
    assert (await other_client.get("/api/privacy/activities/")).json()["total"] == 0
    assert (await admin_client.get(f"/api/privacy/activities/{a['id']}")).json()["name"] == COMPLETE["name"]


async def test_ids_out_of_range_are_400_not_500(admin_client):
    assert (await admin_client.get("/api/privacy/activities/99999999999")).status_code == 400
    assert (await admin_client.get("/api/privacy/activities/0")).status_code == 400


async def test_needs_the_gdpr_permission(app, admin_client, tenant):
    from core.testing.client import AppClient

    email = f"user@{tenant.slug}.example"
    await create_employee_with_password(tenant.id, "Vanlig Användare", email, "user", TEST_PASSWORD)
    async with AppClient(app=app) as c:
        assert (await login(c, tenant, email=email)).status_code == 200
        for path in ("/api/privacy/activities/", "/api/privacy/incidents/", "/api/privacy/contacts/",
                     "/api/privacy/inventory/export"):
            assert (await c.get(path)).status_code == 403, path
        # A group with the "gdpr" permission opens the module.
        group = await EmployeeGroup.insert(
            EmployeeGroup(tenant_id=tenant.id, name="Dataskydd", permissions="gdpr")
        ).returning(EmployeeGroup.id)
        emp = await Employee.select(Employee.id).where(Employee.email == email).first()
        await GroupMember.insert(
            GroupMember(tenant_id=tenant.id, group_id=group[0]["id"], employee_id=emp["id"])
        )
        assert (await login(c, tenant, email=email)).status_code == 200
        assert (await c.get("/api/privacy/activities/")).status_code == 200


async def test_module_turned_off_is_404(admin_client):
    await make_activity(admin_client)
    assert (await admin_client.put("/api/modules/privacy", json={"enabled": False})).status_code == 200
    assert (await admin_client.get("/api/privacy/activities/")).status_code == 404
    assert (await admin_client.get("/api/privacy/settings")).status_code == 404
    assert (await admin_client.put("/api/modules/privacy", json={"enabled": True})).status_code == 200
    assert (await admin_client.get("/api/privacy/activities/")).json()["total"] == 1


async def test_anonymous_is_401(anon_client):
    assert (await anon_client.get("/api/privacy/activities/")).status_code == 401
