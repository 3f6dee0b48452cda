"""Event log (M23) and system log (M24): written where things happen, aged by fixed rules."""

from __future__ import annotations

from datetime import timedelta

from core.auth import SessionUser
from core.db import utcnow
from core.eventlog import EventLog, SystemLog, log_event, log_system
from core.gdpr.engine import sweep
from tests.gdpr.conftest import at
from tests.support import login

DAY = timedelta(days=1)
SEC = timedelta(seconds=1)


def person(t) -> SessionUser:
    return SessionUser(
        session_id=1,
        tenant_id=t.id,
        tenant_slug=t.slug,
        employee_id=t.admin_id,
        name="Admin Person",
        email=t.admin_email,
        role="admin",
        language="sv",
    )


async def test_login_failed_login_and_logout_are_in_the_system_log(client, tenant):
    assert (await login(client, tenant, password="wrong-password-123")).status_code == 401
    assert (await login(client, tenant)).status_code == 200
    assert (await client.post("/api/auth/logout")).status_code == 200
    rows = await SystemLog.select().where(SystemLog.tenant_id == tenant.id).order_by(SystemLog.id)
    assert [(r["kind"], r["code"]) for r in rows] == [
        ("login_failed", "401"),
        ("login", "200"),
        ("logout", "200"),
    ]
    assert rows[1]["employee_id"] == tenant.admin_id and rows[2]["employee_id"] == tenant.admin_id
    for r in rows:  # no address, no password
        assert tenant.admin_email not in r["detail"] and "wrong-password" not in r["detail"]


async def test_event_log_loses_ip_email_and_name_after_30_days(tenant):
    now = utcnow().replace(microsecond=0)
    with at(now - 30 * DAY - SEC):
        await log_event(
            tenant.id, person(tenant), "customer.deleted", "gdprtest", "customer", 7, "10.1.2.3"
        )
    with at(now - 30 * DAY + SEC):
        await log_event(
            tenant.id, person(tenant), "customer.viewed", "gdprtest", "customer", 8, "10.1.2.4"
        )
    with at(now):
        results = await sweep(tenant.id, "core")
    assert {r.rule: r.records for r in results}["core.event_log"] == 1
    rows = {r["action"]: r for r in await EventLog.select().where(EventLog.tenant_id == tenant.id)}
    old, new = rows["customer.deleted"], rows["customer.viewed"]
    assert (old["ip"], old["email"], old["user_name"]) == (None, None, None)
    assert (old["action"], old["plugin"], old["record_type"], old["record_id"]) == (
        "customer.deleted",
        "gdprtest",
        "customer",
        7,
    )
    assert old["anonymized_at"] == now
    assert (new["ip"], new["email"], new["user_name"]) == (
        "10.1.2.4",
        tenant.admin_email,
        "Admin Person",
    )
    assert new["anonymized_at"] is None


async def test_system_log_rows_are_deleted_after_90_days(tenant):
    now = utcnow().replace(microsecond=0)
    with at(now - 90 * DAY - SEC):
        await log_system(tenant.id, "login", 200, "", tenant.admin_id)
    with at(now - 90 * DAY + SEC):
        await log_system(tenant.id, "error", "E42", "sweep failed")
    with at(now):
        results = await sweep(tenant.id, "core")
    assert {r.rule: r.records for r in results}["core.system_log"] == 1
    rows = await SystemLog.select(SystemLog.kind).where(SystemLog.tenant_id == tenant.id)
    assert [r["kind"] for r in rows] == ["error"]


async def test_unknown_organization_failures_are_swept_as_tenant_zero(client, tenant):
    now = utcnow()
    await client.post(
        "/api/auth/login", json={"tenant": "no-such-org-x", "email": "a@b.se", "password": "x" * 12}
    )
    row = (
        await SystemLog.select()
        .where(SystemLog.tenant_id == 0)
        .order_by(SystemLog.id, ascending=False)
        .first()
    )
    assert row["kind"] == "login_failed" and "a@b.se" not in row["detail"]
    with at(now + 91 * DAY):
        await sweep(0, "core")
    assert not await SystemLog.exists().where(
        (SystemLog.tenant_id == 0) & (SystemLog.id == row["id"])
    )


async def test_outbox_messages_are_deleted_after_thirty_days(tenant, other_tenant):
    from datetime import timedelta

    from core.builtin import OUTBOX_DAYS, OUTBOX_RULE
    from core.db import utcnow
    from core.gdpr.engine import sweep
    from core.tables import Outbox

    now = utcnow()

    async def message(tenant_id: int, age: timedelta) -> int:
        rows = await Outbox.insert(
            Outbox(tenant_id=tenant_id, channel="sms", recipient="+46701234567", body="Din kod", status="sent",
                   created_at=now - age)
        ).returning(Outbox.id)
        return int(rows[0]["id"])

    old = await message(tenant.id, timedelta(days=OUTBOX_DAYS, seconds=1))
    young = await message(tenant.id, timedelta(days=OUTBOX_DAYS, seconds=-1))
    others = await message(other_tenant.id, timedelta(days=OUTBOX_DAYS + 5))
    results = await sweep(tenant.id, "core", now=now)
    assert next(r for r in results if r.rule == OUTBOX_RULE).records == 1
    left = {r["id"] for r in await Outbox.select(Outbox.id).where(Outbox.id.is_in([old, young, others]))}
    assert left == {young, others}
