"""In the browser, in Swedish (#20.1): the only administrator has no phone and tries to
switch on SMS codes for employee logins; the settings refuse and list who would be locked
out, on a desktop and on a 390x844 phone. The administrator makes recovery codes (shown
once), switches it on, and logs in from new devices with recovery codes."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import login, run

PHONE = {"width": 390, "height": 844}
LOGIN_CONTEXT = "Användare – inloggning från ny enhet"
CODE_RE = re.compile(r"^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$")


async def _activate_sms(tenant_id: int) -> None:
    from plugins.twofactor import services

    await services.save_sms_settings(tenant_id, sms_active=True, provider="outbox", sender="Gallra", daily_cap=None)


async def _context_on(tenant_id: int) -> bool:
    from plugins.twofactor import services

    return bool((await services.context_states(tenant_id)).get("employee_login"))


def _phone_page(browser: Any, server: str) -> Any:
    context = browser.new_context(base_url=server, locale="sv-SE", viewport=PHONE)
    context.set_default_timeout(15_000)
    return context.new_page()


def _try_switch_on(page: Any) -> None:
    page.goto("/twofactor/settings")
    page.locator('form[action="/twofactor/settings/contexts"]').get_by_label(LOGIN_CONTEXT).check()
    page.locator('form[action="/twofactor/settings/contexts"] button[type="submit"]').click()


def test_refusal_lists_who_then_recovery_code_login(new_page: Any, shot: Any, tenant: Any, browser: Any,
                                                    server: str) -> None:
    run(_activate_sms(tenant.id))
    desktop = new_page()
    login(desktop, tenant)
    desktop.get_by_role("heading", name="Välkommen, Admin Person").wait_for()
    phone = _phone_page(browser, server)
    try:
        login(phone, tenant)
        phone.get_by_role("heading", name="Välkommen, Admin Person").wait_for()

        phone.goto("/twofactor/settings")
        shot(phone, "settings-phone")
        for page, name in ((desktop, "refused-desktop"), (phone, "refused-phone")):
            _try_switch_on(page)
            box = page.locator("#lockout")
            box.wait_for()
            assert "Alla administratörer skulle bli utelåsta" in box.inner_text()
            assert box.get_by_role("listitem").all_inner_texts() == ["Admin Person (administratör)"]
            alert = page.get_by_role("alert").inner_text()
            assert alert.startswith("Det här skulle låsa ute alla administratörer")
            assert page.locator("html").get_attribute("lang") == "sv"
            shot(page, name)
        assert run(_context_on(tenant.id)) is False
        # The list of who would be locked out fits the phone's screen.
        box = phone.locator("#lockout").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]

        # The refusal offers the way out: recovery codes, shown once.
        desktop.get_by_role("button", name="Skapa reservkoder åt mig").click()
        desktop.get_by_role("heading", name="Dina nya reservkoder").wait_for()
        codes = [c.strip() for c in desktop.locator("#new-codes code").all_inner_texts()]
        assert len(codes) == 10 and all(CODE_RE.match(c) for c in codes)
        assert "De visas bara nu." in desktop.locator("#new-codes").inner_text()
        shot(desktop, "codes-shown-once")
        desktop.goto("/twofactor/recovery")
        assert "Oanvända koder: 10 av 10" in desktop.locator("#remaining").inner_text()
        assert not any(c in desktop.content() for c in codes)

        # Now the administrator can get in without SMS: switching on is accepted.
        _try_switch_on(desktop)
        desktop.get_by_role("status").wait_for()
        assert "Inställningarna är sparade." in desktop.get_by_role("status").inner_text()
        assert run(_context_on(tenant.id)) is True
        shot(desktop, "switched-on")
    finally:
        phone.context.close()

    # A new phone (no remembered device): no SMS can be sent, a recovery code lets them in.
    phone = _phone_page(browser, server)
    try:
        login(phone, tenant)
        phone.get_by_role("heading", name="Ange en reservkod").wait_for()
        assert phone.get_by_label("SMS-kod").count() == 0
        shot(phone, "recovery-step-phone")
        phone.get_by_label("Reservkod").fill("AAAA-BBBB-CCCC-DDDD")
        phone.get_by_role("button", name="Fortsätt").click()
        phone.locator("#e-recovery_code").wait_for()
        assert "Fel kod. 4 försök kvar." in phone.locator("#e-recovery_code").inner_text()
        shot(phone, "wrong-recovery-code-phone")
        phone.get_by_label("Reservkod").fill(codes[0].lower())
        phone.get_by_role("button", name="Fortsätt").click()
        phone.get_by_role("heading", name="Välkommen, Admin Person").wait_for()
        assert "Du använde en reservkod; 9 finns kvar" in phone.get_by_role("status").inner_text()
        shot(phone, "logged-in-phone")
    finally:
        phone.context.close()

    # A new desktop browser: the used code is refused, the next one works.
    other = new_page()
    login(other, tenant)
    other.get_by_role("heading", name="Ange en reservkod").wait_for()
    other.get_by_label("Reservkod").fill(codes[0])
    other.get_by_role("button", name="Fortsätt").click()
    other.locator("#e-recovery_code").wait_for()
    shot(other, "used-code-refused")
    other.get_by_label("Reservkod").fill(codes[1])
    other.get_by_role("button", name="Fortsätt").click()
    other.get_by_role("heading", name="Välkommen, Admin Person").wait_for()
    shot(other, "logged-in-desktop")
