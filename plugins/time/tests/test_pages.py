"""Time pages through the test client: own reports and expenses, errors beside the field."""

from __future__ import annotations

import re

from core.tables import Employee
from core.users import create_employee_with_password
from plugins.time.tables import Deviation, Expense, Shift, TimeReport
from tests.pages.helpers import page_login, post_form
from tests.support import TEST_PASSWORD


async def test_reports_and_expenses(anon_client, tenant):
    email = f"tid@{tenant.slug}.example"
    await create_employee_with_password(tenant.id, "Tilda Tid", email, "user", TEST_PASSWORD)
    await page_login(anon_client, tenant, email=email)
    r = await post_form(anon_client, "/time/reports", {"date": "igår", "hours": "8"}, "/time")
    assert r.status_code == 400 and 'id="e-reports-date"' in r.text and 'id="e-expenses-date"' not in r.text
    r = await post_form(
        anon_client, "/time/reports", {"date": "2026-11-20", "hours": "7,5", "comment": "Montering"}, "/time"
    )
    assert r.status_code == 303
    r = await post_form(anon_client, "/time/expenses", {"date": "2026-11-20", "amount": "x"}, "/time")
    assert r.status_code == 400 and 'id="e-expenses-amount"' in r.text
    r = await post_form(
        anon_client, "/time/expenses", {"date": "2026-11-20", "amount": "129", "description": "Parkering"}, "/time"
    )
    assert r.status_code == 303
    page = (await anon_client.get("/time")).text
    assert "Montering" in page and "7,5" in page and "Parkering" in page
    assert "Montering" not in (await anon_client.get("/time?date_from=2026-11-21")).text
    # Another employee's entries are not shown to a user.
    anon_client.cookies.clear()
    email2 = f"annan@{tenant.slug}.example"
    await create_employee_with_password(tenant.id, "Annan", email2, "user", TEST_PASSWORD)
    await page_login(anon_client, tenant, email=email2)
    assert "Montering" not in (await anon_client.get("/time")).text


# --- deviations and the schedule ------------------------------------------------------


async def _employee(tenant, name: str) -> tuple[int, str]:
    email = f"{name.lower().replace(' ', '.')}@{tenant.slug}.example"
    await create_employee_with_password(tenant.id, name, email, "user", TEST_PASSWORD)
    row = (
        await Employee.select(Employee.id).where((Employee.tenant_id == tenant.id) & (Employee.email == email)).first()
    )
    return int(row["id"]), email


