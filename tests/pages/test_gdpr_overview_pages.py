"""Settings > GDPR > Overview: the due-per-month counts, the sweep history, the plugins'
panels (privacy incidents, data-subject requests), the permission check and "run sweep now"."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import time_machine

from core.eventlog import EventLog
from core.gdpr.overview import due_per_month, panels, sweep_history
from core.gdpr.settings import RuleSetting, save_settings
from core.gdpr.tables import GdprRun
from core.users import create_employee_with_password
from plugins.customers.tables import Customer
from plugins.dsr.tables import DsrRequest
from plugins.privacy.tables import Incident
from tests.pages.helpers import page_login, post_form
from tests.support import TEST_PASSWORD

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


async def _customer(tenant_id: int, number: int, deleted_at: datetime | None, **extra: object) -> int:
    rows = await Customer.insert(
        Customer(tenant_id=tenant_id, number=number, kind="private", name=f"Kund {number}",
                 deleted_at=deleted_at, **extra)
    ).returning(Customer.id)
    return int(rows[0]["id"])


async def test_due_per_month_counts_seeded_records_by_their_due_month(tenant, other_tenant):
    await save_settings(tenant.id, {"customers": RuleSetting("days", 30)})
    await save_settings(other_tenant.id, {"customers": RuleSetting("days", 30)})
    at = lambda *a: datetime(*a, tzinfo=UTC)  # noqa: E731
    # due = deleted_at + 30 days
    await _customer(tenant.id, 1, at(2026, 1, 1))  # due 31 Jan: already due -> this month
    await _customer(tenant.id, 2, at(2026, 2, 20))  # due 22 Mar -> March
    await _customer(tenant.id, 3, at(2026, 3, 5))  # due 4 Apr -> April
    await _customer(tenant.id, 4, at(2026, 3, 9))  # due 8 Apr -> April
    # due 31 Mar 22:30 UTC = 1 Apr 00:30 in Stockholm: April, not March
    await _customer(tenant.id, 5, at(2026, 3, 1, 22, 30))
    await _customer(tenant.id, 6, at(2026, 9, 1))  # due 1 Oct -> month 7 (October)
    await _customer(tenant.id, 7, at(2027, 3, 1))  # due 31 Mar 2027: after the 12 months
    await _customer(tenant.id, 8, None)  # not deleted: never due
    await _customer(tenant.id, 9, at(2026, 2, 20), anonymized_at=at(2026, 3, 1))  # done already
    await _customer(other_tenant.id, 10, at(2026, 2, 20))  # another organization's
    with time_machine.travel(NOW, tick=False):
        due = await due_per_month(tenant.id)
    assert due.months[0] == date(2026, 3, 1) and due.months[-1] == date(2027, 2, 1)
    counts = due.modules["customers"]
    assert counts[:3] == [2, 3, 0]
    assert counts[7] == 1
    assert sum(counts) == 6
    # A rule switched off counts nothing.
    await save_settings(tenant.id, {"customers": RuleSetting("off", 30)})
    with time_machine.travel(NOW, tick=False):
        assert "customers" not in (await due_per_month(tenant.id)).modules


async def test_sweep_history_counts_records_and_failures_per_day(tenant, other_tenant):
    def run(tenant_id: int, started: datetime, records: int, outcome: str = "ok") -> GdprRun:
        return GdprRun(tenant_id=tenant_id, plugin="customers", rule_key="customers", trigger="sweep",
                       started_at=started, finished_at=started, records=records, outcome=outcome)

    await GdprRun.insert(
        run(tenant.id, NOW - timedelta(hours=1), 3),
        run(tenant.id, NOW - timedelta(hours=2), 0),
        run(tenant.id, NOW - timedelta(days=1), 5),
        run(tenant.id, NOW - timedelta(days=1, hours=1), 0, "error"),
        run(tenant.id, NOW - timedelta(days=31), 100),  # older than 30 days
        run(other_tenant.id, NOW - timedelta(hours=1), 7),  # another organization's
    )
    with time_machine.travel(NOW, tick=False):
        days = await sweep_history(tenant.id)
    assert len(days) == 30 and days[-1].day == date(2026, 3, 10) and days[0].day == date(2026, 2, 9)
    assert (days[-1].records, days[-1].runs, days[-1].failures) == (3, 2, 0)
    assert (days[-2].records, days[-2].runs, days[-2].failures) == (5, 2, 1)
    assert sum(d.records for d in days) == 8 and sum(d.failures for d in days) == 1


async def _seed_matters(tenant_id: int, number: int) -> None:
    now = datetime.now(UTC)
    await Incident.insert(
        Incident(tenant_id=tenant_id, number=number, title="Stulen dator",
                 discovered_at=now - timedelta(hours=80)),
        Incident(tenant_id=tenant_id, number=number + 1, title="Closed", discovered_at=now, status="closed"),
    )
    today = now.date()
    await DsrRequest.insert(
        DsrRequest(tenant_id=tenant_id, number=number, kind="erasure", received_on=today,
                   due_on=today + timedelta(days=30)),
        DsrRequest(tenant_id=tenant_id, number=number + 1, kind="access", received_on=today,
                   due_on=today + timedelta(days=30), status="answered"),
    )


async def test_hook_gdpr_overview(tenant, other_tenant):
    await _seed_matters(tenant.id, 1)
    await _seed_matters(other_tenant.id, 50)
    found = {p.key: p for p in await panels(tenant.id)}
    assert set(found) >= {"privacy.incidents", "dsr.requests"}
    incidents, requests = found["privacy.incidents"], found["dsr.requests"]
    assert incidents.open_count == 1 and [d.title_sv for d in incidents.deadlines] == ["Incident 1: anmälan till IMY"]
    assert incidents.deadlines[0].due_at < datetime.now(UTC)  # discovered 80 hours ago: 72 hours passed
    assert requests.open_count == 1 and [d.title_en for d in requests.deadlines] == ["Request 1 (erasure)"]
    assert "Stulen dator" not in repr(incidents)  # an incident's title may name people


async def test_overview_page_shows_charts_tables_and_panels(anon_client, tenant, other_tenant):
    await _seed_matters(tenant.id, 1)
    await _seed_matters(other_tenant.id, 50)
    await save_settings(tenant.id, {"customers": RuleSetting("days", 30)})
    await _customer(tenant.id, 1, datetime.now(UTC) - timedelta(days=40))
    await page_login(anon_client, tenant)
    r = await anon_client.get("/settings/gdpr/overview")
    assert r.status_code == 200
    html = r.text
    assert '<svg id="chart-due"' in html and '<svg id="chart-history"' in html
    assert 'viewBox="0 0 480 260"' in html
    assert 'id="table-due"' in html and 'id="table-history"' in html
    assert "Poster som anonymiseras per månad" in html and "Kör gallring nu" in html
    assert "Månad" in html and "Dag" in html  # axis labels
    incidents = html.split('id="panel-privacy-incidents"')[1].split("</section>")[0]
    assert "Öppna personuppgiftsincidenter: 1" in incidents and "Incident 1: anmälan till IMY" in incidents
    assert "passerad" in incidents and "Incident 50" not in html
    requests = html.split('id="panel-dsr-requests"')[1].split("</section>")[0]
    assert "Öppna registrerades begäranden: 1" in requests and "Begäran 1 (radering)" in requests
    # The due customer is counted in this month's row of the table.
    first_row = html.split('id="table-due"')[1].split("<tbody>")[1].split("</tr>")[0]
    assert first_row.rstrip().endswith("<td>1</td>")
    assert '/settings/gdpr/overview' in (await anon_client.get("/settings")).text
    anon_client.cookies.set("gallra_lang", "en")
    r = await anon_client.get("/settings/gdpr/overview")
    assert "Records to be anonymized per month" in r.text and "Run sweep now" in r.text


async def test_overview_and_sweep_are_refused_without_the_gdpr_permission(anon_client, tenant):
    email = f"user@{tenant.slug}.example"
    await create_employee_with_password(tenant.id, "Vanlig", email, "user", TEST_PASSWORD)
    await page_login(anon_client, tenant, email=email)
    assert (await anon_client.get("/settings/gdpr/overview")).status_code == 403
    r = await post_form(anon_client, "/settings/gdpr/overview/sweep", {}, "/")
    assert r.status_code == 403
    assert await GdprRun.count().where(GdprRun.tenant_id == tenant.id) == 0


async def test_run_sweep_now_anonymizes_what_is_due_and_is_audited(anon_client, tenant, other_tenant):
    for t in (tenant, other_tenant):
        await save_settings(t.id, {"customers": RuleSetting("days", 30)})
    old = await _customer(tenant.id, 1, datetime.now(UTC) - timedelta(days=40))
    young = await _customer(tenant.id, 2, datetime.now(UTC) - timedelta(days=2))
    theirs = await _customer(other_tenant.id, 3, datetime.now(UTC) - timedelta(days=40))
    await page_login(anon_client, tenant)
    # Without the form's token: refused, nothing swept.
    r = await anon_client.post("/settings/gdpr/overview/sweep", data={}, follow_redirects=False)
    assert r.status_code in (400, 403)
    assert await GdprRun.count().where(GdprRun.tenant_id == tenant.id) == 0
    r = await post_form(anon_client, "/settings/gdpr/overview/sweep", {}, "/settings/gdpr/overview")
    assert r.status_code == 303 and r.headers["location"] == "/settings/gdpr/overview"
    rows = await Customer.select(Customer.id, Customer.anonymized_at).where(Customer.id.is_in([old, young, theirs]))
    anonymized = {row["id"]: row["anonymized_at"] for row in rows}
    assert anonymized[old] is not None and anonymized[young] is None and anonymized[theirs] is None
    runs = await GdprRun.select().where((GdprRun.tenant_id == tenant.id) & (GdprRun.rule_key == "customers"))
    assert [(r["trigger"], r["records"], r["outcome"]) for r in runs] == [("sweep", 1, "ok")]
    assert await GdprRun.count().where(GdprRun.tenant_id == other_tenant.id) == 0
    events = await EventLog.select().where((EventLog.tenant_id == tenant.id) & (EventLog.action == "gdpr.sweep_now"))
    assert len(events) == 1 and events[0]["employee_id"] == tenant.admin_id
    page = await anon_client.get("/settings/gdpr/overview")
    assert "Gallringen är klar: 1 post(er) anonymiserades." in page.text
