"""Rules M26-M28 column by column, at the cutoff; totals unchanged by anonymization."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine

from core.gdpr.engine import sweep
from core.gdpr.registry import get_declarations
from core.plugins import get_host
from plugins.time.tables import Deviation, Expense, Shift, TimeReport
from plugins.time.tests.conftest import CUSTOMER, deviation, expense, report, shift
from tests.support import created

DAYS = 30
OLD = date(2025, 1, 10)  # the old records' date; the "late" ones are a day younger


def midnight(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=UTC)


async def _row(table, record_id: int) -> dict:  # type: ignore[no-untyped-def]
    return await table.select().where(table.id == record_id).first()


async def _set(client, key: str, mode: str = "days", days: int = DAYS) -> None:  # type: ignore[no-untyped-def]
    r = await client.put("/api/time/settings", json=[{"key": key, "mode": mode, "days": days}])
    assert r.status_code == 200, r.text


async def _seed(client, url: str, make, employee_id: int):  # type: ignore[no-untyped-def]
    """An old record, one a day younger, and one dated ahead (a planned absence, say) that
    the tests delete: only its deletion can make it due within the test's horizon."""
    old = await created(client, f"{url}/", make(employee_id, date=OLD.isoformat()))
    late = await created(client, f"{url}/", make(employee_id, date=(OLD + timedelta(days=1)).isoformat()))
    recent = await created(client, f"{url}/", make(employee_id, date=(date.today() + timedelta(days=200)).isoformat()))
    return old["id"], late["id"], recent["id"]


async def _sweep_at(tenant_id: int, when: datetime, rule: str) -> int:
    with time_machine.travel(when, tick=False):
        results = {r.rule: r for r in await sweep(tenant_id, "time")}
    assert results[rule].outcome == "ok", results[rule]
    return results[rule].records


async def test_m26_time_reports(admin_client, tenant, employee):
    await _set(admin_client, "time_reports")
    old, late, recent = await _seed(admin_client, "/api/time/reports", report, employee.id)
    totals_before = (await admin_client.get("/api/time/reports/totals")).json()
    assert totals_before == {"count": 3, "hours": "22.50"}
    now = datetime.now(UTC)
    deleted = (await admin_client.delete(f"/api/time/reports/{recent}")).json()["deleted_at"]
    assert deleted

    assert await _sweep_at(tenant.id, midnight(OLD) + timedelta(days=DAYS), "time_reports") == 0
    assert await _sweep_at(tenant.id, midnight(OLD) + timedelta(days=DAYS, seconds=1), "time_reports") == 1
    row = await _row(TimeReport, old)
    assert row["anonymized_at"] is not None
    # the link to the employee and the comment are gone
    assert row["employee_id"] == 0 and row["comment"] == ""
    # hours, date, customer and work reference stay (M26 names only employee and comments)
    assert str(row["hours"]) in ("7.5", "7.50") and row["date"] == OLD
    assert row["customer_id"] == CUSTOMER["id"] and row["work_reference"] == "AO-1001"
    for untouched in (late, recent):
        r = await _row(TimeReport, untouched)
        assert r["anonymized_at"] is None and r["employee_id"] == employee.id and r["comment"] == "Montage hos Svensson"

    # The deleted recent report is due N days after its deletion, not after its date.
    assert await _sweep_at(tenant.id, now + timedelta(days=DAYS) - timedelta(minutes=1), "time_reports") == 1  # `late`
    assert (await _row(TimeReport, recent))["anonymized_at"] is None
    assert await _sweep_at(tenant.id, now + timedelta(days=DAYS, minutes=1), "time_reports") == 1
    row = await _row(TimeReport, recent)
    assert row["employee_id"] == 0 and row["comment"] == "" and row["anonymized_at"] is not None

    # Totals per period are unchanged by anonymization (the deleted one left them at delete).
    totals = (await admin_client.get("/api/time/reports/totals")).json()
    assert totals == {"count": 2, "hours": "15.00"}
    period = {"date_from": OLD.isoformat(), "date_to": (OLD + timedelta(days=1)).isoformat()}
    assert (await admin_client.get("/api/time/reports/totals", params=period)).json() == {"count": 2, "hours": "15.00"}
    # ...but no longer found under the employee.
    assert (await admin_client.get("/api/time/reports/totals", params={"employee_id": employee.id})).json()[
        "count"
    ] == 0


async def test_m27_deviations(admin_client, tenant, employee):
    await _set(admin_client, "time_deviations")
    old, late, recent = await _seed(admin_client, "/api/time/deviations", deviation, employee.id)
    assert await _sweep_at(tenant.id, midnight(OLD) + timedelta(days=DAYS), "time_deviations") == 0
    assert await _sweep_at(tenant.id, midnight(OLD) + timedelta(days=DAYS, seconds=1), "time_deviations") == 1
    row = await _row(Deviation, old)
    assert row["employee_id"] == 0 and row["comment"] == "" and row["anonymized_at"] is not None
    assert row["kind"] == "sick" and row["date"] == OLD
    for untouched in (late, recent):
        r = await _row(Deviation, untouched)
        assert r["employee_id"] == employee.id and r["comment"] == "Feber" and r["anonymized_at"] is None
    now = datetime.now(UTC)
    await admin_client.delete(f"/api/time/deviations/{recent}")
    assert await _sweep_at(tenant.id, now + timedelta(days=DAYS, minutes=1), "time_deviations") == 2
    assert (await _row(Deviation, recent))["employee_id"] == 0


