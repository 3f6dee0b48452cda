"""Time pages through the test client: own reports and expenses, errors beside the field."""

from __future__ import annotations

from core.users import create_employee_with_password
from tests.conftest import TEST_PASSWORD
from tests.pages.helpers import page_login, post_form


async def test_reports_and_expenses(anon_client, tenant):
    email = f"tid@{tenant.slug}.example"
    await create_employee_with_password(tenant.id, "Tilda Tid", email, "user", TEST_PASSWORD)
    await page_login(anon_client, tenant, email=email)
    r = await post_form(anon_client, "/time/reports", {"date": "igår", "hours": "8"}, "/time")
    assert r.status_code == 400 and 'id="e-reports-date"' in r.text and 'id="e-expenses-date"' not in r.text
    r = await post_form(anon_client, "/time/reports", {"date": "2026-11-20", "hours": "7,5", "comment": "Montering"}, "/time")
    assert r.status_code == 303
    r = await post_form(anon_client, "/time/expenses", {"date": "2026-11-20", "amount": "x"}, "/time")
    assert r.status_code == 400 and 'id="e-expenses-amount"' in r.text
    r = await post_form(anon_client, "/time/expenses", {"date": "2026-11-20", "amount": "129", "description": "Parkering"}, "/time")
    assert r.status_code == 303
    page = (await anon_client.get("/time")).text
    assert "Montering" in page and "7.5" in page and "Parkering" in page
    assert "Montering" not in (await anon_client.get("/time?date_from=2026-11-21")).text
    # Another employee's entries are not shown to a user.
    anon_client.cookies.clear()
    email2 = f"annan@{tenant.slug}.example"
    await create_employee_with_password(tenant.id, "Annan", email2, "user", TEST_PASSWORD)
    await page_login(anon_client, tenant, email=email2)
    assert "Montering" not in (await anon_client.get("/time")).text
