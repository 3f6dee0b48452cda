"""Time reports, expenses, deviations and shifts: CRUD, permissions, validation, isolation."""

from __future__ import annotations

import pytest

from plugins.time.tables import Deviation, Expense, Shift, TimeReport
from plugins.time.tests.conftest import CUSTOMER, deviation, expense, report, shift
from tests.support import created, each_answers

DATED = [
    ("/api/time/reports", report, TimeReport),
    ("/api/time/expenses", expense, Expense),
    ("/api/time/deviations", deviation, Deviation),
]
TABLES = (TimeReport, Expense, Deviation, Shift)


async def _counts(tenant_id: int) -> list[int]:
    return [await t.count().where(t.tenant_id == tenant_id) for t in TABLES]


@pytest.mark.parametrize("url,body,table", DATED)
async def test_dated_records_crud(admin_client, tenant, url, body, table):
    row = await created(admin_client, f"{url}/", body(tenant.admin_id))
    assert row["employee_id"] == tenant.admin_id and row["date"] == "2026-03-02"
    assert row["deleted_at"] is None and row["anonymized_at"] is None
    stored = await table.select(table.dated_at).where(table.id == row["id"]).first()
    assert stored["dated_at"].isoformat().startswith("2026-03-02T00:00:00")
    assert (await admin_client.get(f"{url}/{row['id']}")).json() == row
    second = await created(admin_client, f"{url}/", body(tenant.admin_id, date="2026-03-05"))
    page = (await admin_client.get(f"{url}/")).json()
    assert page["total"] == 2 and [i["id"] for i in page["items"]] == [second["id"], row["id"]]
    page = (await admin_client.get(f"{url}/", params={"date_from": "2026-03-03", "date_to": "2026-03-31"})).json()
    assert [i["id"] for i in page["items"]] == [second["id"]]
    assert (await admin_client.get(f"{url}/", params={"limit": 1})).json()["items"][0]["id"] == second["id"]
    r = await admin_client.patch(f"{url}/{row['id']}", json={"date": "2026-03-04"})
    assert r.status_code == 200 and r.json()["date"] == "2026-03-04"
    stored = await table.select(table.dated_at).where(table.id == row["id"]).first()
    assert stored["dated_at"].isoformat().startswith("2026-03-04T00:00:00")
    deleted = (await admin_client.delete(f"{url}/{row['id']}")).json()
    assert deleted["deleted_at"] is not None
    assert (await admin_client.get(f"{url}/")).json()["total"] == 1
    assert (await admin_client.get(f"{url}/", params={"include_deleted": True})).json()["total"] == 2
    assert (await admin_client.patch(f"{url}/{row['id']}", json={"date": "2026-03-06"})).status_code == 409


async def test_report_fields_and_totals(admin_client, tenant):
    a = await created(admin_client, "/api/time/reports/", report(tenant.admin_id, hours=7.5))
    assert a["hours"] == "7.50" and a["customer_id"] == CUSTOMER["id"] and a["work_reference"] == "AO-1001"
    await created(admin_client, "/api/time/reports/", report(tenant.admin_id, hours="0.25", customer_id=0))
    await created(admin_client, "/api/time/reports/", report(tenant.admin_id, hours="8", date="2026-04-01"))
    march = {"date_from": "2026-03-01", "date_to": "2026-03-31"}
    assert (await admin_client.get("/api/time/reports/totals", params=march)).json() == {"count": 2, "hours": "7.75"}
    assert (await admin_client.get("/api/time/reports/totals")).json() == {"count": 3, "hours": "15.75"}
    assert (await admin_client.get("/api/time/reports/totals", params={"customer_id": CUSTOMER["id"]})).json()[
        "hours"
    ] == "15.50"
    assert (await admin_client.get("/api/time/reports/", params={"customer_id": 0})).json()["total"] == 1
    await admin_client.delete(f"/api/time/reports/{a['id']}")
    assert (await admin_client.get("/api/time/reports/totals")).json() == {"count": 2, "hours": "8.25"}


async def test_expense_totals_are_exact(admin_client, tenant):
    for amount in ("0.10", "0.20", "1000000.01", "349.90"):
        await created(admin_client, "/api/time/expenses/", expense(tenant.admin_id, amount=amount))
    assert (await admin_client.get("/api/time/expenses/totals")).json() == {"count": 4, "amount": "1000350.21"}


