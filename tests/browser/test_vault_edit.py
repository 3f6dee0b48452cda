"""In the browser (#20.6), in Swedish, on a desktop and on a 390x844 phone: the form builder
ticks new fields Encrypted and the creator on both lists; an entry is added for a customer
picked by name, edited without its password being shown ("•••• (oförändrat)"), and revealed
with the customer named; a user without the right list is told why there is no "Ny uppgift"
and whom to ask."""

from __future__ import annotations

from typing import Any

from core.users import create_employee_with_password
from tests.browser.conftest import login, run
from tests.support import add_party

PHONE = {"width": 390, "height": 844}
SECRET = "Sommar2024!"


async def _seed(tenant: Any) -> str:
    await add_party(tenant.id, name="Bageriet Sol AB")
    email = f"lisa@{tenant.slug}.example"
    await create_employee_with_password(tenant.id, "Lisa Läsare", email, "user", tenant.password)
    return email


def _fits(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        "[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > 392)"
        ".slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id + ' '"
        " + Math.round(e.getBoundingClientRect().right))"
    )
    assert width <= PHONE["width"], f"{page.url} is {width}px wide on a {PHONE['width']}px phone: {wide}"


def test_form_entry_edit_and_reveal(browser: Any, server: str, new_page: Any, shot: Any, tenant: Any) -> None:
    reader_email = run(_seed(tenant))
    page = new_page()
    login(page, tenant)
    page.goto("/vault/forms/new")
    page.get_by_label("Formulärets namn").fill("Kundinloggningar")
    page.get_by_label("För kunds räkning").check()
    page.get_by_label("Fält 1: namn").fill("Användarnamn")
    assert page.get_by_label("Fält 1: krypterat").is_checked()  # new fields are encrypted
    page.get_by_label("Fält 1: krypterat").uncheck()
    page.get_by_label("Fält 2: namn").fill("Lösenord")
    page.get_by_label("Fält 2: typ").select_option("password")
    assert page.get_by_label("Fält 2: krypterat").is_checked()
    admin_box = page.get_by_role("group", name="Får visa krypterade uppgifter").get_by_label("Admin Person")
    assert admin_box.is_checked()  # the creator is offered access
    page.get_by_role("group", name="Får visa krypterade uppgifter").get_by_label("Lisa Läsare").check()
    assert page.get_by_text("Du är ibockad på båda listorna nedan").is_visible()
    shot(page, "form-builder")
    page.get_by_role("button", name="Spara").click()
    page.get_by_text("Formuläret är sparat.").wait_for()

    page.get_by_role("link", name="Ny uppgift Kundinloggningar").click()
    page.get_by_label("Kund", exact=True).select_option(label="Bageriet Sol AB (1)")
    page.get_by_label("Användarnamn").fill("admin@bageriet.se")
    page.get_by_label("Lösenord (krypterat)").fill(SECRET)
    page.get_by_role("button", name="Spara").click()
    page.get_by_text("Uppgiften är sparad.").wait_for()
    assert SECRET not in page.content() and "Bageriet Sol AB" in page.content()
    shot(page, "entries")

    page.get_by_role("link", name="Redigera (Kundinloggningar").first.click()
    page.get_by_role("heading", name="Redigera uppgift: Kundinloggningar").wait_for()
    password = page.get_by_label("Lösenord (krypterat)")
    assert password.input_value() == "" and password.get_attribute("placeholder") == "•••• (oförändrat)"
    assert SECRET not in page.content()
    page.get_by_label("Användarnamn").fill("kassa@bageriet.se")
    shot(page, "entry-edit")
    page.get_by_role("button", name="Spara").click()
    page.get_by_text("Uppgiften är sparad.").wait_for()
    assert "kassa@bageriet.se" in page.content() and SECRET not in page.content()

    page.get_by_role("link", name="Visa krypterade uppgifter").first.click()
    dialog = page.get_by_role("dialog", name="Visa krypterade uppgifter")
    assert "Bageriet Sol AB" in dialog.inner_text() and "kund " not in dialog.inner_text()
    dialog.get_by_label("Ditt lösenord").fill(tenant.password)
    dialog.get_by_role("button", name="Visa").click()
    page.locator("#revealed").wait_for()
    assert SECRET in page.locator("#revealed").inner_text()  # the empty edit kept it
    shot(page, "revealed")

    # Lisa is on the encrypted list only: no "Ny uppgift", and she is told why and whom to ask.
    reader = new_page()
    login(reader, tenant, email=reader_email, password=tenant.password)
    reader.goto("/vault")
    note = reader.locator("p[id^=no-entry-]")
    assert "Be Admin Person att lägga till dig" in note.inner_text()
    assert reader.get_by_role("link", name="Ny uppgift Kundinloggningar").count() == 0
    shot(reader, "no-new-entry-why")

    # The same pages on a phone: nothing wider than the screen.
    context = browser.new_context(base_url=server, locale="sv-SE", viewport=PHONE)
    context.set_default_timeout(15_000)
    try:
        phone = context.new_page()
        login(phone, tenant)
        phone.goto("/vault")
        phone.get_by_role("link", name="Redigera Kundinloggningar").click()
        phone.get_by_role("heading", name="Redigera formulär").wait_for()
        _fits(phone)
        shot(phone, "phone-form-builder")
        phone.goto("/vault")
        _fits(phone)
        shot(phone, "phone-entries")
        phone.get_by_role("link", name="Redigera (Kundinloggningar").first.click()
        phone.get_by_role("heading", name="Redigera uppgift: Kundinloggningar").wait_for()
        _fits(phone)
        shot(phone, "phone-entry-edit")
        phone.goto("/vault")
        phone.get_by_role("link", name="Visa krypterade uppgifter").first.click()
        phone.get_by_label("Ditt lösenord").fill(tenant.password)
        phone.get_by_role("button", name="Visa").click()
        phone.locator("#revealed").wait_for()
        _fits(phone)
        shot(phone, "phone-revealed")
    finally:
        context.close()
