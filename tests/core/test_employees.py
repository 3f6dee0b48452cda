"""Employees and groups: the administrator's API, its refusals, and tenant isolation."""

from __future__ import annotations

from core.tables import Employee, EmployeeGroup, GroupMember, Session
from tests.core.conftest import add_employee
from tests.support import TEST_PASSWORD, login


async def test_other_tenants_employees_and_groups_are_not_found(admin_client, tenant, other_tenant):
    b_user, _ = await add_employee(other_tenant, name="Bertil Other")
    b_group = await EmployeeGroup.insert(
        EmployeeGroup(tenant_id=other_tenant.id, name="B staff", permissions="gdpr")
    ).returning(EmployeeGroup.id)
    b_group_id = int(b_group[0]["id"])
    await GroupMember.insert(GroupMember(tenant_id=other_tenant.id, group_id=b_group_id, employee_id=b_user))
    before_emp = await Employee.select().where(Employee.tenant_id == other_tenant.id).order_by(Employee.id)
    before_grp = await EmployeeGroup.select().where(EmployeeGroup.tenant_id == other_tenant.id)
    before_mem = await GroupMember.select().where(GroupMember.tenant_id == other_tenant.id)
    c = admin_client

    for eid in (b_user, other_tenant.admin_id):
        assert (await c.get(f"/api/employees/{eid}")).status_code == 404
        assert (await c.patch(f"/api/employees/{eid}", json={"name": "Taken Over", "role": "user"})).status_code == 404
        assert (await c.delete(f"/api/employees/{eid}")).status_code == 404
    r = await c.get(f"/api/groups/{b_group_id}")
    assert r.status_code == 404
    assert (await c.patch(f"/api/groups/{b_group_id}", json={"name": "Mine now"})).status_code == 404
    r = await c.put(f"/api/groups/{b_group_id}/members", json={"employee_ids": [tenant.admin_id]})
    assert r.status_code == 404
    assert (await c.delete(f"/api/groups/{b_group_id}")).status_code == 404

    # Another tenant's employee cannot be put into one's own group either.
    own = await c.post("/api/groups/", json={"name": "Own"})
    r = await c.put(f"/api/groups/{own.json()['id']}/members", json={"employee_ids": [b_user]})
    assert r.status_code == 400 and r.json()["field"] == "employee_ids"

    # Lists show only the own organization.
    listed = {e["id"] for e in (await c.get("/api/employees/", params={"include_deleted": "true"})).json()["items"]}
    assert listed == {tenant.admin_id}
    assert {g["id"] for g in (await c.get("/api/groups/")).json()["items"]} == {own.json()["id"]}

    assert await Employee.select().where(Employee.tenant_id == other_tenant.id).order_by(Employee.id) == before_emp
    assert await EmployeeGroup.select().where(EmployeeGroup.tenant_id == other_tenant.id) == before_grp
    assert await GroupMember.select().where(GroupMember.tenant_id == other_tenant.id) == before_mem


async def test_create_employee_validates_and_normalizes(admin_client, tenant):
    c = admin_client
    r = await c.post("/api/employees/", json={"name": "Anna", "email": "anna.at.example.org"})
    assert r.status_code == 400 and r.json()["field"] == "email"
    assert "anna.at.example.org" not in r.text  # messages never repeat personal data
    assert "e-mail address" in r.json()["detail"]
    r = await c.post("/api/employees/", json={"name": "Anna", "email": "anna@example.org", "mobile_phone": "0701"})
    assert r.status_code == 400 and r.json()["field"] == "mobile_phone"
    assert "0701" not in r.text and "phone number" in r.json()["detail"]
    r = await c.post("/api/employees/", json={"name": "Anna", "email": "anna@example.org", "work_phone": "phone me"})
    assert r.status_code == 400 and r.json()["field"] == "work_phone"
    assert "phone me" not in r.text
    r = await c.post("/api/employees/", json={"name": "Anna", "email": "anna@example.org", "role": "owner"})
    assert r.status_code == 400
    r = await c.post("/api/employees/", json={"name": "Anna", "email": "anna@example.org", "password": "short"})
    assert r.status_code == 400 and "at least" in r.json()["detail"]
    r = await c.post("/api/employees/", json={"name": "", "email": "anna@example.org"})
    assert r.status_code == 400
    assert await Employee.count().where(Employee.tenant_id == tenant.id) == 1  # nothing half-written

    r = await c.post(
        "/api/employees/",
        json={"name": " Anna Andersson ", "email": " Anna@Example.org ", "mobile_phone": "070-123 45 67"},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["name"], body["email"], body["mobile_phone"], body["role"]) == (
        "Anna Andersson", "anna@example.org", "+46701234567", "user",
    )
    r = await c.post("/api/employees/", json={"name": "Anna Again", "email": "ANNA@example.org"})
    assert r.status_code == 400 and r.json()["field"] == "email"
    r = await c.patch(f"/api/employees/{tenant.admin_id}", json={"email": "anna@example.org"})
    assert r.status_code == 400 and r.json()["field"] == "email"
    r = await c.patch(f"/api/employees/{body['id']}", json={"private_phone": "nonsense"})
    assert r.status_code == 400 and r.json()["field"] == "private_phone"
    r = await c.patch(f"/api/employees/{body['id']}", json={"work_phone": "08-123 456 78", "mobile_phone": ""})
    assert r.status_code == 200
    assert (r.json()["work_phone"], r.json()["mobile_phone"]) == ("+46812345678", None)