async def test_deviations_create_edit_delete_and_errors(anon_client, tenant):
    _id, email = await _employee(tenant, "Vera Vab")
    await page_login(anon_client, tenant, email=email)
    r = await anon_client.get("/time/deviations")
    assert r.status_code == 200 and 'action="/time/deviations/new"' in r.text
    assert 'id="f-employee_id"' not in r.text  # an employee records for themselves
    # Invalid input: the form again, the error beside its field, nothing saved.
    r = await post_form(anon_client, "/time/deviations/new", {"date": "igår", "kind": "sick"}, "/time/deviations")
    assert r.status_code == 400 and 'id="e-date"' in r.text and 'aria-invalid="true"' in r.text
    r = await post_form(
        anon_client, "/time/deviations/new", {"date": "2026-11-20", "kind": "holiday"}, "/time/deviations"
    )
    assert r.status_code == 400 and 'id="e-kind"' in r.text
    r = await post_form(anon_client, "/time/deviations/new", {"date": "1999-01-01", "kind": "sick"}, "/time/deviations")
    assert r.status_code == 400 and 'id="e-date"' in r.text
    assert await Deviation.count().where(Deviation.tenant_id == tenant.id) == 0
    # Missing CSRF token: refused, nothing saved.
    r = await anon_client.post(
        "/time/deviations/new", data={"date": "2026-11-20", "kind": "sick"}, follow_redirects=False
    )
    assert r.status_code == 403
    assert await Deviation.count().where(Deviation.tenant_id == tenant.id) == 0
    r = await post_form(
        anon_client,
        "/time/deviations/new",
        {"date": "2026-11-20", "kind": "child_care", "comment": "Förskolan stängd"},
        "/time/deviations",
    )
    assert r.status_code == 303
    page = (await anon_client.get("/time/deviations")).text
    assert "Förskolan stängd" in page and "Vård av sjukt barn" in page
    record_id = int(re.search(r"/time/deviations/(\d+)/edit", page).group(1))
    # Live filtering: htmx gets the results only; the same address is a full page without it.
    r = await anon_client.get("/time/deviations?kind=vacation", headers={"HX-Request": "true"})
    assert r.status_code == 200 and "<html" not in r.text and 'id="results"' in r.text and "Förskolan" not in r.text
    r = await anon_client.get("/time/deviations?date_from=2026-11-21&date_to=2026-11-01")
    assert r.status_code == 400 and 'id="e-date_to"' in r.text
    # Edit: the form filled in; an invalid value stays beside its field.
    r = await anon_client.get(f"/time/deviations/{record_id}/edit")
    assert r.status_code == 200 and 'value="2026-11-20"' in r.text and "Förskolan stängd" in r.text
    r = await post_form(
        anon_client, f"/time/deviations/{record_id}/edit", {"date": "", "kind": "sick"}, "/time/deviations"
    )
    assert r.status_code == 400 and 'id="e-date"' in r.text
    r = await post_form(
        anon_client,
        f"/time/deviations/{record_id}/edit",
        {"date": "2026-11-19", "kind": "sick", "comment": "Feber"},
        "/time/deviations",
    )
    assert r.status_code == 303
    row = await Deviation.select().where(Deviation.id == record_id).first()
    assert str(row["date"]) == "2026-11-19" and row["kind"] == "sick" and row["comment"] == "Feber"
    r = await anon_client.post(f"/time/deviations/{record_id}/delete", data={}, follow_redirects=False)
    assert r.status_code == 403
    r = await post_form(anon_client, f"/time/deviations/{record_id}/delete", {}, "/time/deviations")
    assert r.status_code == 303
    assert "Feber" not in (await anon_client.get("/time/deviations")).text
    assert (await Deviation.select().where(Deviation.id == record_id).first())["deleted_at"] is not None


async def test_deviations_other_people_and_tenants(anon_client, tenant, other_tenant):
    owner_id, owner_email = await _employee(tenant, "Olle Ägare")
    _other_id, other_email = await _employee(tenant, "Kim Kollega")
    await page_login(anon_client, tenant, email=owner_email)
    r = await post_form(
        anon_client, "/time/deviations/new", {"date": "2026-11-20", "kind": "vacation"}, "/time/deviations"
    )
    assert r.status_code == 303
    record_id = (await Deviation.select(Deviation.id).where(Deviation.employee_id == owner_id).first())["id"]
    # A colleague can neither see nor change it.
    anon_client.cookies.clear()
    await page_login(anon_client, tenant, email=other_email)
    assert f"/time/deviations/{record_id}/edit" not in (await anon_client.get("/time/deviations")).text
    assert (await anon_client.get(f"/time/deviations/{record_id}/edit")).status_code == 403
    r = await post_form(anon_client, f"/time/deviations/{record_id}/delete", {}, "/time/deviations")
    assert r.status_code == 403
    # An employee cannot record for someone else by adding the field.
    r = await post_form(
        anon_client,
        "/time/deviations/new",
        {"date": "2026-11-20", "kind": "sick", "employee_id": str(owner_id)},
        "/time/deviations",
    )
    assert r.status_code == 303
    assert await Deviation.count().where((Deviation.employee_id == owner_id) & (Deviation.kind == "sick")) == 0
    # Another organization's administrator gets 404 for it.
    anon_client.cookies.clear()
    await page_login(anon_client, other_tenant)
    assert (await anon_client.get(f"/time/deviations/{record_id}/edit")).status_code == 404
    r = await post_form(
        anon_client, f"/time/deviations/{record_id}/edit", {"date": "2026-11-21", "kind": "sick"}, "/time/deviations"
    )
    assert r.status_code == 404
    r = await post_form(anon_client, f"/time/deviations/{record_id}/delete", {}, "/time/deviations")
    assert r.status_code == 404
    assert (await Deviation.select().where(Deviation.id == record_id).first())["deleted_at"] is None
    # The administrator of the organization sees it and records for others.
    anon_client.cookies.clear()
    await page_login(anon_client, tenant)
    page = (await anon_client.get("/time/deviations")).text
    assert f"/time/deviations/{record_id}/edit" in page and "Olle Ägare" in page
    r = await post_form(
        anon_client,
        "/time/deviations/new",
        {"date": "2026-11-22", "kind": "leave", "employee_id": str(owner_id)},
        "/time/deviations",
    )
    assert r.status_code == 303
    assert await Deviation.count().where((Deviation.employee_id == owner_id) & (Deviation.kind == "leave")) == 1
    theirs = other_tenant.admin_id
    r = await post_form(
        anon_client,
        "/time/deviations/new",
        {"date": "2026-11-22", "kind": "leave", "employee_id": str(theirs)},
        "/time/deviations",
    )
    assert r.status_code == 400 and 'id="e-employee_id"' in r.text


