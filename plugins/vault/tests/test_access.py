"""The access matrix (M11, M13): plain or encrypted list x user or group x member or not x
another tenant, and the decisions around it (administrators are not implicitly on lists).
"""

from __future__ import annotations

from typing import Any

import pytest

from core.db import atomic
from plugins.vault.tests.conftest import (
    SECRET_NOTE,
    SECRET_PASSWORD,
    add_employee,
    add_group,
    admin_of,
    make_form,
    new_user,
    quick_tenant,
    reveal,
)


async def _grant(tenant_id: int, level: str, via: str, who: int) -> dict[str, Any]:
    """An access body putting ``who`` on ``level`` directly or through a new group."""
    if via == "user":
        lists: dict[str, Any] = {level: {"users": [who]}}
    else:
        lists = {level: {"groups": [await add_group(tenant_id, [who])]}}
    return lists


@pytest.mark.parametrize("other_tenant", [False, True], ids=["same-tenant", "other-tenant"])
@pytest.mark.parametrize("member", [True, False], ids=["member", "not-member"])
@pytest.mark.parametrize("via", ["user", "group"])
@pytest.mark.parametrize("level", ["plain", "encrypted"])
async def test_access_matrix(client, level: str, via: str, member: bool, other_tenant: bool) -> None:
    async with atomic():  # set-up rows in one commit
        tenant = await quick_tenant()
        admin = await admin_of(client, tenant)
        writer = await new_user(client, tenant, name="Writer")
        decoy_id, _ = await add_employee(tenant.id, "Decoy")
        if other_tenant:
            home = await quick_tenant()
            home_admin = await admin_of(client, home)
            subject = await new_user(client, home, name="Subject")
            home_grant = await _grant(home.id, level, via, subject.employee_id if member else decoy_id)
            grant = await _grant(tenant.id, level, via, decoy_id)
        else:
            subject = await new_user(client, tenant, name="Subject")
            grant = await _grant(tenant.id, level, via, subject.employee_id if member else decoy_id)
    if other_tenant:
        # The subject holds (or not) this grant in their own organization's form...
        if not member:
            home_grant = {}
        await make_form(home_admin, access=home_grant)
    # ...while the form under test lists the writer on plain plus the grant.
    if level == "plain":
        grant["plain"].setdefault("users", []).append(writer.employee_id)
    else:
        grant["plain"] = {"users": [writer.employee_id]}
    form = await make_form(admin, purpose="internal", access=grant)
    fid = {f["name"]: f["id"] for f in form["fields"]}
    created = await writer.post(
        "/api/vault/entries",
        json={
            "form_id": form["id"],
            "values": [
                {"field_id": fid["Användarnamn"], "value": "svc-backup"},
                {"field_id": fid["Lösenord"], "value": SECRET_PASSWORD},
            ],
        },
    )
    assert created.status_code == 201, created.text
    entry_id = created.json()["id"]
    url = f"/api/vault/entries/{entry_id}"

    sees = member and not other_tenant
    listed = await subject.get("/api/vault/entries")
    assert listed.status_code == 200
    ids = [e["id"] for g in listed.json()["groups"] for e in g["entries"]]
    assert (entry_id in ids) is sees
    assert (await subject.get(f"/api/vault/forms/{form['id']}")).status_code == (200 if sees else 404)

    got = await subject.get(url)
    edit = await subject.patch(url, json={"values": [{"field_id": fid["Användarnamn"], "value": "svc-2"}]})
    shown = await reveal(subject, entry_id)
    if not sees:
        assert got.status_code == edit.status_code == shown.status_code == 404
        assert SECRET_PASSWORD not in shown.text
        assert (await subject.delete(url)).status_code == 404
        assert (await writer.get(url)).status_code == 200  # still there
        return

    assert got.status_code == 200
    body = got.json()
    assert {f["name"]: f["value"] for f in body["fields"]}["Användarnamn"] == "svc-backup"
    assert body["can_edit"] is (level == "plain") and body["can_reveal"] is (level == "encrypted")
    if level == "plain":
        assert edit.status_code == 200
        assert shown.status_code == 403
        assert "encrypted" in shown.json()["detail"]
        assert SECRET_PASSWORD not in shown.text
        assert (await subject.delete(url)).status_code == 200
        assert (await writer.get(url)).status_code == 404
    else:
        assert edit.status_code == 403
        assert shown.status_code == 200
        values = {v["name"]: v["value"] for v in shown.json()["values"]}
        assert values == {"Lösenord": SECRET_PASSWORD, "Anteckning": None}
        assert (await subject.delete(url)).status_code == 403