async def test_role_change_ends_the_persons_sessions(admin_client, tenant, clients):
    uid, email = await add_employee(tenant)
    user = await clients()
    assert (await login(user, tenant, email=email, password=TEST_PASSWORD)).status_code == 200
    assert (await user.get("/api/auth/me")).json()["role"] == "user"
    r = await admin_client.patch(f"/api/employees/{uid}", json={"role": "admin"})
    assert r.status_code == 200 and r.json()["role"] == "admin"
    assert (await user.get("/api/auth/me")).status_code == 401
    assert await Session.count().where(Session.employee_id == uid) == 0
    # The administrator's own session is untouched by someone else's change.
    assert (await admin_client.get("/api/auth/me")).status_code == 200
    # Logging in again gives the new role.
    assert (await login(user, tenant, email=email, password=TEST_PASSWORD)).json()["role"] == "admin"


async def test_own_role_change_rotates_own_session(tenant, clients):
    await add_employee(tenant, role="admin")  # someone must remain administrator
    c = await clients()
    await login(c, tenant)
    other = await clients()
    await login(other, tenant)  # the same person on a second device
    old = c.cookies.get("gallra_session")
    r = await c.patch(f"/api/employees/{tenant.admin_id}", json={"role": "user"})
    assert r.status_code == 200, r.text
    new = c.cookies.get("gallra_session")
    assert new and new != old
    assert "HttpOnly" in r.headers["set-cookie"]
    me = await c.get("/api/auth/me")
    assert me.status_code == 200 and me.json()["role"] == "user"
    # The old id and the other device's session no longer work.
    c.cookies.set("gallra_session", old)
    assert (await c.get("/api/auth/me")).status_code == 401
    assert (await other.get("/api/auth/me")).status_code == 401
    assert await Session.count().where(Session.employee_id == tenant.admin_id) == 1


async def test_last_administrator_cannot_demote_or_delete_self(admin_client, tenant):
    r = await admin_client.patch(f"/api/employees/{tenant.admin_id}", json={"role": "user"})
    assert r.status_code == 400 and "only administrator" in r.json()["detail"]
    r = await admin_client.delete(f"/api/employees/{tenant.admin_id}")
    assert r.status_code == 400
    assert (await admin_client.get("/api/auth/me")).json()["role"] == "admin"


async def test_delete_is_soft_ends_sessions_and_blocks_login(admin_client, tenant, clients):
    uid, email = await add_employee(tenant)
    user = await clients()
    await login(user, tenant, email=email, password=TEST_PASSWORD)
    r = await admin_client.delete(f"/api/employees/{uid}")
    assert r.status_code == 200 and r.json()["deleted_at"] is not None
    deleted_at = r.json()["deleted_at"]
    assert (await user.get("/api/auth/me")).status_code == 401
    assert (await login(user, tenant, email=email, password=TEST_PASSWORD)).status_code == 401
    row = await Employee.select().where(Employee.id == uid).first()
    assert row is not None and row["deleted_at"] is not None and row["email"] == email
    listed = [e["id"] for e in (await admin_client.get("/api/employees/")).json()["items"]]
    assert uid not in listed
    r = await admin_client.get("/api/employees/", params={"include_deleted": "true"})
    listed = [e["id"] for e in r.json()["items"]]
    assert uid in listed
    r = await admin_client.patch(f"/api/employees/{uid}", json={"name": "Back"})
    assert r.status_code == 409
    # Deleting twice changes nothing; a deleted person's address can be used again.
    again = await admin_client.delete(f"/api/employees/{uid}")
    assert again.status_code == 200 and again.json()["deleted_at"] == deleted_at
    r = await admin_client.post("/api/employees/", json={"name": "Newcomer", "email": email})
    assert r.status_code == 201


