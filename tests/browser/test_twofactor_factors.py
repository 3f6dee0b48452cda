"""In the browser, in Swedish (#21.3-5), on a desktop and a 390x844 phone: "Mina enheter"
lists the remembered devices (last use, forgotten one by one), the authenticator app and the
recovery codes left, each in its section; Settings > Two-factor sets "app or passkey
required" per context and for administrators, refusing (with the list) a rule that would
lock out every administrator, and resets a person's factors."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import login, run

PHONE = {"width": 390, "height": 844}


async def _setup(tenant_id: int, admin_id: int) -> None:
    from core.db import utcnow
    from core.tables import Employee
    from plugins.twofactor import services

    await Employee.update({Employee.mobile_phone: "+46701234567"}).where(Employee.id == admin_id)
    await services.save_sms_settings(tenant_id, sms_active=True, provider="outbox", sender="Gallra", daily_cap=None)
    await services.switch_contexts(tenant_id, {"employee_login": True}, confirm=True)
    chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0"
    await services.create_device(tenant_id, "employee", admin_id, chrome, utcnow())
    await services.generate_recovery_codes(tenant_id, "employee", admin_id)


async def _rules(tenant_id: int) -> Any:
    from plugins.twofactor import services

    return await services.strong_rules(tenant_id)


def _fits(page: Any, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1, box
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways ({width}px)"


def test_my_devices_and_which_factor_settings(new_page: Any, shot: Any, tenant: Any, browser: Any,
                                              server: str) -> None:
    desktop = new_page()
    login(desktop, tenant)
    desktop.get_by_role("heading", name="Välkommen, Admin Person").wait_for()
    run(_setup(tenant.id, tenant.admin_id))
    desktop.goto("/twofactor/devices")
    assert desktop.locator("html").get_attribute("lang") == "sv"
    for heading in ("Ihågkomna enheter", "Autentiseringsapp", "Reservkoder"):
        desktop.get_by_role("heading", name=heading, exact=True).wait_for()
    assert "Chrome on Windows" in desktop.locator("#remembered").inner_text()
    assert "Oanvända koder: 10 av 10" in desktop.locator("#recovery-state").inner_text()
    shot(desktop, "my-devices-desktop")

    desktop.goto("/twofactor/settings")
    desktop.get_by_role("heading", name="Vilken faktor").wait_for()
    shot(desktop, "settings-desktop")
    # Administrators must use an app or a passkey: the only administrator has neither, but
    # has recovery codes, so the rule is accepted (codes are the last resort).
    desktop.get_by_label("Administratörer måste alltid använda en autentiseringsapp eller en passkey").check()
    desktop.locator('form[action="/twofactor/settings/strong"] button[type="submit"]').click()
    desktop.get_by_role("status").wait_for()
    assert run(_rules(tenant.id)).admins is True

    context = browser.new_context(base_url=server, locale="sv-SE", viewport=PHONE)
    context.set_default_timeout(15_000)
    phone = context.new_page()
    try:
        login(phone, tenant)
        # The administrator rule: no SMS, a recovery code as the last resort.
        phone.get_by_role("heading", name="Ange en reservkod").wait_for()
        assert phone.get_by_label("SMS-kod").count() == 0
        assert "SMS-koder godtas inte" in phone.locator("#strong-note").inner_text()
        shot(phone, "strong-recovery-step-phone")
    finally:
        context.close()

    context = browser.new_context(base_url=server, locale="sv-SE", viewport=PHONE)
    context.set_default_timeout(15_000)
    phone = context.new_page()
    try:
        # Log in on the phone through the desktop's session cookie (no code needed here).
        cookies = [c for c in desktop.context.cookies() if c["name"] in ("gallra_session", "gallra_device")]
        context.add_cookies(cookies)
        phone.goto("/twofactor/devices")
        phone.get_by_role("heading", name="Ihågkomna enheter").wait_for()
        shot(phone, "my-devices-phone")
        _fits(phone, "#remembered")
        _fits(phone, "#recovery")
        phone.goto("/twofactor/settings")
        phone.get_by_role("heading", name="Vilken faktor").wait_for()
        _fits(phone, "#strong")
        shot(phone, "settings-phone")
        # Forget the Chrome device on the phone.
        phone.goto("/twofactor/devices")
        phone.locator("#remembered").get_by_role("button", name="Glöm").first.click()
        phone.get_by_role("status").wait_for()
        assert "Chrome on Windows" not in phone.locator("#remembered").inner_text()
        shot(phone, "device-forgotten-phone")
    finally:
        context.close()


async def _portal_invited(tenant: Any) -> str:
    import re

    from core.tables import Outbox
    from plugins.customers import services as customers
    from plugins.customers.schemas import CustomerIn
    from plugins.portal import services as portal

    customer = await customers.create_customer(tenant.id, CustomerIn(
        name="Karin Kund", kind="private", email="karin@example.se", mobile_phone="0701234567"))
    await portal.invite(tenant.id, "customer", int(customer["id"]), None)
    mails = await Outbox.select(Outbox.body).where(
        (Outbox.tenant_id == tenant.id) & (Outbox.channel == "email")).order_by(Outbox.id)
    text = "\n".join(m["body"] for m in mails)
    return re.search(r"/portal/activate\?tenant=[^&\s]+&token=[A-Za-z0-9_\-]+", text).group(0)


def test_portal_recovery_codes_on_a_phone(shot: Any, tenant: Any, browser: Any, server: str) -> None:
    invite_link = run(_portal_invited(tenant))
    context = browser.new_context(base_url=server, locale="sv-SE", viewport=PHONE)
    context.set_default_timeout(15_000)
    phone = context.new_page()
    try:
        phone.goto(invite_link)
        phone.get_by_label("Nytt lösenord").fill("karins-losenord-1")
        phone.get_by_label("Det nya lösenordet igen").fill("karins-losenord-1")
        phone.get_by_role("button", name="Spara lösenordet").click()
        phone.get_by_role("heading", name="Välkommen, Karin Kund").wait_for()
        phone.goto("/portal/security")
        phone.get_by_role("heading", name="Säkerhet").wait_for()
        assert "Du har inga reservkoder ännu." in phone.locator("#remaining").inner_text()
        shot(phone, "portal-security-phone")
        phone.get_by_role("button", name="Skapa reservkoder").click()
        phone.get_by_role("heading", name="Dina nya reservkoder").wait_for()
        assert len(phone.locator("#new-codes code").all_inner_texts()) == 10
        _fits(phone, "#new-codes")
        shot(phone, "portal-codes-shown-once-phone")
        phone.goto("/portal/security")
        assert "Oanvända koder: 10 av 10" in phone.locator("#remaining").inner_text()
    finally:
        context.close()