async def test_administrators_are_not_implicitly_on_the_lists(client, world) -> None:
    """Administrators manage forms and lists; reading entries needs a place on a list,
    which every manager then sees (privacy by design)."""
    admin = world.admin
    url = f"/api/vault/entries/{world.entry['id']}"
    assert (await admin.get(url)).status_code == 404
    assert (await reveal(admin, world.entry["id"])).status_code == 404
    listed = (await admin.get("/api/vault/entries")).json()
    assert listed["groups"] == []
    form = (await admin.get(f"/api/vault/forms/{world.form['id']}")).json()
    assert form["my_access"] == {"plain": False, "encrypted": False}
    assert form["access"]["plain"]["users"] == [world.writer.employee_id]
    assert form["access"]["encrypted"]["groups"] == [world.group_id]
    # Putting oneself on the encrypted list is visible, and then works.
    r = await admin.put(
        f"/api/vault/forms/{world.form['id']}/access",
        json={
            "plain": {"users": [world.writer.employee_id]},
            "encrypted": {"users": [admin.employee_id], "groups": [world.group_id]},
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["encrypted"]["users"] == [admin.employee_id]
    shown = await reveal(admin, world.entry["id"])
    assert shown.status_code == 200
    assert SECRET_NOTE in shown.text


async def test_group_with_vault_permission_manages_forms_but_reads_nothing(client, world) -> None:
    manager = await new_user(client, world.tenant, name="Manager")
    await add_group(world.tenant.id, [manager.employee_id], permissions="vault")
    assert (await manager.get(f"/api/vault/forms/{world.form['id']}")).status_code == 200
    created = await manager.post(
        "/api/vault/forms", json={"name": "Wifi", "purpose": "internal", "fields": [{"name": "PSK", "encrypted": True}]}
    )
    assert created.status_code == 201
    assert (await manager.get(f"/api/vault/entries/{world.entry['id']}")).status_code == 404
    # A plain user may not manage forms.
    for who in (world.writer, world.reader, world.outsider):
        r = await who.post("/api/vault/forms", json={"name": "X", "purpose": "internal", "fields": [{"name": "a"}]})
        assert r.status_code == 403
        assert (await who.patch(f"/api/vault/forms/{world.form['id']}", json={"name": "Y"})).status_code == 403
        assert (await who.put(f"/api/vault/forms/{world.form['id']}/access", json={})).status_code == 403
        assert (await who.delete(f"/api/vault/forms/{world.form['id']}")).status_code == 403
        assert (await who.get("/api/vault/audit")).status_code == 403


async def test_forms_list_shows_only_forms_one_is_on(client, world) -> None:
    names = [f["id"] for f in (await world.outsider.get("/api/vault/forms")).json()]
    assert names == []
    mine = (await world.reader.get("/api/vault/forms")).json()
    assert [f["id"] for f in mine] == [world.form["id"]]
    assert mine[0]["my_access"] == {"plain": False, "encrypted": True}
    assert mine[0]["access"] is None  # the lists themselves are for managers


async def test_lists_refuse_people_and_groups_of_another_tenant(client, world) -> None:
    other_tenant = await quick_tenant()
    stranger, _ = await add_employee(other_tenant.id, "Stranger")
    strangers = await add_group(other_tenant.id, [stranger])
    url = f"/api/vault/forms/{world.form['id']}/access"
    r = await world.admin.put(url, json={"encrypted": {"users": [stranger]}})
    assert r.status_code == 400 and r.json()["field"] == "access.encrypted.users"
    r = await world.admin.put(url, json={"plain": {"groups": [strangers]}})
    assert r.status_code == 400 and r.json()["field"] == "access.plain.groups"
    # Nothing changed.
    form = (await world.admin.get(f"/api/vault/forms/{world.form['id']}")).json()
    assert form["access"]["plain"]["users"] == [world.writer.employee_id]


async def test_leaving_a_group_or_deleted_group_ends_access(client, world) -> None:
    from core.tables import EmployeeGroup, GroupMember

    entry = world.entry["id"]
    assert (await world.reader.get(f"/api/vault/entries/{entry}")).status_code == 200
    await GroupMember.delete().where(GroupMember.group_id == world.group_id)
    assert (await world.reader.get(f"/api/vault/entries/{entry}")).status_code == 404
    # A grant outlives a deleted group only as an inert row: a new group never inherits it.
    await EmployeeGroup.delete().where(EmployeeGroup.id == world.group_id)
    rows = await EmployeeGroup.insert(
        EmployeeGroup(id=world.group_id, tenant_id=world.tenant.id, name="Reused id")
    ).returning(EmployeeGroup.id)
    assert rows[0]["id"] == world.group_id
    await GroupMember.insert(
        GroupMember(tenant_id=world.tenant.id, group_id=world.group_id, employee_id=world.outsider.employee_id)
    )
    assert (await world.outsider.get(f"/api/vault/entries/{entry}")).status_code == 404


async def test_deleted_employee_loses_access(client, world) -> None:
    from core.db import utcnow
    from core.tables import Employee
    from plugins.vault.services import access_map

    assert await access_map(world.tenant.id, world.writer.employee_id)
    await Employee.update({Employee.deleted_at: utcnow()}).where(Employee.id == world.writer.employee_id)
    assert await access_map(world.tenant.id, world.writer.employee_id) == {}


async def test_unauthenticated_is_401(anon_client, world) -> None:
    anon_client.cookies.clear()
    for method, url in [
        ("get", "/api/vault/forms"),
        ("get", "/api/vault/entries"),
        ("get", f"/api/vault/entries/{world.entry['id']}"),
        ("get", "/api/vault/audit"),
    ]:
        assert (await getattr(anon_client, method)(url)).status_code == 401
    r = await anon_client.post(f"/api/vault/entries/{world.entry['id']}/reveal", json={"password": "x"})
    assert r.status_code == 401


async def test_disabled_module_is_404(client, world) -> None:
    r = await world.admin.put("/api/modules/vault", json={"enabled": False})
    assert r.status_code == 200, r.text
    assert (await world.reader.get(f"/api/vault/entries/{world.entry['id']}")).status_code == 404
    assert (await reveal(world.reader, world.entry["id"])).status_code == 404
