"""In the browser, with the vendored htmx: the customer picker narrows its list to a name
typed in its search box, a module list filters as the person types (no page load), and no
page breaks the content security policy."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import login, run


def _customer(tenant_id: int, name: str) -> dict:
    from plugins.customers import services
    from plugins.customers.schemas import CustomerIn

    return run(services.create_customer(tenant_id, CustomerIn(name=name)))  # type: ignore[no-any-return]


def test_customer_picker_and_live_filter(new_page: Any, shot: Any, tenant: Any) -> None:
    customer = _customer(tenant.id, "Hallberg Ventilation AB")
    _customer(tenant.id, "Ekström Golv")
    page = new_page()
    problems: list[str] = []
    # Errors in the console (a blocked inline style, a script error); the browser's own
    # favicon request is no page's doing.
    page.on("console", lambda m: problems.append(f"{page.url}: {m.text}")
            if m.type == "error" and "Failed to load resource" not in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    login(page, tenant)
    page.get_by_role("heading", name="Välkommen, Admin Person").wait_for()

    page.goto("/cases/new")
    page.get_by_label("Titel").fill("Ljud i aggregatet")
    # Enough customers for the picker's search box: typing narrows the list in place.
    for n in range(12):
        _customer(tenant.id, f"Fyllnad {n:02d}")
    page.reload()
    page.get_by_label("Titel").fill("Ljud i aggregatet")
    page.get_by_label("Sök kund på namn eller nummer").fill("hallb")
    page.locator("#f-customer_id option", has_text="Ekström Golv").wait_for(state="detached")
    assert page.locator("#f-customer_id option", has_text="Hallberg Ventilation AB").count() == 1
    # The one customer found is chosen at once.
    assert page.locator("#f-customer_id").input_value() == str(customer["id"])
    shot(page, "picker-search")
    page.get_by_label("Sök kund på namn eller nummer").fill("")
    page.locator("#f-customer_id option", has_text="Ekström Golv").wait_for(state="attached")
    assert page.locator("#f-customer_id").input_value() == str(customer["id"])  # still chosen
    shot(page, "picker-chosen")
    page.get_by_role("button", name="Spara").click()
    page.get_by_role("heading", name="Ljud i aggregatet").wait_for()
    assert page.get_by_role("link", name="Hallberg Ventilation AB").count() == 1

    # The list filters while typing: the results change, the page does not load again.
    page.goto("/cases/new")
    page.get_by_label("Titel").fill("Droppande kran")
    page.get_by_role("button", name="Spara").click()
    page.get_by_role("heading", name="Droppande kran").wait_for()
    page.goto("/cases")
    page.evaluate("window.__same_page = true")
    assert page.get_by_role("link", name="Droppande kran").count() == 1
    page.get_by_label("Sök på titel eller nummer").fill("aggregat")
    page.get_by_role("link", name="Droppande kran").wait_for(state="detached")
    assert page.get_by_role("link", name="Ljud i aggregatet").count() == 1
    assert page.evaluate("window.__same_page === true")
    assert "q=aggregat" in page.url
    shot(page, "live-filter")
    assert problems == [], problems


def test_anonymization_preview_without_a_page_load(new_page: Any, shot: Any, tenant: Any) -> None:
    page = new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" and "Failed to load resource" not in m.text else None,
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    login(page, tenant)
    page.get_by_role("heading", name="Välkommen, Admin Person").wait_for()
    page.goto("/settings/gdpr/anonymization")
    page.evaluate("window.__same_page = true")
    page.get_by_role("button", name="Förhandsvisa").click()
    page.locator("#preview-note").wait_for()
    assert page.evaluate("window.__same_page === true")
    assert page.get_by_role("columnheader", name="Berörs nu").count() == 1
    shot(page, "anonymization-preview")
    # A bad value: the error beside its field, swapped in the same way.
    days = page.locator("input[name^='days.']").first
    days.fill("-5")
    page.get_by_role("button", name="Förhandsvisa").click()
    page.locator("#main .error").first.wait_for()
    assert page.evaluate("window.__same_page === true")
    assert problems == [], problems