async def test_deviation_kinds(admin_client, tenant):
    for kind in ("sick", "child_care", "vacation", "leave", "other"):
        await created(admin_client, "/api/time/deviations/", deviation(tenant.admin_id, kind=kind))
    assert (await admin_client.get("/api/time/deviations/", params={"kind": "vacation"})).json()["total"] == 1
    assert (await admin_client.get("/api/time/deviations/", params={"kind": "party"})).status_code == 400


async def test_shifts(admin_client, employee, tenant):
    s = await created(admin_client, "/api/time/shifts/", shift(employee.id))
    assert s["starts_at"] == "2026-03-02T06:00:00Z" and s["ends_at"] == "2026-03-02T15:00:00Z"
    await created(
        admin_client,
        "/api/time/shifts/",
        shift(tenant.admin_id, starts_at="2026-03-03T07:00:00Z", ends_at="2026-03-03T15:00:00Z"),
    )
    # Everyone sees the schedule; only administrators plan it.
    page = (
        await employee.client.get("/api/time/shifts/", params={"date_from": "2026-03-02", "date_to": "2026-03-02"})
    ).json()
    assert [i["id"] for i in page["items"]] == [s["id"]]
    assert (await employee.client.get("/api/time/shifts/", params={"employee_id": tenant.admin_id})).json()[
        "total"
    ] == 1
    assert (await employee.client.post("/api/time/shifts/", json=shift(employee.id))).status_code == 403
    assert (await employee.client.patch(f"/api/time/shifts/{s['id']}", json={"note": "x"})).status_code == 403
    assert (await employee.client.delete(f"/api/time/shifts/{s['id']}")).status_code == 403
    r = await admin_client.patch(
        f"/api/time/shifts/{s['id']}", json={"ends_at": "2026-03-02T17:00:00+01:00", "note": "Stänger"}
    )
    assert r.status_code == 200 and r.json()["ends_at"] == "2026-03-02T16:00:00Z" and r.json()["note"] == "Stänger"
    assert (await admin_client.delete(f"/api/time/shifts/{s['id']}")).status_code == 200
    assert (await admin_client.get(f"/api/time/shifts/{s['id']}")).status_code == 404


@pytest.mark.parametrize("url,body,table", DATED)
async def test_an_employee_works_with_their_own_entries(admin_client, employee, tenant, url, body, table):
    mine = await created(employee.client, f"{url}/", body(employee.id))
    others = await created(admin_client, f"{url}/", body(tenant.admin_id))
    before = await _counts(tenant.id)
    assert (await employee.client.post(f"{url}/", json=body(tenant.admin_id))).status_code == 403
    page = (await employee.client.get(f"{url}/")).json()
    assert [i["id"] for i in page["items"]] == [mine["id"]]
    assert (await employee.client.get(f"{url}/", params={"employee_id": tenant.admin_id})).status_code == 403
    assert (await employee.client.get(f"{url}/{others['id']}")).status_code == 403
    assert (await employee.client.patch(f"{url}/{others['id']}", json={"date": "2026-03-09"})).status_code == 403
    assert (
        await employee.client.patch(f"{url}/{mine['id']}", json={"employee_id": tenant.admin_id})
    ).status_code == 403
    assert (await employee.client.delete(f"{url}/{others['id']}")).status_code == 403
    assert await _counts(tenant.id) == before
    assert (await employee.client.patch(f"{url}/{mine['id']}", json={"date": "2026-03-09"})).status_code == 200
    # The administrator sees everyone's.
    assert (await admin_client.get(f"{url}/")).json()["total"] == 2


async def test_employee_totals_are_their_own(admin_client, employee, tenant):
    await created(employee.client, "/api/time/reports/", report(employee.id, hours=4))
    await created(admin_client, "/api/time/reports/", report(tenant.admin_id, hours=8))
    assert (await employee.client.get("/api/time/reports/totals")).json()["hours"] == "4.00"
    assert (
        await employee.client.get("/api/time/reports/totals", params={"employee_id": tenant.admin_id})
    ).status_code == 403
    assert (await admin_client.get("/api/time/reports/totals")).json()["hours"] == "12.00"


