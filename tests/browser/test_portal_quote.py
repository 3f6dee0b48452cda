"""In the browser: a customer opens the quote from its e-mail, accepts it with the SMS code
from the outbox, and the quote shows as accepted; the same customer sets the first portal
password from the invitation, logs in and writes in the conversation."""

from __future__ import annotations

import re
from typing import Any

from core.tables import Outbox
from tests.browser.conftest import last_sms_code, run


async def _quote_sent(tenant: Any) -> tuple[str, str]:
    from plugins.customers import services as customers
    from plugins.customers.schemas import CustomerIn
    from plugins.portal import services as portal
    from plugins.quotes import services as quotes
    from plugins.quotes.schemas import LineIn, QuoteIn
    from plugins.twofactor import services as twofactor

    await twofactor.save_sms_settings(tenant.id, sms_active=True, provider="outbox", sender="Gallra", daily_cap=None)
    await twofactor.set_context(tenant.id, "quotes", True)
    customer = await customers.create_customer(tenant.id, CustomerIn(
        name="Karin Kund", kind="private", email="karin@example.se", mobile_phone="0701234567"))
    from decimal import Decimal

    quote = await quotes.create_quote(tenant.id, 0, QuoteIn(
        title="Ny altan", customer_id=int(customer["id"]),
        lines=[LineIn(description="Tryckimpregnerat virke", quantity=Decimal("12"), unit_price=Decimal("250"))]))
    await quotes.send_quote(tenant.id, quote["id"], "karin@example.se", "")
    await portal.invite(tenant.id, "customer", int(customer["id"]), None)
    mails = await Outbox.select(Outbox.body).where(
        (Outbox.tenant_id == tenant.id) & (Outbox.channel == "email")).order_by(Outbox.id)
    text = "\n".join(m["body"] for m in mails)
    quote_link = re.search(r"/quotes/public/[A-Za-z0-9_\-]+", text).group(0)
    invite_link = re.search(r"/portal/activate\?tenant=[^&\s]+&token=[A-Za-z0-9_\-]+", text).group(0)
    return quote_link, invite_link


def test_customer_accepts_quote_with_sms_code(new_page: Any, shot: Any, tenant: Any) -> None:
    quote_link, invite_link = run(_quote_sent(tenant))
    page = new_page()
    page.goto(quote_link)
    page.get_by_role("heading", name=re.compile("Offert 1: Ny altan")).wait_for()
    assert "3\u00a0000,00\u00a0kr" in page.locator("main").inner_text()
    shot(page, "quote")
    page.get_by_label("Ditt namn").fill("Karin Kund")
    page.get_by_label("Din e-post").fill("karin@example.se")
    page.get_by_role("button", name="Godkänn offerten").click()
    page.get_by_role("heading", name="Ange SMS-koden").wait_for()
    shot(page, "quote-sms")
    page.get_by_label("SMS-kod").fill(last_sms_code(tenant.id))
    page.get_by_role("button", name="Fortsätt").click()
    page.get_by_text("Tack! Offerten är godkänd.").wait_for()
    assert page.locator("#quote-status").inner_text() == "Accepterad"
    assert page.get_by_role("button", name="Godkänn offerten").count() == 0
    shot(page, "quote-accepted")

    # The portal: the first password from the invitation, then login and a message.
    # The invitation page names the company; the password chosen, she is logged in.
    page.goto(invite_link)
    page.get_by_role("heading", name=re.compile("^Kundportalen hos .+")).wait_for()
    page.get_by_label("Nytt lösenord").fill("karins-losenord-1")
    page.get_by_label("Det nya lösenordet igen").fill("karins-losenord-1")
    shot(page, "portal-first-password")
    page.get_by_role("button", name="Spara lösenordet").click()
    page.get_by_role("heading", name="Välkommen, Karin Kund").wait_for()
    page.get_by_text("Ditt lösenord är sparat. Välkommen till kundportalen.").wait_for()
    page.get_by_label("Ditt meddelande").fill("När kan ni börja bygga?")
    page.get_by_role("button", name="Skicka").click()
    page.get_by_text("När kan ni börja bygga?").wait_for()
    shot(page, "portal-conversation")


async def _portal_customer_with_quote(tenant: Any) -> int:
    """SMS signing of quotes on, a private customer with an active portal account (the
    first password set as the invitation link would), and a sent quote."""
    from decimal import Decimal

    from plugins.customers import services as customers
    from plugins.customers.schemas import CustomerIn
    from plugins.portal import services as portal
    from plugins.quotes import services as quotes
    from plugins.quotes.schemas import LineIn, QuoteIn
    from plugins.twofactor import services as twofactor

    await twofactor.save_sms_settings(tenant.id, sms_active=True, provider="outbox", sender="Gallra", daily_cap=None)
    await twofactor.set_context(tenant.id, "quotes", True)
    customer = await customers.create_customer(tenant.id, CustomerIn(
        name="Olle Portal", kind="private", email="olle@example.se", mobile_phone="0701234567"))
    await portal.invite(tenant.id, "customer", int(customer["id"]), None)
    mail = await Outbox.select(Outbox.body).where(
        (Outbox.tenant_id == tenant.id) & (Outbox.channel == "email")).order_by(Outbox.id, ascending=False).first()
    token = re.search(r"token=([A-Za-z0-9_\-]+)", mail["body"]).group(1)
    await portal.activate(tenant.slug, token, "olles-losenord-1", None, "browser test")
    quote = await quotes.create_quote(tenant.id, 0, QuoteIn(
        title="Nytt staket", customer_id=int(customer["id"]),
        lines=[LineIn(description="Staketbrädor", quantity=Decimal("40"), unit_price=Decimal("45"))]))
    await quotes.send_quote(tenant.id, quote["id"], "olle@example.se", "")
    return int(quote["id"])