async def test_schedule_planning(anon_client, tenant, other_tenant):
    worker_id, worker_email = await _employee(tenant, "Sara Schema")
    await page_login(anon_client, tenant)
    r = await anon_client.get("/time/schedule?week=2026-11-25")
    assert r.status_code == 200 and "2026-11-23" in r.text and 'action="/time/schedule/new"' in r.text
    # Errors beside their fields; nothing saved.
    r = await post_form(
        anon_client,
        "/time/schedule/new",
        {"employee_id": "", "date": "2026-11-24", "start": "7", "end": "16:00"},
        "/time/schedule",
    )
    assert r.status_code == 400 and 'id="e-employee_id"' in r.text and 'id="e-start"' in r.text
    r = await post_form(
        anon_client,
        "/time/schedule/new",
        {"employee_id": str(worker_id), "date": "2026-11-24", "start": "06:00", "end": "06:30", "note": "x"},
        "/time/schedule",
    )
    assert r.status_code == 303  # a short shift the same day
    r = await post_form(
        anon_client,
        "/time/schedule/new",
        {"employee_id": str(other_tenant.admin_id), "date": "2026-11-24", "start": "07:00", "end": "16:00"},
        "/time/schedule",
    )
    assert r.status_code == 400 and 'id="e-employee_id"' in r.text
    r = await anon_client.post(
        "/time/schedule/new",
        data={"employee_id": str(worker_id), "date": "2026-11-24", "start": "07:00", "end": "16:00"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    r = await post_form(
        anon_client,
        "/time/schedule/new",
        {"employee_id": str(worker_id), "date": "2026-11-25", "start": "22:00", "end": "06:00", "note": "Natt"},
        "/time/schedule",
    )
    assert r.status_code == 303 and r.headers["location"] == "/time/schedule?week=2026-11-23"
    night = await Shift.select().where((Shift.tenant_id == tenant.id) & (Shift.note == "Natt")).first()
    assert (night["ends_at"] - night["starts_at"]).total_seconds() == 8 * 3600
    page = (await anon_client.get("/time/schedule?week=2026-11-23")).text
    assert "Sara Schema" in page and "22:00–06:00 (+1)" in page
    # Edit and delete.
    r = await anon_client.get(f"/time/schedule/{night['id']}/edit")
    assert r.status_code == 200 and 'value="22:00"' in r.text and 'value="2026-11-25"' in r.text
    r = await post_form(
        anon_client,
        f"/time/schedule/{night['id']}/edit",
        {"employee_id": str(worker_id), "date": "2026-11-25", "start": "x", "end": "06:00"},
        "/time/schedule",
    )
    assert r.status_code == 400 and 'id="e-start"' in r.text
    r = await post_form(
        anon_client,
        f"/time/schedule/{night['id']}/edit",
        {"employee_id": str(worker_id), "date": "2026-11-26", "start": "08:00", "end": "12:00", "note": "Dag"},
        "/time/schedule",
    )
    assert r.status_code == 303
    assert (await Shift.select().where(Shift.id == night["id"]).first())["note"] == "Dag"
    # An employee reads the schedule but does not plan it.
    anon_client.cookies.clear()
    await page_login(anon_client, tenant, email=worker_email)
    page = (await anon_client.get("/time/schedule?week=2026-11-23")).text
    assert "Dag" in page and 'action="/time/schedule/new"' not in page
    assert (await anon_client.get(f"/time/schedule/{night['id']}/edit")).status_code == 403
    r = await post_form(anon_client, f"/time/schedule/{night['id']}/delete", {}, "/time/schedule")
    assert r.status_code == 403
    # Another organization: 404, nothing changed.
    anon_client.cookies.clear()
    await page_login(anon_client, other_tenant)
    assert (await anon_client.get(f"/time/schedule/{night['id']}/edit")).status_code == 404
    r = await post_form(anon_client, f"/time/schedule/{night['id']}/delete", {}, "/time/schedule")
    assert r.status_code == 404
    assert "Sara Schema" not in (await anon_client.get("/time/schedule?week=2026-11-23")).text
    anon_client.cookies.clear()
    await page_login(anon_client, tenant)
    r = await post_form(anon_client, f"/time/schedule/{night['id']}/delete", {}, "/time/schedule")
    assert r.status_code == 303
    assert await Shift.count().where(Shift.id == night["id"]) == 0


async def test_a_report_is_edited_and_deleted_on_its_own_pages(anon_client, tenant):
    """Edit and delete pages of a time report (and an expense): only one's own, and the
    delete page says what anonymization follows."""
    worker_id, email = await _employee(tenant, "Rita Rapport")
    await page_login(anon_client, tenant, email=email)
    r = await post_form(anon_client, "/time/reports", {"date": "2026-11-20", "hours": "7,5"}, "/time")
    assert r.status_code == 303
    report = await TimeReport.select().where(TimeReport.employee_id == worker_id).first()
    base = f"/time/reports/{report['id']}"
    assert f'{base}/edit"' in (await anon_client.get("/time")).text
    assert (await anon_client.get(base, follow_redirects=False)).headers["location"] == f"{base}/edit"
    r = await anon_client.get(f"{base}/edit")
    assert r.status_code == 200 and 'value="2026-11-20"' in r.text and 'name="employee_id"' not in r.text
    r = await post_form(anon_client, f"{base}/edit", {"date": "2026-11-21", "hours": "25"}, f"{base}/edit")
    assert r.status_code == 400 and 'id="e-hours"' in r.text
    r = await post_form(
        anon_client, f"{base}/edit", {"date": "2026-11-21", "hours": "6,25", "work_reference": " AO-7 "}, f"{base}/edit"
    )
    assert r.status_code == 303 and r.headers["location"] == "/time#reports"
    row = await TimeReport.select().where(TimeReport.id == report["id"]).first()
    assert (str(row["date"]), float(row["hours"]), row["work_reference"]) == ("2026-11-21", 6.25, "AO-7")
    r = await anon_client.get(f"{base}/delete")
    assert r.status_code == 200 and 'id="anonymization-notice"' in r.text
    # An administrator's expense is not the employee's to open, change or delete.
    anon_client.cookies.clear()
    await page_login(anon_client, tenant)
    assert (
        await post_form(anon_client, "/time/expenses", {"date": "2026-11-20", "amount": "10"}, "/time")
    ).status_code == 303
    expense = await Expense.select().where(Expense.employee_id == tenant.admin_id).first()
    anon_client.cookies.clear()
    await page_login(anon_client, tenant, email=email)
    other = f"/time/expenses/{expense['id']}"
    assert (await anon_client.get(f"{other}/edit")).status_code == 403
    assert (await anon_client.get(f"{other}/delete")).status_code == 403
    assert (await post_form(anon_client, f"{other}/delete", {}, "/time")).status_code == 403
    assert (await Expense.select().where(Expense.id == expense["id"]).first())["deleted_at"] is None
    r = await post_form(anon_client, f"{base}/delete", {}, f"{base}/delete")
    assert r.status_code == 303
    assert (await TimeReport.select().where(TimeReport.id == report["id"]).first())["deleted_at"] is not None
    assert (await anon_client.get(f"{base}/edit")).status_code == 409
