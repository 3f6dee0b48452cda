"""Immediate mode inside the delete request, and deleted employees (M25)."""

from __future__ import annotations

from datetime import timedelta

from core.activity import Activity, add_activity
from core.db import utcnow
from core.eventlog import EventLog, log_event
from core.gdpr.engine import sweep
from core.gdpr.settings import RuleSetting, save_settings
from core.gdpr.tables import GdprRun
from core.tables import Employee, EmployeeGroup, GroupMember, Session
from tests.gdpr import plugin as tp
from tests.gdpr.conftest import add_contact, add_customer, at, customer
from tests.support import TEST_PASSWORD, login

DAY = timedelta(days=1)


async def test_immediate_mode_anonymizes_within_the_delete_request(admin_client, tenant):
    await save_settings(tenant.id, {tp.CUSTOMERS: RuleSetting("immediately", 30)})
    cid = await add_customer(tenant.id)
    contact = await add_contact(tenant.id, cid)
    r = await admin_client.delete(f"/api/gdprtest/customers/{cid}")
    assert r.status_code == 200, r.text
    assert r.json() == {"anonymized": 1, "name": "Anonymiserad"}
    row = await customer(cid)
    assert (
        row["deleted_at"] is not None and row["anonymized_at"] is not None and row["email"] is None
    )
    c = await tp.GTContact.select().where(tp.GTContact.id == contact).first()
    assert c["name"] == "Anonymiserad"
    run = await GdprRun.select().where(GdprRun.tenant_id == tenant.id).first()
    assert (run["trigger"], run["records"], run["rule_key"], run["outcome"]) == (
        "immediate",
        1,
        tp.CUSTOMERS,
        "ok",
    )


async def test_a_failed_delete_rolls_back_its_anonymization(admin_client, tenant):
    await save_settings(tenant.id, {tp.CUSTOMERS: RuleSetting("immediately", 30)})
    cid = await add_customer(tenant.id)
    r = await admin_client.delete(f"/api/gdprtest/customers/{cid}", params={"fail": "true"})
    assert r.status_code == 400
    row = await customer(cid)
    assert (
        row["name"] == "Kalle Anka" and row["deleted_at"] is None and row["anonymized_at"] is None
    )
    assert not await GdprRun.exists().where(GdprRun.tenant_id == tenant.id)


async def test_days_mode_leaves_the_deleted_record_for_the_sweep(
    admin_client, tenant, other_tenant
):
    cid = await add_customer(tenant.id)
    r = await admin_client.delete(f"/api/gdprtest/customers/{cid}")
    assert r.json() == {"anonymized": 0, "name": "Kalle Anka"}
    theirs = await add_customer(other_tenant.id)
    assert (await admin_client.delete(f"/api/gdprtest/customers/{theirs}")).status_code == 404
    # A sweep catches up an "immediately" rule for records deleted before the switch.
    await save_settings(tenant.id, {tp.CUSTOMERS: RuleSetting("immediately", 30)})
    await sweep(tenant.id, "gdprtest")
    assert (await customer(cid))["name"] == "Anonymiserad"


async def _employee_with_traces(admin_client, tenant) -> int:
    r = await admin_client.post(
        "/api/employees/",
        json={
            "name": "Greta Garbo",
            "email": "greta@example.org",
            "mobile_phone": "070-123 45 67",
            "private_phone": "08-123 456 78",
            "work_phone": "+46 31 123 45 67",
            "notes": "Prefers mornings",
            "password": TEST_PASSWORD,
        },
    )
    assert r.status_code == 201, r.text
    eid = r.json()["id"]
    g = await EmployeeGroup.insert(EmployeeGroup(tenant_id=tenant.id, name="Team")).returning(
        EmployeeGroup.id
    )
    await GroupMember.insert(GroupMember(tenant_id=tenant.id, group_id=g[0]["id"], employee_id=eid))
    await add_activity(
        tenant.id, "gdprtest", "customer", 1, "comment", "Visited", eid, "Greta Garbo"
    )
    from core.auth import SessionUser

    who = SessionUser(
        1, tenant.id, tenant.slug, eid, "Greta Garbo", "greta@example.org", "user", "sv"
    )
    await log_event(tenant.id, who, "customer.viewed", "gdprtest", "customer", 1, "10.0.0.9")
    await tp.GTLink.insert(tp.GTLink(tenant_id=tenant.id, customer_id=5, employee_id=eid))
    return eid