async def test_employee_must_exist_in_the_organization(admin_client, other_tenant, tenant, employee):
    gone = await created(admin_client, "/api/employees/", {"name": "Gone", "email": f"gone@{tenant.slug}.example"})
    assert (await admin_client.delete(f"/api/employees/{gone['id']}")).status_code == 200
    before = await _counts(tenant.id)
    for url, body, _ in DATED:
        for employee_id in (other_tenant.admin_id, gone["id"], 999_999):
            r = await admin_client.post(f"{url}/", json=body(employee_id))
            assert r.status_code == 400, (url, employee_id, r.text)
            assert r.json()["field"] == "employee_id"
    for employee_id in (other_tenant.admin_id, gone["id"]):
        r = await admin_client.post("/api/time/shifts/", json=shift(employee_id))
        assert r.status_code == 400 and r.json()["field"] == "employee_id"
    row = await created(admin_client, "/api/time/reports/", report(employee.id))
    r = await admin_client.patch(f"/api/time/reports/{row['id']}", json={"employee_id": other_tenant.admin_id})
    assert r.status_code == 400 and r.json()["field"] == "employee_id"
    assert (await admin_client.get(f"/api/time/reports/{row['id']}")).json()["employee_id"] == employee.id
    assert await _counts(tenant.id) == [before[0] + 1, *before[1:]]


async def test_bad_input_on_every_write_endpoint(admin_client, tenant):
    r_id = (await created(admin_client, "/api/time/reports/", report(tenant.admin_id)))["id"]
    e_id = (await created(admin_client, "/api/time/expenses/", expense(tenant.admin_id)))["id"]
    d_id = (await created(admin_client, "/api/time/deviations/", deviation(tenant.admin_id)))["id"]
    s_id = (await created(admin_client, "/api/time/shifts/", shift(tenant.admin_id)))["id"]
    me = tenant.admin_id
    before = await _counts(tenant.id)
    cases = [
        ("post", "/api/time/reports/", report(me, hours=0), "hours"),
        ("post", "/api/time/reports/", report(me, hours="24.01"), "hours"),
        ("post", "/api/time/reports/", report(me, hours="1.005"), "hours"),
        ("post", "/api/time/reports/", report(me, hours="NaN"), "hours"),
        ("post", "/api/time/reports/", report(me, hours="sju"), "hours"),
        ("post", "/api/time/reports/", report(me, date="1999-12-31"), "date"),
        ("post", "/api/time/reports/", report(me, date="2026-02-30"), "date"),
        ("post", "/api/time/reports/", {**report(me), "employee_id": 0}, "employee_id"),
        ("post", "/api/time/reports/", report(me, customer_id=-1), "customer_id"),
        ("post", "/api/time/reports/", report(me, work_reference="x" * 101), "work_reference"),
        ("post", "/api/time/reports/", {"employee_id": me, "date": "2026-03-02"}, "hours"),
        ("post", "/api/time/reports/", report(me, minutes=5), "minutes"),
        ("patch", f"/api/time/reports/{r_id}", {"hours": -1}, "hours"),
        ("patch", f"/api/time/reports/{r_id}", {"employee_id": 2**31}, "employee_id"),
        ("post", "/api/time/expenses/", expense(me, amount=0), "amount"),
        ("post", "/api/time/expenses/", expense(me, amount="1e10"), "amount"),
        ("post", "/api/time/expenses/", expense(me, description="x" * 501), "description"),
        ("patch", f"/api/time/expenses/{e_id}", {"amount": "-5"}, "amount"),
        ("patch", f"/api/time/expenses/{e_id}", {"date": "yesterday"}, "date"),
        ("post", "/api/time/deviations/", deviation(me, kind="party"), "kind"),
        ("post", "/api/time/deviations/", deviation(me, comment="x" * 5001), "comment"),
        ("patch", f"/api/time/deviations/{d_id}", {"kind": ""}, "kind"),
        ("post", "/api/time/shifts/", shift(me, ends_at="2026-03-02T06:00:00+01:00"), "ends_at"),
        ("post", "/api/time/shifts/", shift(me, starts_at="2026-03-02T07:00:00"), "starts_at"),
        ("post", "/api/time/shifts/", shift(me, ends_at="2026-03-03T08:00:00+01:00"), "ends_at"),
        ("patch", f"/api/time/shifts/{s_id}", {"ends_at": "2026-03-01T00:00:00Z"}, "ends_at"),
        ("patch", f"/api/time/shifts/{s_id}", {"employee_id": "me"}, "employee_id"),
    ]
    await each_answers(admin_client, 400, cases)
    r = await admin_client.post("/api/time/reports/", content=b"[", headers={"content-type": "application/json"})
    assert r.status_code == 400
    for url in ("/api/time/reports/", "/api/time/expenses/", "/api/time/deviations/", "/api/time/shifts/"):
        r = await admin_client.get(url, params={"date_from": "2026-03-05", "date_to": "2026-03-01"})
        assert r.status_code == 400 and "date_to" in r.text
        assert (await admin_client.get(url, params={"limit": 201})).status_code == 400
        assert (await admin_client.get(url, params={"date_from": "03/05/2026"})).status_code == 400
    assert await _counts(tenant.id) == before
    assert (await admin_client.get(f"/api/time/reports/{r_id}")).json()["hours"] == "7.50"


