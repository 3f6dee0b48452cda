"""In the browser, in Swedish: the customer list sorted by a column (desktop and a 390x844
phone, where the rows are stacked cards with the sort buttons above them), the search by
a phone number written another way, and the customer form with several errors at once
(the focus on the first) and the warning of a duplicate organization number."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import login, run

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
ORG = "556016-0680"


async def _seed(tenant_id: int) -> None:
    from plugins.customers.tables import ContactPerson, Customer

    rows = (
        ("Östra Måleri och Fasadrenovering AB", "Umeå", "info@ostramaleri.example.se", "+46701234567", ORG),
        ("Bergströms Rör och Värme AB", "Arvika", "kontor@bergstromsror.example.se", "+46702223344", None),
        ("Cederlunds Bygg i Norrland AB", "Skellefteå", "order@cederlundsbygg.example.se", None, None),
        ("Anderssons El och Belysning AB", "Örebro", "el@anderssonsel.example.se", "+46735556677", None),
    )
    for n, (name, city, email, phone, org) in enumerate(rows, start=1):
        inserted = await Customer.insert(Customer(
            tenant_id=tenant_id, number=n, kind="company", name=name, postal_city=city, email=email,
            mobile_phone=phone, org_number=org,
        ))
        if n == 2:
            await ContactPerson.insert(ContactPerson(
                tenant_id=tenant_id, customer_id=int(inserted[0]["id"]), name="Gunilla Lind",
            ))


def _names(page: Any) -> list[str]:
    return [a.inner_text() for a in page.locator("#results tbody td:nth-child(2) a").all()]


def test_customer_list_sorts_searches_and_stacks_on_a_phone(browser: Any, server: str, shot: Any, tenant: Any) -> None:
    run(_seed(tenant.id))
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(base_url=server, locale="sv-SE", viewport=viewport)
        context.set_default_timeout(15_000)
        try:
            page = context.new_page()
            login(page, tenant)
            page.get_by_role("heading", name="Välkommen, Admin Person").wait_for()
            page.goto("/customers")
            number = page.locator("th", has_text="Nummer")
            assert number.get_attribute("aria-sort") == "ascending"
            # The "Namn" header sorts A-Ö, and once more Ö-A.
            page.get_by_role("link", name="Namn").click()
            page.wait_for_url("**/customers?sort=name")
            assert _names(page)[0].startswith("Anderssons")
            assert page.locator("th", has_text="Namn").get_attribute("aria-sort") == "ascending"
            page.get_by_role("link", name="Namn").click()
            page.wait_for_url("**/customers?sort=-name")
            assert _names(page)[0].startswith("Östra")
            assert page.locator("th", has_text="Namn").get_attribute("aria-sort") == "descending"
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            shot(page, f"customers-sorted-{size}")
            if size == "phone":
                # Stacked cards: every row a block, each value under its column's label; the
                # sort buttons stay above the cards, big enough to tap.
                row = page.locator("#results tbody tr").first
                assert row.evaluate("r => getComputedStyle(r).display") == "block"
                cell = page.locator("#results tbody td").first
                assert cell.evaluate("c => getComputedStyle(c, '::before').content") == '"Nummer"'
                box = page.get_by_role("link", name="Namn").bounding_box()
                assert box is not None and box["height"] >= 44
                scroller = page.locator("#results .table-scroll")
                assert not scroller.evaluate("e => e.scrollWidth > e.clientWidth")
            # The search finds a phone written another way, and keeps the order.
            search = page.get_by_label("Sök på namn, nummer, org.nr, e-post, telefon, ort eller kontaktperson")
            search.fill("070-123 45 67")
            search.press("Enter")
            page.wait_for_url("**q=070*")
            page.locator("#results tbody tr").first.wait_for()
            assert _names(page) == ["Östra Måleri och Fasadrenovering AB"]
            assert "sort=-name" in page.url
            search.fill("Gunilla")
            search.press("Enter")
            page.wait_for_url("**q=Gunilla*")
            page.get_by_role("link", name="Bergströms Rör och Värme AB").wait_for()
            shot(page, f"customers-search-contact-{size}")
        finally:
            context.close()


def _focus_on(page: Any, element_id: str) -> None:
    """The focus arrives on ``element_id`` (fails after the page's timeout if it does not).
    Playwright's own check, not ``wait_for_function``: that evaluates a string in the page,
    which the pages' Content-Security-Policy (no 'unsafe-eval') refused now and then when
    a poll met the page just loaded after the form's submit."""
    from playwright.sync_api import expect

    expect(page.locator(f"[id={element_id!r}]")).to_be_focused()


def test_customer_form_shows_every_error_and_the_duplicate(browser: Any, server: str, shot: Any, tenant: Any) -> None:
    run(_seed(tenant.id))
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(base_url=server, locale="sv-SE", viewport=viewport)
        context.set_default_timeout(15_000)
        try:
            page = context.new_page()
            login(page, tenant)
            page.get_by_role("heading", name="Välkommen, Admin Person").wait_for()
            page.goto("/customers/new")
            page.get_by_label("E-post", exact=True).fill("inte-en-adress")
            page.get_by_label("Mobiltelefon").fill("12")
            page.get_by_role("button", name="Spara").click()
            page.locator("#e-mobile_phone").wait_for()
            for field in ("name", "email", "mobile_phone"):
                assert page.locator(f"#e-{field}").is_visible(), field
                assert page.locator(f"#f-{field}").get_attribute("aria-invalid") == "true"
            # The focus is on the first field in error, the name (autofocus: the browser
            # moves it when it next renders, a moment after the page is there).
            _focus_on(page, "f-name")
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            shot(page, f"customer-form-errors-{size}")

            # An organization number another customer has: a warning, a link, and a box.
            page.locator("#f-name").fill("Östra Måleri Filial AB")
            page.get_by_label("E-post", exact=True).fill("")
            page.get_by_label("Mobiltelefon").fill("")
            page.get_by_label("Organisationsnummer").fill("5560160680")
            page.get_by_role("button", name="Spara").click()
            page.locator("#confirm-box").wait_for()
            _focus_on(page, "f-org_number")
            assert "Kund 1 har redan det här organisationsnumret" in page.locator("#e-org_number").inner_text()
            page.locator("#confirm-box").scroll_into_view_if_needed()
            shot(page, f"customer-form-duplicate-{size}")
            page.get_by_label("Spara ändå").check()
            page.get_by_role("button", name="Spara").click()
            page.get_by_role("heading", name="Östra Måleri Filial AB").wait_for()
        finally:
            context.close()