async def test_employee_api_refuses_non_admin_and_anonymous(tenant, clients):
    uid, email = await add_employee(tenant)
    user = await clients()
    await login(user, tenant, email=email, password=TEST_PASSWORD)
    anon = await clients()
    for method, path, body in [
        ("get", "/api/employees/", None),
        ("post", "/api/employees/", {"name": "X", "email": "x@example.org"}),
        ("get", f"/api/employees/{uid}", None),
        ("patch", f"/api/employees/{uid}", {"role": "admin"}),
        ("delete", f"/api/employees/{tenant.admin_id}", None),
        ("get", "/api/groups/", None),
        ("post", "/api/groups/", {"name": "G"}),
    ]:
        kwargs = {"json": body} if body is not None else {}
        assert (await getattr(user, method)(path, **kwargs)).status_code == 403, (method, path)
        assert (await getattr(anon, method)(path, **kwargs)).status_code == 401, (method, path)
    assert (await user.get("/api/auth/me")).json()["role"] == "user"
    assert await Employee.count().where(Employee.tenant_id == tenant.id) == 2


async def test_employee_list_pages(admin_client, tenant):
    for _ in range(3):
        await add_employee(tenant)
    page = (await admin_client.get("/api/employees/", params={"limit": 2, "offset": 1})).json()
    assert (page["total"], page["offset"], page["limit"], len(page["items"])) == (4, 1, 2, 2)
    assert (await admin_client.get("/api/employees/", params={"limit": 0})).status_code == 400
    assert (await admin_client.get("/api/employees/", params={"limit": 201})).status_code == 400
    assert (await admin_client.get("/api/employees/", params={"offset": -1})).status_code == 400


async def test_group_members_and_permissions_reach_me(admin_client, tenant, clients):
    uid, email = await add_employee(tenant)
    user = await clients()
    await login(user, tenant, email=email, password=TEST_PASSWORD)
    assert (await user.get("/api/auth/me")).json()["permissions"] == []

    r = await admin_client.post("/api/groups/", json={"name": "GDPR team", "permissions": ["gdpr", "nosuch"]})
    assert r.status_code == 400 and r.json()["field"] == "permissions"
    r = await admin_client.post("/api/groups/", json={"name": "GDPR team", "permissions": ["gdpr"]})
    assert r.status_code == 201
    gid = r.json()["id"]
    r = await admin_client.put(f"/api/groups/{gid}/members", json={"employee_ids": [uid, uid]})
    assert r.status_code == 200 and r.json()["member_ids"] == [uid]
    assert (await user.get("/api/auth/me")).json()["permissions"] == ["gdpr"]

    r = await admin_client.patch(
        f"/api/groups/{gid}", json={"permissions": ["gdpr", "vault"], "description": "Registry work"}
    )
    assert r.status_code == 200 and r.json()["permissions"] == ["gdpr", "vault"]
    assert (await user.get("/api/auth/me")).json()["permissions"] == ["gdpr", "vault"]
    r = await admin_client.put(f"/api/groups/{gid}/members", json={"employee_ids": [999_999_999]})
    assert r.status_code == 400 and r.json()["field"] == "employee_ids"
    assert (await admin_client.get(f"/api/groups/{gid}")).json()["member_ids"] == [uid]  # unchanged

    r = await admin_client.put(f"/api/groups/{gid}/members", json={"employee_ids": []})
    assert r.json()["member_ids"] == []
    assert (await user.get("/api/auth/me")).json()["permissions"] == []
    await admin_client.put(f"/api/groups/{gid}/members", json={"employee_ids": [uid]})
    r = await admin_client.delete(f"/api/groups/{gid}")
    assert r.status_code == 200 and r.json()["member_ids"] == [uid]
    assert (await admin_client.get(f"/api/groups/{gid}")).status_code == 404
    assert await GroupMember.count().where(GroupMember.group_id == gid) == 0
    assert (await user.get("/api/auth/me")).json()["permissions"] == []
