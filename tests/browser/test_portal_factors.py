"""In the browser, in Swedish, on a phone (390x844): a portal customer sets up an
authenticator app (the code computed from the key on the page) and adds a passkey with
Chromium's virtual authenticator on "Säkerhet" (/portal/security), then sees both listed.
Served as http://localhost:<port>: a passkey's relying party must be a domain."""

from __future__ import annotations

import re
from typing import Any

import pyotp

from core.tables import Outbox
from tests.browser.conftest import run
from tests.browser.test_passkeys import _authenticator, localhost_server  # noqa: F401 (fixture)


async def _portal_customer(tenant: Any) -> None:
    from plugins.customers import services as customers
    from plugins.customers.schemas import CustomerIn
    from plugins.portal import services as portal

    customer = await customers.create_customer(tenant.id, CustomerIn(
        name="Olle Portal", kind="private", email="olle@example.se", mobile_phone="0701234567"))
    await portal.invite(tenant.id, "customer", int(customer["id"]), None)
    mail = await Outbox.select(Outbox.body).where(
        (Outbox.tenant_id == tenant.id) & (Outbox.channel == "email")).order_by(Outbox.id, ascending=False).first()
    token = re.search(r"token=([A-Za-z0-9_\-]+)", mail["body"]).group(1)
    await portal.activate(tenant.slug, token, "olles-losenord-1", None, "browser test")


def test_portal_person_sets_up_an_app_and_a_passkey_on_a_phone(browser: Any, shot: Any, tenant: Any,
                                                               localhost_server: str) -> None:  # noqa: F811
    run(_portal_customer(tenant))
    context = browser.new_context(base_url=localhost_server, locale="sv-SE", viewport={"width": 390, "height": 844})
    context.set_default_timeout(15_000)
    page = context.new_page()
    cdp, authenticator_id = _authenticator(context, page)
    try:
        page.goto(f"/portal/login?tenant={tenant.slug}")
        page.get_by_label("E-post").fill("olle@example.se")
        page.get_by_label("Lösenord").fill("olles-losenord-1")
        page.get_by_role("button", name="Logga in").click()
        page.get_by_role("heading", name="Välkommen, Olle Portal").wait_for()
        page.goto("/portal/security")
        assert page.locator("html").get_attribute("lang") == "sv"
        page.get_by_role("button", name="Ställ in en autentiseringsapp").click()
        page.locator("#app-secret").wait_for()
        assert page.locator("figure.qr svg").count() == 1
        secret = page.locator("#app-secret").inner_text().replace(" ", "")
        page.get_by_label("Kod från appen").fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Bekräfta").click()
        page.locator("#app-remove").wait_for()
        page.get_by_label("Namn på den nya nyckeln").fill("Min telefon")
        page.get_by_role("button", name="Lägg till en nyckel").click()
        page.locator("#passkey-list").wait_for()
        assert "Min telefon" in page.locator("#passkey-list").inner_text()
        assert "Inte använd ännu" in page.locator("#passkey-list").inner_text()
        assert len(cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]) == 1
        assert "inställd" in page.locator("#app-state").inner_text()
        page.locator("#app").scroll_into_view_if_needed()
        shot(page, "portal-security-app-and-passkey-phone")
    finally:
        context.close()