async def _assert_employee_anonymized(tenant, eid: int) -> None:
    e = await Employee.select().where(Employee.id == eid).first()
    assert e["name"] == "Anonymiserad"
    assert e["email"] == f"anonymized-{eid}@invalid"
    assert (e["mobile_phone"], e["private_phone"], e["work_phone"]) == (None, None, None)
    assert e["notes"] == "" and e["password_hash"] is None and e["anonymized_at"] is not None
    assert e["role"] == "user"  # not personal data: kept
    assert not await GroupMember.exists().where(GroupMember.employee_id == eid)
    assert not await Session.exists().where(
        (Session.tenant_id == tenant.id) & (Session.employee_id == eid)
    )
    act = (
        await Activity.select()
        .where((Activity.tenant_id == tenant.id) & (Activity.body == "Visited"))
        .first()
    )
    assert act["author_name"] == "Anonymiserad" and act["author_id"] is None
    ev = (
        await EventLog.select()
        .where(
            (EventLog.tenant_id == tenant.id)
            & (EventLog.ip.is_null())
            & (EventLog.action == "customer.viewed")
        )
        .first()
    )
    assert (
        ev is not None
        and ev["user_name"] is None
        and ev["email"] is None
        and ev["employee_id"] is None
    )
    link = await tp.GTLink.select().where(tp.GTLink.tenant_id == tenant.id).first()
    assert link["employee_id"] is None  # another plugin's employee_ref


async def test_deleted_employee_is_anonymized_after_n_days(admin_client, tenant):
    eid = await _employee_with_traces(admin_client, tenant)
    r = await admin_client.delete(f"/api/employees/{eid}")
    assert r.status_code == 200 and r.json()["name"] == "Greta Garbo"  # default: 90 days
    deleted_at = (await Employee.select(Employee.deleted_at).where(Employee.id == eid).first())[
        "deleted_at"
    ]
    with at(deleted_at + 90 * DAY - timedelta(seconds=1)):
        await sweep(tenant.id, "core")
    assert (await Employee.select(Employee.name).where(Employee.id == eid).first())[
        "name"
    ] == "Greta Garbo"
    with at(deleted_at + 90 * DAY + timedelta(seconds=1)):
        results = await sweep(tenant.id, "core")
    assert {r.rule: r.records for r in results}["core.employees"] == 1
    await _assert_employee_anonymized(tenant, eid)
    # The administrator is untouched.
    admin = await Employee.select().where(Employee.id == tenant.admin_id).first()
    assert admin["name"] == "Admin Person" and admin["anonymized_at"] is None


async def test_deleted_employee_anonymized_immediately_and_email_free_again(admin_client, tenant):
    r = await admin_client.put(
        "/api/gdpr/retention", json=[{"key": "core.employees", "mode": "immediately"}]
    )
    assert r.status_code == 200
    eid = await _employee_with_traces(admin_client, tenant)
    r = await admin_client.delete(f"/api/employees/{eid}")
    assert r.status_code == 200
    assert r.json()["name"] == "Anonymiserad" and r.json()["email"] == f"anonymized-{eid}@invalid"
    await _assert_employee_anonymized(tenant, eid)
    # The address can be given to a new employee.
    r = await admin_client.post(
        "/api/employees/", json={"name": "Greta Two", "email": "greta@example.org"}
    )
    assert r.status_code == 201
    # Logging in as the anonymized person is impossible.
    assert (await login(admin_client, tenant, email="greta@example.org")).status_code == 401


async def test_employee_rule_off_keeps_deleted_employees(admin_client, tenant):
    await save_settings(tenant.id, {"core.employees": RuleSetting("off", 90)})
    eid = await _employee_with_traces(admin_client, tenant)
    await admin_client.delete(f"/api/employees/{eid}")
    with at(utcnow() + 400 * DAY):
        await sweep(tenant.id, "core")
    assert (await Employee.select(Employee.name).where(Employee.id == eid).first())[
        "name"
    ] == "Greta Garbo"
