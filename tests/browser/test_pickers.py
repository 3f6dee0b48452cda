"""In the browser, in Swedish, on a desktop and on a 390x844 phone: a new case picks its
customer from a list of names and its contact person from that customer's contact persons
(the list follows the customer without a page load), the case's page and the list name them
(never ids), and person search shows each hit as its record, with the field's label, the
status in Swedish and a link that opens the record (issue #20.4, #20.5)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import login, run

PHONE = {"width": 390, "height": 844}


def _party(tenant_id: int, name: str, contacts: tuple[str, ...]) -> tuple[int, list[int]]:
    from plugins.customers.tables import ContactPerson
    from tests.support import add_party

    customer, ids = run(add_party(tenant_id, contacts=len(contacts), name=name))
    for contact_id, contact_name in zip(ids, contacts, strict=True):
        run(ContactPerson.update({ContactPerson.name: contact_name}).where(ContactPerson.id == contact_id))
    return customer, ids


def _options(page: Any, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(f"{selector} option").all_inner_texts()]


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_case_picks_customer_and_contact_and_search_reads_as_records(
    browser: Any, server: str, new_page: Any, shot: Any, tenant: Any, device: str
) -> None:
    hallberg, (_anna, olof) = _party(tenant.id, "Hallberg Ventilation AB", ("Anna Hallberg", "Olof Berg"))
    _party(tenant.id, "Ekström Golv", ("Eva Ekström",))
    if device == "phone":
        context = browser.new_context(base_url=server, locale="sv-SE", viewport=PHONE,
                                      device_scale_factor=2, is_mobile=True, has_touch=True)
        context.set_default_timeout(15_000)
        page = new_page(context)
    else:
        page = new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    login(page, tenant)
    page.get_by_role("heading", name="Välkommen, Admin Person").wait_for()

    page.goto("/cases/new")
    page.get_by_label("Titel").fill("Ljud i aggregatet")
    customer = page.get_by_label("Kund", exact=True)
    contact = page.get_by_label("Kontaktperson", exact=True)
    # No typed ids: the customers by name; no contact persons before a customer is chosen.
    assert "Hallberg Ventilation AB (1)" in _options(page, "#f-customer_id")
    assert _options(page, "#f-contact_person_id") == ["– Ingen kontaktperson –"]
    assert page.get_by_text("Välj kund först").count() == 1
    shot(page, f"{device}-new-case")
    page.evaluate("window.__same_page = true")
    customer.select_option(str(hallberg))
    page.locator("#f-contact_person_id option", has_text="Olof Berg").wait_for(state="attached")
    assert _options(page, "#f-contact_person_id") == ["– Ingen kontaktperson –", "Anna Hallberg", "Olof Berg"]
    assert page.evaluate("window.__same_page === true")  # htmx, no page load
    page.locator("#f-contact_person_id").select_option(str(olof))
    assert contact.input_value() == str(olof)
    shot(page, f"{device}-customer-and-contact-chosen")
    page.get_by_role("button", name="Spara").click()

    page.get_by_role("heading", name="Ljud i aggregatet").wait_for()
    assert page.locator("#record-customer").inner_text() == "Hallberg Ventilation AB"
    assert page.locator("#record-customer a").get_attribute("href") == f"/customers/{hallberg}"
    assert page.locator("#record-contact").inner_text() == "Olof Berg"
    shot(page, f"{device}-case-names-customer-and-contact")
    case_url = page.url

    page.goto("/cases")
    row = page.locator("tr", has_text="Ljud i aggregatet")
    assert row.get_by_role("link", name="Hallberg Ventilation AB").count() == 1
    assert "Olof Berg" in row.inner_text()
    shot(page, f"{device}-case-list")

    # The case's edit form has both chosen; changing the customer empties the contact list
    # to that customer's own.
    page.goto(case_url + "/edit")
    assert page.locator("#f-customer_id").input_value() == str(hallberg)
    assert page.locator("#f-contact_person_id").input_value() == str(olof)

    # Person search: records, labels, Swedish statuses, links that open the record.
    page.goto("/settings/gdpr/search?q=Olof")
    results = page.locator("main")
    results.get_by_role("heading", name="Ärenden").wait_for()
    text = results.inner_text()
    for word in ("contact_person_id", "customer_id", "active", "Workcloud"):
        assert word not in text, word
    case_row = page.locator("tr", has_text="Ärende 1: Ljud i aggregatet")
    assert "Kontaktperson" in case_row.inner_text() and "Olof Berg" in case_row.inner_text()
    assert "Aktiv" in case_row.inner_text()
    assert page.get_by_role("heading", name="Kunder").count() == 1
    shot(page, f"{device}-person-search")
    case_row.get_by_role("link", name="Ärende 1: Ljud i aggregatet").click()
    page.get_by_role("heading", name="Ljud i aggregatet").wait_for()
    assert page.url == case_url
    assert problems == [], problems
