"""In the browser: an administrator sets customers to be anonymized immediately (the gear of
the customer module), creates a customer and a case for it, works the case, deletes the
customer after reading what anonymization follows, and no longer finds the old name."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import login


def test_customer_and_case_then_delete_with_immediate_anonymization(
    new_page: Any, shot: Any, tenant: Any
) -> None:
    page = new_page()
    login(page, tenant)
    page.get_by_role("heading", name="Välkommen, Admin Person").wait_for()

    # The customer module's gear: its retention rules.
    page.get_by_role("navigation", name="Moduler").get_by_role("link", name="Kunder").click()
    page.get_by_role("link", name="Inställningar för kunder").click()
    page.get_by_role("heading", name="Gallringsregler").wait_for()
    page.get_by_label("Anonymisera: Kunder").select_option("immediately")
    shot(page, "customer-settings")
    page.get_by_role("button", name="Spara").click()
    assert "Inställningarna är sparade." in page.get_by_role("status").first.inner_text()

    # A new customer, with an error beside the field first.
    page.goto("/customers")
    page.get_by_role("link", name="Ny kund").click()
    page.get_by_label("Namn").fill("Greta Gustafsson")
    page.get_by_label("Typ").select_option("private")
    page.get_by_label("Mobiltelefon").fill("inte ett nummer")
    page.get_by_role("button", name="Spara").click()
    error = page.locator("#e-mobile_phone")
    error.wait_for()
    shot(page, "customer-form-error")
    page.get_by_label("Mobiltelefon").fill("070-765 43 21")
    page.get_by_role("button", name="Spara").click()
    page.get_by_role("heading", name="Greta Gustafsson").wait_for()
    customer_url = page.url
    customer_id = customer_url.rstrip("/").rsplit("/", 1)[1]
    shot(page, "customer")
    # Before the delete the search shows where the name is stored, with a link to the card.
    page.goto("/settings/gdpr/search?q=Gustafsson")
    assert page.locator("#search-total").inner_text() != "Antal: 0"
    assert page.locator(f'a[href="/customers/{customer_id}"]').count() >= 1
    shot(page, "gdpr-search-found")

    # A case for the customer, with a work report, closed and reopened.
    page.get_by_role("navigation", name="Moduler").get_by_role("link", name="Ärenden").click()
    page.get_by_role("link", name="Nytt ärende").click()
    page.get_by_label("Titel").fill("Trasig värmepump")
    page.get_by_label("Kund", exact=True).select_option(customer_id)
    page.get_by_role("button", name="Spara").click()
    page.get_by_role("heading", name="Trasig värmepump").wait_for()
    assert page.get_by_role("link", name="Greta Gustafsson").count() == 1
    page.get_by_label("Typ").select_option("work_report")
    page.get_by_label("Text").fill("Bytte filter, provkörde 30 min.")
    page.get_by_role("button", name="Lägg till").click()
    page.get_by_text("Bytte filter, provkörde 30 min.").wait_for()
    page.get_by_role("button", name="Stäng").click()
    assert page.locator("#case-status").inner_text() == "Stängd"
    shot(page, "case-closed")
    page.get_by_role("button", name="Öppna igen").click()
    assert page.locator("#case-status").inner_text() == "Öppen"

    # Delete the customer: the page says anonymization follows at once.
    page.goto(customer_url)
    page.get_by_role("link", name="Radera").click()
    notice = page.locator("#anonymization-notice").inner_text()
    assert "genast" in notice
    shot(page, "customer-delete-confirm")
    page.get_by_role("button", name="Radera kunden").click()
    assert "anonymiserade" in page.get_by_role("status").first.inner_text()

    # Nothing is found under the old name, not even among deleted customers.
    page.get_by_label("Sök på namn, nummer, org.nr, e-post, telefon, ort eller kontaktperson").fill("Greta")
    page.get_by_label("Visa raderade").check()
    page.get_by_role("button", name="Sök").click()
    assert "Antal: 0" in page.get_by_role("status").inner_text()
    shot(page, "customer-search-empty")
    # Settings > GDPR > Search for data finds no place holding the old name any more.
    page.goto("/settings")
    page.get_by_role("link", name="Sök efter uppgifter").click()
    page.get_by_label("Namn, e-postadress, telefonnummer eller personnummer").fill("Greta Gustafsson")
    page.get_by_role("button", name="Sök").click()
    assert page.locator("#search-total").inner_text() == "Antal: 0"
    shot(page, "gdpr-search-empty")
    page.goto(customer_url)
    assert "Greta" not in page.content() and "Anonymiserad" in page.content()
    shot(page, "customer-anonymized")
    # The case's link to the customer is gone (the customer number is 0 in link tables).
    page.goto("/cases")
    page.get_by_role("link", name="Trasig värmepump").click()
    assert page.get_by_role("link", name="Greta Gustafsson").count() == 0
    shot(page, "case-after")
