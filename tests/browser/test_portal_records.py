"""In the browser, in Swedish, on a desktop and on a phone (390x844): a customer logged in to
the portal reads their own cases, work orders and quotes (read-only), and asks about their
personal data on "Mina personuppgifter", seeing the request and its status at once."""

from __future__ import annotations

import re
from typing import Any

from core.tables import Outbox
from tests.browser.conftest import run


async def _customer_with_records(tenant: Any) -> None:
    from decimal import Decimal

    from plugins.cases import services as cases
    from plugins.customers import services as customers
    from plugins.customers.schemas import CustomerIn
    from plugins.portal import services as portal
    from plugins.quotes import services as quotes
    from plugins.quotes.schemas import LineIn, QuoteIn

    customer = await customers.create_customer(tenant.id, CustomerIn(
        name="Olle Portal", kind="private", email="olle@example.se", mobile_phone="0701234567"))
    await portal.invite(tenant.id, "customer", int(customer["id"]), None)
    mail = await Outbox.select(Outbox.body).where(
        (Outbox.tenant_id == tenant.id) & (Outbox.channel == "email")).order_by(Outbox.id, ascending=False).first()
    token = re.search(r"token=([A-Za-z0-9_\-]+)", mail["body"]).group(1)
    await portal.activate(tenant.slug, token, "olles-losenord-1", None, "browser test")
    cid = int(customer["id"])
    await cases.CASES.create(tenant.id, {"title": "Läckande kran i köket", "customer_id": cid,
                                           "description": "Kranen droppar sedan i söndags."})
    await cases.CASES.create(tenant.id, {"title": "Trasig ytterdörr", "customer_id": cid})
    quote = await quotes.create_quote(tenant.id, 0, QuoteIn(
        title="Nytt staket", customer_id=cid,
        lines=[LineIn(description="Staketbrädor", quantity=Decimal("40"), unit_price=Decimal("45"))]))
    await quotes.send_quote(tenant.id, quote["id"], "olle@example.se", "")


def _login(page: Any, tenant: Any) -> None:
    page.goto(f"/portal/login?tenant={tenant.slug}")
    page.get_by_label("E-post").fill("olle@example.se")
    page.get_by_label("Lösenord").fill("olles-losenord-1")
    page.get_by_role("button", name="Logga in").click()
    page.get_by_role("heading", name="Välkommen, Olle Portal").wait_for()


def _ask(page: Any, shot: Any, name: str) -> None:
    page.get_by_role("heading", name="Mina personuppgifter", exact=True).wait_for()
    shot(page, f"portal-privacy-{name}")
    page.get_by_label("Radering (art. 17)").check()
    page.get_by_label(re.compile("^Vad behöver vi veta")).fill("Radera mina uppgifter när arbetet är klart.")
    page.get_by_role("button", name="Skicka begäran").click()
    page.get_by_text(re.compile(r"Din begäran är mottagen med nummer \d+\.")).wait_for()
    row = page.locator("#portal-requests tbody tr").first
    assert "Radering (art. 17)" in row.inner_text() and "Kontrollerad" in row.inner_text()
    shot(page, f"portal-privacy-asked-{name}")


def test_portal_records_and_privacy_on_a_desktop(new_page: Any, shot: Any, tenant: Any) -> None:
    run(_customer_with_records(tenant))
    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    _login(page, tenant)
    page.get_by_role("link", name="Ärenden").click()
    page.get_by_role("heading", name="Ärenden").wait_for()
    text = page.locator("main").inner_text()
    assert "Läckande kran i köket" in text and "Trasig ytterdörr" in text and "Öppet" in text
    shot(page, "portal-cases")
    page.get_by_role("link", name="Läckande kran i köket").click()
    page.get_by_role("heading", name=re.compile("^Ärende 1: Läckande kran")).wait_for()
    assert "Kranen droppar sedan i söndags." in page.locator("main").inner_text()
    shot(page, "portal-case")
    page.get_by_role("link", name="Offerter").click()
    page.get_by_role("heading", name="Offerter").wait_for()
    assert "Väntar på svar" in page.locator("main").inner_text()
    page.get_by_role("link", name="1", exact=True).click()
    page.get_by_role("heading", name="Offert 1: Nytt staket").wait_for()
    assert "45,00\u00a0kr" in page.locator("main").inner_text()
    shot(page, "portal-quote")
    page.get_by_role("link", name="Mina personuppgifter").click()
    _ask(page, shot, "desktop")


def test_portal_records_and_privacy_on_a_phone(browser: Any, server: str, shot: Any, tenant: Any) -> None:
    run(_customer_with_records(tenant))
    context = browser.new_context(base_url=server, locale="sv-SE", viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        _login(page, tenant)
        page.get_by_text("Meny").click()
        page.get_by_role("link", name="Ärenden").click()
        page.get_by_role("heading", name="Ärenden").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, "portal-cases-phone")
        page.goto("/portal/records/quotes")
        page.get_by_role("link", name="1", exact=True).click()
        page.get_by_role("heading", name="Offert 1: Nytt staket").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, "portal-quote-phone")
        page.get_by_text("Meny").click()
        page.get_by_role("link", name="Mina personuppgifter").click()
        _ask(page, shot, "phone")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