def test_customer_approves_quote_inside_the_portal(new_page: Any, shot: Any, tenant: Any) -> None:
    """Logged in to the portal, the customer approves a waiting quote with the SMS code."""
    from plugins.quotes.tables import Quote

    quote_id = run(_portal_customer_with_quote(tenant))
    page = new_page()
    page.goto(f"/portal/login?tenant={tenant.slug}")
    page.get_by_label("E-post").fill("olle@example.se")
    page.get_by_label("Lösenord").fill("olles-losenord-1")
    page.get_by_role("button", name="Logga in").click()
    page.get_by_role("heading", name="Välkommen, Olle Portal").wait_for()
    page.get_by_role("link", name="Att godkänna").click()
    page.get_by_role("heading", name=re.compile("Offert 1: Nytt staket")).wait_for()
    assert "1\u00a0800,00\u00a0kr" in page.locator("main").inner_text()
    shot(page, "portal-to-approve")
    page.get_by_role("button", name="Godkänn", exact=True).click()
    page.get_by_role("heading", name="Ange SMS-koden").wait_for()
    assert "olles-losenord-1" not in page.content()
    shot(page, "portal-approve-sms")
    page.get_by_label("SMS-kod").fill(last_sms_code(tenant.id))
    page.get_by_role("button", name="Fortsätt").click()
    page.get_by_text("Tack! Den är godkänd.").wait_for()
    page.locator("#nothing-to-approve").wait_for()
    shot(page, "portal-approved")
    row = run(Quote.select(Quote.status, Quote.approver_phone).where(Quote.id == quote_id).first())
    assert row["status"] == "accepted" and row["approver_phone"] == "+46 70•••••67"


async def _portal_login_needs_a_code(tenant: Any) -> None:
    """The portal login asks for an SMS code on a new device; Olle has an active account."""
    from plugins.customers import services as customers
    from plugins.customers.schemas import CustomerIn
    from plugins.portal import services as portal
    from plugins.twofactor import services as twofactor

    await twofactor.save_sms_settings(tenant.id, sms_active=True, provider="outbox", sender="Gallra", daily_cap=None)
    await twofactor.set_context(tenant.id, "portal_login", True)
    customer = await customers.create_customer(tenant.id, CustomerIn(
        name="Olle Portal", kind="private", email="olle@example.se", mobile_phone="0701234567"))
    await portal.invite(tenant.id, "customer", int(customer["id"]), None)
    mail = await Outbox.select(Outbox.body).where(
        (Outbox.tenant_id == tenant.id) & (Outbox.channel == "email")).order_by(Outbox.id, ascending=False).first()
    token = re.search(r"token=([A-Za-z0-9_\-]+)", mail["body"]).group(1)
    await portal.activate(tenant.slug, token, "olles-losenord-1", None, "browser test")


async def _forget_last_send(tenant_id: int) -> None:
    from plugins.twofactor.tables import TwoFactorPerson

    await TwoFactorPerson.update({TwoFactorPerson.last_send_at: None}).where(TwoFactorPerson.tenant_id == tenant_id)


def test_portal_code_step_offers_a_new_code_after_the_wait(browser: Any, server: str, shot: Any, tenant: Any) -> None:
    """On a phone: the SMS code step says how long to wait, then offers "Skicka ny kod"; the
    new code logs in."""
    run(_portal_login_needs_a_code(tenant))
    context = browser.new_context(base_url=server, locale="sv-SE", viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        page.clock.install()
        page.goto(f"/portal/login?tenant={tenant.slug}")
        page.get_by_label("E-post").fill("olle@example.se")
        page.get_by_label("Lösenord").fill("olles-losenord-1")
        page.get_by_role("button", name="Logga in").click()
        page.get_by_role("heading", name="Ange SMS-koden").wait_for()
        first = last_sms_code(tenant.id)
        note = page.get_by_text("Du kan be om en ny kod om 60 sekunder.")
        assert note.is_visible()
        assert not page.get_by_role("button", name="Skicka ny kod").is_visible()
        shot(page, "portal-code-wait-phone")
        page.clock.run_for(61_000)
        run(_forget_last_send(tenant.id))  # the server's wait has passed too
        page.get_by_role("button", name="Skicka ny kod").wait_for()
        assert not note.is_visible()
        shot(page, "portal-code-resend-offered-phone")
        page.get_by_role("button", name="Skicka ny kod").click()
        page.get_by_role("heading", name="Ange SMS-koden").wait_for()
        page.get_by_text("Du kan be om en ny kod om 60 sekunder.").wait_for()
        second = last_sms_code(tenant.id)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.get_by_label("SMS-kod").fill(second)
        page.get_by_role("button", name="Fortsätt").click()
        page.get_by_role("heading", name="Välkommen, Olle Portal").wait_for()
        assert first  # the first code was sent (and replaced: see the page tests)
    finally:
        context.close()
