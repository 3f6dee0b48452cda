"""In the browser, in Swedish (#21.2): the administrator sets up an authenticator app on
"Mina enheter" (QR code and key shown, confirmed with a code computed from the key), then
logs in from a new 390x844 phone with the app's code: a wrong code is refused, the next
code lets them in; the desktop shows the QR code and the app's state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyotp

from tests.browser.conftest import login, run

PHONE = {"width": 390, "height": 844}


def code_at(secret: str, offset: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(datetime.now(UTC)) + offset)


async def _login_codes_on(tenant_id: int, admin_id: int) -> None:
    from plugins.twofactor import services

    await services.save_sms_settings(tenant_id, sms_active=True, provider="outbox", sender="Gallra", daily_cap=None)
    await services.generate_recovery_codes(tenant_id, "employee", admin_id)
    await services.switch_contexts(tenant_id, {"employee_login": True}, confirm=True)


def test_set_up_an_app_and_log_in_with_it_on_a_phone(new_page: Any, shot: Any, tenant: Any, browser: Any,
                                                    server: str) -> None:
    desktop = new_page()
    login(desktop, tenant)
    desktop.get_by_role("heading", name="Välkommen, Admin Person").wait_for()
    desktop.goto("/twofactor/devices")
    desktop.get_by_role("button", name="Ställ in en autentiseringsapp").click()
    desktop.locator("#app svg").wait_for()
    assert desktop.locator("html").get_attribute("lang") == "sv"
    secret = desktop.locator("#app-secret").inner_text().replace(" ", "")
    assert len(secret) == 32
    shot(desktop, "app-qr-desktop")
    desktop.get_by_label("Kod från appen").fill("000000")
    desktop.get_by_role("button", name="Bekräfta").click()
    desktop.get_by_text("Koden stämmer inte").first.wait_for()
    used = code_at(secret)  # the step that confirms the app; a 30 s step may end before the login below
    desktop.get_by_label("Kod från appen").fill(used)
    desktop.get_by_role("button", name="Bekräfta").click()
    desktop.get_by_role("status").wait_for()
    assert "Autentiseringsappen är inställd" in desktop.get_by_role("status").inner_text()
    assert "En autentiseringsapp är inställd" in desktop.locator("#app-state").inner_text()
    shot(desktop, "app-active-desktop")
    run(_login_codes_on(tenant.id, tenant.admin_id))

    context = browser.new_context(base_url=server, locale="sv-SE", viewport=PHONE)
    context.set_default_timeout(15_000)
    phone = context.new_page()
    try:
        login(phone, tenant)
        phone.get_by_role("heading", name="Ange koden från din autentiseringsapp").wait_for()
        assert phone.get_by_role("button", name="Skicka en SMS-kod i stället").count() == 1
        shot(phone, "app-step-phone")
        phone.get_by_label("Kod från appen").fill(used)  # the step used to confirm
        phone.get_by_role("button", name="Fortsätt").click()
        phone.locator("#e-app_code").wait_for()
        assert "redan använts" in phone.locator("#e-app_code").inner_text()
        shot(phone, "app-code-reused-phone")
        phone.get_by_label("Kod från appen").fill(code_at(secret, 1))
        phone.get_by_role("button", name="Fortsätt").click()
        phone.get_by_role("heading", name="Välkommen, Admin Person").wait_for()
        shot(phone, "logged-in-with-app-phone")
        phone.goto("/twofactor/devices")
        box = phone.locator("#app").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        shot(phone, "my-devices-phone")
    finally:
        context.close()
