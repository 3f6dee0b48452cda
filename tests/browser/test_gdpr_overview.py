"""In the browser: the GDPR overview in Swedish on a desktop and a 390x844 phone, its two
SVG charts with their tables, the incident and request panels, and "Kör gallring nu"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.browser.conftest import login, run


async def _seed(tenant_id: int) -> None:
    from core.gdpr.settings import RuleSetting, save_settings
    from core.gdpr.tables import GdprRun
    from plugins.customers.tables import Customer
    from plugins.dsr.tables import DsrRequest
    from plugins.privacy.tables import Incident

    now = datetime.now(UTC)
    await save_settings(tenant_id, {"customers": RuleSetting("days", 30)})
    # Deleted customers that fall due over the coming months (two are due now).
    for n, days_ago in enumerate((45, 35, 20, 10, 5, -40, -41, -100, -200, -250), start=1):
        await Customer.insert(Customer(tenant_id=tenant_id, number=n, kind="private", name=f"Kund {n}",
                                       deleted_at=now - timedelta(days=days_ago)))
    runs = []
    for day, records, outcome in ((1, 4, "ok"), (3, 12, "ok"), (3, 0, "error"), (8, 7, "ok"), (15, 20, "ok"),
                                  (22, 2, "ok"), (27, 9, "ok")):
        at = now - timedelta(days=day)
        runs.append(GdprRun(tenant_id=tenant_id, plugin="customers", rule_key="customers", trigger="sweep",
                            started_at=at, finished_at=at, records=records, outcome=outcome))
    await GdprRun.insert(*runs)
    await Incident.insert(Incident(tenant_id=tenant_id, number=1, title="Borttappad dator",
                                   discovered_at=now - timedelta(hours=30)))
    today = now.date()
    await DsrRequest.insert(DsrRequest(tenant_id=tenant_id, number=1, kind="erasure", received_on=today,
                                       due_on=today + timedelta(days=30)))


def _check_page(page: Any) -> None:
    page.get_by_role("heading", name="Översikt").wait_for()
    for chart, table in (("#chart-due", "#table-due"), ("#chart-history", "#table-history")):
        assert page.locator(f"svg{chart}").count() == 1
        assert page.locator(f"svg{chart} rect").count() > 0
        assert page.locator(f"{table} tbody tr").count() >= 12
    assert page.locator("#chart-history path.mark").count() == 1  # the day with a failed run
    assert "Poster som anonymiseras per månad" in page.content()
    assert page.locator("#panel-privacy-incidents").inner_text().count("Incident 1") == 1
    assert "Begäran 1 (radering)" in page.locator("#panel-dsr-requests").inner_text()


def test_gdpr_overview_swedish_desktop_and_phone(new_page: Any, browser: Any, server: str, shot: Any,
                                                 tenant: Any) -> None:
    run(_seed(tenant.id))
    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, tenant)
    page.goto("/settings")
    page.get_by_role("link", name="Översikt").click()
    _check_page(page)
    shot(page, "overview")
    for summary in page.locator("details.chart-table summary").all():
        summary.click()
    assert page.locator("#table-due").is_visible() and page.locator("#table-history").is_visible()
    shot(page, "overview-tables")

    page.get_by_role("button", name="Kör gallring nu").click()
    notice = page.locator(".notice[role=status]")
    notice.wait_for()
    assert "Gallringen är klar: 2 post(er) anonymiserades." in notice.inner_text()
    shot(page, "after-sweep")

    phone = browser.new_context(base_url=server, locale="sv-SE", viewport={"width": 390, "height": 844})
    try:
        mobile = phone.new_page()
        login(mobile, tenant)
        mobile.goto("/settings/gdpr/overview")
        _check_page(mobile)
        width = mobile.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the overview scrolls sideways on a phone ({width}px)"
        box = mobile.locator("#chart-due").bounding_box()
        assert box is not None and box["width"] <= 390
        shot(mobile, "overview-phone")
        mobile.locator("#chart-due").screenshot(path=str(shot.folder / "chart-due-phone.png"))
        mobile.locator("#chart-history").screenshot(path=str(shot.folder / "chart-history-phone.png"))
        for summary in mobile.locator("details.chart-table summary").all():
            summary.click()
        shot(mobile, "overview-phone-tables")
        width = mobile.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the open tables scroll the page sideways ({width}px)"
    finally:
        phone.close()
