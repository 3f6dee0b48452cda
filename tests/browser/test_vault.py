"""In the browser: an administrator builds a secure-data form that asks for an SMS code to
decrypt, with a user on its encrypted list; the user adds an entry and reveals it with the
password and the SMS code; the value never shows before that."""

from __future__ import annotations

from typing import Any

from core.tables import Employee
from core.users import create_employee_with_password
from tests.browser.conftest import last_sms_code, login, run
from tests.support import TEST_PASSWORD


async def _prepare(tenant: Any) -> tuple[int, str]:
    from plugins.twofactor import services

    email = f"tekniker@{tenant.slug}.example"
    await create_employee_with_password(
        tenant.id, "Tova Tekniker", email, "user", TEST_PASSWORD, mobile="+46701112233"
    )
    row = await Employee.select(Employee.id).where(
        (Employee.tenant_id == tenant.id) & (Employee.email == email)
    ).first()
    await services.save_sms_settings(tenant.id, sms_active=True, provider="outbox", sender="Gallra", daily_cap=None)
    await services.set_context(tenant.id, "vault_decrypt", True)
    return int(row["id"]), email


def test_authorized_user_reveals_an_entry_with_password_and_sms(new_page: Any, shot: Any, tenant: Any) -> None:
    _user_id, email = run(_prepare(tenant))
    admin = new_page()
    login(admin, tenant)
    admin.goto("/vault")
    admin.get_by_role("link", name="Nytt formulär").click()
    admin.get_by_label("Formulärets namn").fill("Kundens routrar")
    admin.get_by_label("För intern hantering").check()
    admin.get_by_label("Fält 1: namn").fill("Adress")
    admin.get_by_label("Fält 2: namn").fill("Adminlösenord")
    admin.get_by_label("Fält 2: typ").select_option("password")
    admin.get_by_label("Fält 2: krypterat").check()
    admin.get_by_label("Radera uppgifter automatiskt efter (dagar)").fill("365")
    admin.get_by_label("Kräv en SMS-kod innan krypterade uppgifter visas").check()
    admin.get_by_role("group", name="Får läsa och skriva okrypterade uppgifter").get_by_label("Tova Tekniker").check()
    admin.get_by_role("group", name="Får visa krypterade uppgifter").get_by_label("Tova Tekniker").check()
    shot(admin, "form-builder")
    admin.get_by_role("button", name="Spara").click()
    admin.get_by_text("Formuläret är sparat.").wait_for()
    shot(admin, "forms")

    page = new_page()
    login(page, tenant, email=email, password=TEST_PASSWORD)
    page.get_by_role("navigation", name="Moduler").get_by_role("link", name="Säkra uppgifter").click()
    page.get_by_role("link", name="Ny uppgift Kundens routrar").click()
    page.get_by_label("Adress").fill("192.168.1.1")
    page.get_by_label("Adminlösenord (krypterat)").fill("R0uter-hemlis")
    page.get_by_role("button", name="Spara").click()
    page.get_by_text("Uppgiften är sparad.").wait_for()
    assert "R0uter-hemlis" not in page.content()
    shot(page, "entries")

    page.get_by_role("link", name="Visa krypterade uppgifter").first.click()
    dialog = page.get_by_role("dialog", name="Visa krypterade uppgifter")
    dialog.get_by_label("Ditt lösenord").fill("fel lösenord")
    dialog.get_by_role("button", name="Visa").click()
    page.locator("#e-password").wait_for()
    assert "Fel lösenord." in page.locator("#e-password").inner_text()
    shot(page, "reveal-wrong-password")
    page.get_by_label("Ditt lösenord").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Visa").click()
    page.get_by_role("heading", name="Ange SMS-koden").wait_for()
    assert "R0uter-hemlis" not in page.content()
    shot(page, "reveal-sms")
    page.get_by_label("SMS-kod").fill(last_sms_code(tenant.id))
    page.get_by_role("button", name="Fortsätt").click()
    page.locator("#revealed").wait_for()
    assert "R0uter-hemlis" in page.locator("#revealed").inner_text()
    shot(page, "revealed")
