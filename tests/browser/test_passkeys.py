"""In the browser, in Swedish (#21.1): the administrator adds a passkey on "Mina enheter"
with Chromium's virtual authenticator (the DevTools WebAuthn domain through Playwright's
CDP session: CTAP2, internal, user verification), then logs in from a new 390x844 phone
holding the same credential (a security key moved to another device) with the passkey as
the second factor. Without JavaScript the step says so and offers an SMS code instead.

The server of this module is reached as http://localhost:<port> (GALLRA_BASE_URL): a
passkey's relying party must be a domain, not 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import _need_chromium, login, run, serving

PHONE = {"width": 390, "height": 844}
AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


@pytest.fixture(scope="module")
def localhost_server() -> Iterator[str]:
    _need_chromium()
    with serving("localhost", "server-localhost") as base:
        yield base


def _authenticator(context: Any, page: Any) -> tuple[Any, str]:
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    return cdp, str(added["authenticatorId"])


async def _login_codes_on(tenant_id: int, admin_id: int) -> None:
    from plugins.twofactor import services

    await services.save_sms_settings(tenant_id, sms_active=True, provider="outbox", sender="Gallra", daily_cap=None)
    await services.generate_recovery_codes(tenant_id, "employee", admin_id)
    await services.switch_contexts(tenant_id, {"employee_login": True}, confirm=True)


async def _passkeys(tenant_id: int) -> list[dict]:
    from plugins.twofactor.tables import TwoFactorPasskey

    return await TwoFactorPasskey.select().where(TwoFactorPasskey.tenant_id == tenant_id)


def test_add_a_passkey_and_log_in_with_it_on_a_new_phone(browser: Any, shot: Any, tenant: Any,
                                                         localhost_server: str) -> None:
    desktop_context = browser.new_context(base_url=localhost_server, locale="sv-SE")
    desktop_context.set_default_timeout(15_000)
    desktop = desktop_context.new_page()
    cdp, authenticator_id = _authenticator(desktop_context, desktop)
    try:
        login(desktop, tenant)
        desktop.get_by_role("heading", name="Välkommen, Admin Person").wait_for()
        desktop.goto("/twofactor/devices")
        assert desktop.locator("html").get_attribute("lang") == "sv"
        desktop.get_by_role("heading", name="Nycklar (passkeys)").wait_for()
        assert desktop.locator("#passkey-none").is_visible()
        # Without a name nothing is asked of the authenticator.
        desktop.get_by_role("button", name="Lägg till en nyckel").click()
        assert cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"] == []
        desktop.get_by_label("Namn på den nya nyckeln").fill("Jobbdator")
        shot(desktop, "passkeys-empty-desktop")
        desktop.get_by_role("button", name="Lägg till en nyckel").click()
        desktop.get_by_role("status").wait_for()
        assert "Nyckeln är tillagd" in desktop.get_by_role("status").inner_text()
        assert "Jobbdator" in desktop.locator("#passkey-list").inner_text()
        assert "Inte använd ännu" in desktop.locator("#passkey-list").inner_text()
        shot(desktop, "passkey-added-desktop")
        credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]
        assert len(credentials) == 1
        stored = run(_passkeys(tenant.id))
        assert len(stored) == 1 and stored[0]["name"] == "Jobbdator" and stored[0]["employee_id"] == tenant.admin_id
    finally:
        desktop_context.close()

    run(_login_codes_on(tenant.id, tenant.admin_id))

    # Without JavaScript the step says what to do instead.
    plain = browser.new_context(base_url=localhost_server, locale="sv-SE", java_script_enabled=False)
    try:
        page = plain.new_page()
        login(page, tenant)
        page.get_by_role("heading", name="Använd din nyckel").wait_for()
        assert page.get_by_text("Nyckeln kräver JavaScript").is_visible()
        assert not page.locator("#passkey-use").is_visible()
        assert page.get_by_role("button", name="Skicka en SMS-kod i stället").count() == 1
        shot(page, "passkey-step-without-javascript")
    finally:
        plain.close()

    phone_context = browser.new_context(base_url=localhost_server, locale="sv-SE", viewport=PHONE)
    phone_context.set_default_timeout(15_000)
    phone = phone_context.new_page()
    try:
        cdp, authenticator_id = _authenticator(phone_context, phone)
        for credential in credentials:  # the same key, now on the phone
            cdp.send("WebAuthn.addCredential", {"authenticatorId": authenticator_id, "credential": credential})
        login(phone, tenant)
        phone.get_by_role("heading", name="Använd din nyckel").wait_for()
        assert phone.get_by_role("button", name="Skicka en SMS-kod i stället").count() == 1
        assert not phone.get_by_text("Nyckeln kräver JavaScript").is_visible()
        shot(phone, "passkey-step-phone")
        phone.get_by_role("button", name="Använd min nyckel").click()
        phone.get_by_role("heading", name="Välkommen, Admin Person").wait_for()
        assert phone_context.cookies() and any(c["name"] == "gallra_device" for c in phone_context.cookies())
        shot(phone, "logged-in-with-passkey-phone")
        phone.goto("/twofactor/devices")
        listing = phone.locator("#passkey-list").inner_text()
        assert "Jobbdator" in listing and "Inte använd ännu" not in listing
        box = phone.locator("#passkeys").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        shot(phone, "my-devices-phone")
        phone.get_by_role("button", name="Ta bort Jobbdator").click()
        phone.get_by_role("status").wait_for()
        assert "Nyckeln är borttagen" in phone.get_by_role("status").inner_text()
        assert run(_passkeys(tenant.id)) == []
        shot(phone, "passkey-removed-phone")
    finally:
        phone_context.close()
