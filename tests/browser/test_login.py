"""In the browser: an administrator logs in from a new device with the SMS code from the
outbox, is told how long the device is remembered, is remembered on the next login, and
the pages render in Swedish and in English."""

from __future__ import annotations

from typing import Any

from core.tables import Employee
from tests.browser.conftest import last_sms_code, login, run
from tests.twofactor_kit import forget_last_send

MOBILE = "+46701234567"


async def enable_login_code(tenant_id: int, employee_id: int) -> None:
    from plugins.twofactor import services

    await services.save_sms_settings(
        tenant_id, sms_active=True, provider="outbox", sender="Gallra", daily_cap=None
    )
    await services.set_context(tenant_id, "employee_login", True)
    await Employee.update({Employee.mobile_phone: MOBILE}).where(Employee.id == employee_id)


def test_new_device_sms_code_then_remembered(new_page: Any, shot: Any, tenant: Any) -> None:
    run(enable_login_code(tenant.id, tenant.admin_id))
    page = new_page()
    login(page, tenant)
    page.get_by_role("heading", name="Ange SMS-koden").wait_for()
    assert "+46 70•••••67" in page.content()
    assert "365 dagar" in page.locator("#remember-note").inner_text()
    shot(page, "sms-step")

    page.get_by_label("SMS-kod").fill("000000" if last_sms_code(tenant.id) != "000000" else "111111")
    page.get_by_role("button", name="Fortsätt").click()
    error = page.locator("#e-code")
    error.wait_for()
    assert "Wrong code" in error.inner_text() or "Fel kod" in error.inner_text()
    assert page.get_by_label("SMS-kod").get_attribute("aria-invalid") == "true"
    shot(page, "wrong-code")

    page.get_by_label("SMS-kod").fill(last_sms_code(tenant.id))
    page.get_by_role("button", name="Fortsätt").click()
    page.get_by_role("heading", name="Välkommen, Admin Person").wait_for()
    notice = page.get_by_role("status").inner_text()
    assert "kommer ihåg till" in notice and "365 dagar" in notice
    assert page.locator("main").get_by_role("link", name="Kunder").count() == 1
    shot(page, "start")

    page.get_by_role("button", name="Logga ut").click()
    page.get_by_role("heading", name="Logga in").wait_for()
    shot(page, "logged-out")

    # The same browser again: remembered, straight to the start page.
    login(page, tenant)
    page.get_by_role("heading", name="Välkommen, Admin Person").wait_for()
    shot(page, "remembered")

    # Another browser (a new device) is asked for a code again (sends are 60 s apart: the
    # test forgets the last send instead of waiting).
    run(forget_last_send(tenant.id))
    other = new_page()
    login(other, tenant)
    other.get_by_role("heading", name="Ange SMS-koden").wait_for()


def test_swedish_and_english_pages(new_page: Any, shot: Any, tenant: Any) -> None:
    page = new_page()
    page.goto("/login")
    assert page.locator("html").get_attribute("lang") == "sv"
    page.get_by_role("heading", name="Logga in").wait_for()
    shot(page, "login-sv")
    # Keyboard only: the skip link is the first stop, then the form fields in order.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.get_by_role("button", name="English").click()
    page.get_by_role("heading", name="Log in").wait_for()
    assert page.locator("html").get_attribute("lang") == "en"
    shot(page, "login-en")
    page.get_by_label("Organization").fill(tenant.slug)
    page.get_by_label("E-mail").fill(tenant.admin_email)
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    page.locator("#e-password").wait_for()
    assert "Wrong organization, e-mail or password." in page.locator("#e-password").inner_text()
    shot(page, "login-error-en")
    page.get_by_label("Password").fill(tenant.password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Welcome, Admin Person").wait_for()
    assert page.locator("main").get_by_role("link", name="Customers").count() == 1
    shot(page, "start-en")
    page.get_by_role("button", name="Svenska").click()
    page.get_by_role("heading", name="Välkommen, Admin Person").wait_for()
    shot(page, "start-sv")