async def test_login_is_required(client):
    for base in ("/api/time/reports", "/api/time/expenses", "/api/time/deviations", "/api/time/shifts"):
        for method, url in (
            ("get", f"{base}/"),
            ("post", f"{base}/"),
            ("get", f"{base}/1"),
            ("patch", f"{base}/1"),
            ("delete", f"{base}/1"),
        ):
            kwargs = {"json": {}} if method in ("post", "patch") else {}
            r = await getattr(client, method)(url, **kwargs)
            assert r.status_code == 401, (method, url, r.status_code)
    for url in ("/api/time/reports/totals", "/api/time/expenses/totals", "/api/time/settings"):
        assert (await client.get(url)).status_code == 401


async def test_other_tenants_ids_are_404_everywhere(admin_client, other_client, tenant, other_tenant):
    ids = {
        "/api/time/reports": (await created(admin_client, "/api/time/reports/", report(tenant.admin_id)))["id"],
        "/api/time/expenses": (await created(admin_client, "/api/time/expenses/", expense(tenant.admin_id)))["id"],
        "/api/time/deviations": (await created(admin_client, "/api/time/deviations/", deviation(tenant.admin_id)))[
            "id"
        ],
        "/api/time/shifts": (await created(admin_client, "/api/time/shifts/", shift(tenant.admin_id)))["id"],
    }
    before = await _counts(tenant.id)
    for base, record_id in ids.items():
        assert (await other_client.get(f"{base}/{record_id}")).status_code == 404, base
        assert (
            await other_client.patch(f"{base}/{record_id}", json={"employee_id": other_tenant.admin_id})
        ).status_code == 404, base
        assert (await other_client.delete(f"{base}/{record_id}")).status_code == 404, base
        assert (await other_client.get(f"{base}/")).json()["total"] == 0
        assert (await other_client.get(f"{base}/", params={"employee_id": tenant.admin_id})).json()["total"] == 0
    assert (await other_client.get("/api/time/reports/totals", params={"employee_id": tenant.admin_id})).json() == {
        "count": 0,
        "hours": "0.00",
    }
    assert (await other_client.get("/api/time/expenses/totals")).json() == {"count": 0, "amount": "0.00"}
    assert await _counts(tenant.id) == before
    assert (await admin_client.get(f"/api/time/reports/{ids['/api/time/reports']}")).json()["deleted_at"] is None


async def test_disabled_module_is_404(admin_client, tenant):
    assert (await admin_client.put("/api/modules/time", json={"enabled": False})).status_code == 200
    assert (await admin_client.get("/api/time/reports/")).status_code == 404
    assert (await admin_client.post("/api/time/reports/", json=report(tenant.admin_id))).status_code == 404


async def test_an_entry_without_employee_is_the_senders_and_shifts_are_logged(admin_client, employee, tenant):
    from core.eventlog import EventLog

    body = report(0)
    del body["employee_id"]
    assert (await created(employee.client, "/api/time/reports/", body))["employee_id"] == employee.id
    s = await created(admin_client, "/api/time/shifts/", shift(employee.id))
    assert (await admin_client.patch(f"/api/time/shifts/{s['id']}", json={"note": "Stänger"})).status_code == 200
    assert (await admin_client.delete(f"/api/time/shifts/{s['id']}")).status_code == 200
    rows = await EventLog.select(EventLog.action).where(
        (EventLog.tenant_id == tenant.id) & (EventLog.record_type == "shift") & (EventLog.record_id == s["id"])
    ).order_by(EventLog.id)
    assert [r["action"] for r in rows] == ["shift.created", "shift.edited", "shift.deleted"]
    since = {"updated_since": "2026-01-01T00:00:00Z"}
    assert (await admin_client.get("/api/time/shifts/", params=since)).status_code == 400