async def test_m28_expenses_and_amounts(admin_client, tenant, employee):
    await _set(admin_client, "time_expenses")
    old, late, recent = await _seed(admin_client, "/api/time/expenses", expense, employee.id)
    before = (await admin_client.get("/api/time/expenses/totals")).json()
    assert before == {"count": 3, "amount": "1049.70"}
    assert await _sweep_at(tenant.id, midnight(OLD) + timedelta(days=DAYS), "time_expenses") == 0
    assert await _sweep_at(tenant.id, midnight(OLD) + timedelta(days=DAYS, seconds=1), "time_expenses") == 1
    row = await _row(Expense, old)
    # links to employee and customer and the description cleared
    assert row["employee_id"] == 0 and row["customer_id"] == 0 and row["description"] == ""
    assert row["anonymized_at"] is not None and row["date"] == OLD
    for untouched in (late, recent):
        r = await _row(Expense, untouched)
        assert (r["employee_id"], r["customer_id"], r["description"]) == (
            employee.id,
            CUSTOMER["id"],
            "Parkering vid Svenssons",
        )
    # the amount stays: totals unchanged
    assert (await admin_client.get("/api/time/expenses/totals")).json() == before
    month = {"date_from": "2025-01-01", "date_to": "2025-01-31"}
    assert (await admin_client.get("/api/time/expenses/totals", params=month)).json() == {
        "count": 2,
        "amount": "699.80",
    }


async def test_rules_are_off_by_default_and_per_tenant(admin_client, other_client, tenant, other_tenant, employee):
    old, _, _ = await _seed(admin_client, "/api/time/reports", report, employee.id)
    far = midnight(OLD) + timedelta(days=3000)
    with time_machine.travel(far, tick=False):
        results = {r.rule: (r.outcome, r.records) for r in await sweep(tenant.id, "time")}
    assert results == {"time_reports": ("off", 0), "time_deviations": ("off", 0), "time_expenses": ("off", 0)}
    await _set(other_client, "time_reports")
    with time_machine.travel(far, tick=False):
        await sweep(other_tenant.id, "time")
    assert (await _row(TimeReport, old))["employee_id"] == employee.id


async def test_immediately_is_not_offered(admin_client):
    r = await admin_client.put("/api/time/settings", json=[{"key": "time_reports", "mode": "immediately"}])
    assert r.status_code == 400
    rows = {row["key"]: row for row in (await admin_client.get("/api/time/settings")).json()}
    assert set(rows) == {"time_reports", "time_deviations", "time_expenses"}
    assert rows["time_reports"]["allowed_modes"] == ["days", "off"]
    assert (rows["time_expenses"]["label_sv"], rows["time_deviations"]["label_en"]) == ("Utlägg", "Deviations")


async def test_employee_anonymization_zeroes_every_time_table(admin_client, tenant, employee):
    """The core's employee rule reaches the references this plugin declared."""
    ids = {
        TimeReport: (await created(admin_client, "/api/time/reports/", report(employee.id)))["id"],
        Expense: (await created(admin_client, "/api/time/expenses/", expense(employee.id)))["id"],
        Deviation: (await created(admin_client, "/api/time/deviations/", deviation(employee.id)))["id"],
        Shift: (await created(admin_client, "/api/time/shifts/", shift(employee.id)))["id"],
    }
    kept = (await created(admin_client, "/api/time/reports/", report(tenant.admin_id)))["id"]
    r = await admin_client.put("/api/gdpr/retention", json=[{"key": "core.employees", "mode": "immediately"}])
    assert r.status_code == 200, r.text
    assert (await admin_client.delete(f"/api/employees/{employee.id}")).status_code == 200
    for table, record_id in ids.items():
        assert (await _row(table, record_id))["employee_id"] == 0, table
    assert (await _row(TimeReport, kept))["employee_id"] == tenant.admin_id
    assert (await _row(TimeReport, ids[TimeReport]))["hours"] is not None


@pytest.mark.parametrize(
    "table,place_sv,place_en",
    [
        (TimeReport, "Tidrapporter", "Time reports"),
        (Expense, "Utlägg", "Expenses"),
        (Deviation, "Avvikelser", "Deviations"),
        (Shift, "Schema", "Schedule"),
    ],
)
async def test_search_sources_cover_every_personal_column(table, place_sv, place_en):
    decl = get_declarations()
    fields = {f.field.column for f in decl.fields if f.owner == "time" and f.table is table}
    sources = [s for s in get_host().collect_by_plugin("declare_search_sources")["time"] if s.table is table]
    assert {s.column for s in sources} == fields and fields
    assert {(s.area, s.place_sv, s.place_en) for s in sources} == {("time", place_sv, place_en)}
    refs = {f.field.column: f.field for f in decl.fields if f.owner == "time" and f.table is table}
    assert refs["employee_id"].category == "employee_ref" and refs["employee_id"].strategy == "zero"


async def test_customer_anonymization_zeroes_report_and_expense_links(admin_client, tenant):
    if "customers" not in get_host().modules():
        pytest.skip("the customers plugin is not installed")
    customer = (await admin_client.post("/api/customers/", json={"name": "Acme AB", "kind": "company"})).json()
    rep = await created(admin_client, "/api/time/reports/", report(tenant.admin_id, customer_id=customer["id"]))
    exp = await created(admin_client, "/api/time/expenses/", expense(tenant.admin_id, customer_id=customer["id"]))
    r = await admin_client.put("/api/customers/settings", json=[{"key": "customers", "mode": "immediately"}])
    assert r.status_code == 200, r.text
    assert (await admin_client.delete(f"/api/customers/{customer['id']}")).status_code == 200
    assert (await _row(TimeReport, rep["id"]))["customer_id"] == 0
    row = await _row(Expense, exp["id"])
    assert row["customer_id"] == 0 and row["employee_id"] == tenant.admin_id and row["anonymized_at"] is None
    assert (await admin_client.get("/api/time/expenses/totals")).json()["amount"] == "349.90"
