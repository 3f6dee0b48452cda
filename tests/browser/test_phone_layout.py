"""In the browser: the main pages in Swedish on a 390x844 phone. No page is wider than the
screen (a record list's rows and the person search's hits are stacked cards, other wide
tables scroll inside their own box), the header stays small (the modules sit behind a
"Meny" button that opens them), and links and buttons are at least 44 px tall.
On a 1280 px desktop the whole menu shows without a button."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import login, run

PHONE = {"width": 390, "height": 844}
PAGES = (
    ("dashboard", "/"),
    ("customers", "/customers"),
    ("cases", "/cases"),
    ("case-form", "/cases/new"),
    ("settings", "/settings"),
    ("gdpr-overview", "/settings/gdpr/overview"),
    ("person-search", "/settings/gdpr/search?q=Gustafsson"),
)


async def _seed(tenant_id: int) -> None:
    """Rows with long values, so the lists' tables are wider than a phone."""
    from plugins.cases.tables import Case
    from plugins.customers.tables import Customer

    customer_id = 0
    for n in range(1, 4):
        row = Customer(tenant_id=tenant_id, number=n, kind="company", name=f"Gustafssons Värme och Ventilation {n} AB",
                       email=f"fakturering.avdelning{n}@gustafssons-varme-ventilation.example.se")
        inserted = await Customer.insert(row)
        customer_id = customer_id or int(inserted[0]["id"])
    for n in range(1, 4):
        await Case.insert(Case(tenant_id=tenant_id, number=n, customer_id=customer_id,
                               title=f"Värmepumpen i källaren ger kallt vatten sedan i tisdags {n}",
                               end_customer_name="Greta Gustafsson"))


def _header_height(page: Any) -> float:
    box = page.locator("header.top").bounding_box()
    assert box is not None
    return float(box["height"])


def test_phone_layout_fits_the_screen(browser: Any, server: str, shot: Any, tenant: Any) -> None:
    run(_seed(tenant.id))
    context = browser.new_context(base_url=server, locale="sv-SE", viewport=PHONE)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        login(page, tenant)
        page.get_by_role("heading", name="Välkommen, Admin Person").wait_for()
        for name, url in PAGES:
            page.goto(url)
            page.wait_for_load_state("load")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{url} is {width}px wide on a {PHONE['width']}px phone"
            height = _header_height(page)
            assert height < 0.3 * PHONE["height"], f"the header of {url} is {height}px tall"
            # The modules are behind the menu button, closed until it is pressed.
            nav = page.get_by_role("navigation", name="Moduler")
            assert not nav.is_visible(), f"the menu of {url} is open before it is pressed"
            shot(page, name)

        # The lists' rows, wider than the phone as a table, are stacked cards that fit it.
        for url in ("/customers", "/cases"):
            page.goto(url)
            box = page.locator("#results .table-scroll")
            assert box.count() == 1
            assert not box.evaluate("e => e.scrollWidth > e.clientWidth"), f"{url} scrolls sideways"
            assert page.locator("#results tbody tr").first.evaluate("r => getComputedStyle(r).display") == "block"

        # So are the person search's hits: every column readable without scrolling sideways.
        page.goto("/settings/gdpr/search?q=Gustafsson")
        boxes = page.locator(".search-group .table-scroll")
        assert boxes.count() >= 2  # customers and cases
        for i in range(boxes.count()):
            assert not boxes.nth(i).evaluate("e => e.scrollWidth > e.clientWidth"), "the search hits scroll sideways"
        status = page.locator(".search-group tbody td[data-label='Status']").first
        assert status.is_visible() and status.evaluate("td => getComputedStyle(td, '::before').content") == '"Status"'
        shot(page, "person-search-stacked")

        # The menu opens, says so, and its links are there and big enough to tap.
        page.goto("/")
        toggle = page.locator("header.top details.menu > summary")
        assert toggle.is_visible()
        assert toggle.inner_text().strip() == "Meny"
        toggle_box = toggle.bounding_box()
        assert toggle_box is not None and toggle_box["height"] >= 44 and toggle_box["width"] >= 44
        toggle.click()
        nav = page.get_by_role("navigation", name="Moduler")
        nav.wait_for(state="visible")
        assert page.locator("header.top details.menu").evaluate("d => d.open")
        shot(page, "menu-open")
        links = nav.get_by_role("link")
        assert links.count() >= 5
        for i in range(links.count()):
            link_box = links.nth(i).bounding_box()
            assert link_box is not None and link_box["height"] >= 44, links.nth(i).inner_text()
        logout = page.get_by_role("button", name="Logga ut")
        logout_box = logout.bounding_box()
        assert logout_box is not None and logout_box["height"] >= 44
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        # Keyboard: the menu button takes focus and closes the menu with Enter.
        toggle.focus()
        page.keyboard.press("Enter")
        nav.wait_for(state="hidden")
        # Escape closes the open menu from one of its links, back on the button.
        toggle.click()
        nav.get_by_role("link", name="Kunder").focus()
        page.keyboard.press("Escape")
        nav.wait_for(state="hidden")
        assert toggle.evaluate("s => document.activeElement === s")
        # A link in the open menu leads to its page.
        toggle.click()
        nav.get_by_role("link", name="Ärenden").click()
        page.get_by_role("link", name="Nytt ärende").wait_for()
        assert page.url.endswith("/cases")

        # The settings page's links are rows a finger can hit.
        page.goto("/settings")
        for link in page.locator(".card li > a").all():
            link_box = link.bounding_box()
            assert link_box is not None and link_box["height"] >= 44, link.inner_text()

        # The case form's fields and buttons are tappable.
        page.goto("/cases/new")
        save = page.get_by_role("button", name="Spara")
        save_box = save.bounding_box()
        assert save_box is not None and save_box["height"] >= 44
    finally:
        context.close()

    # Without JavaScript the menu opens just the same (a <details>, no script behind it).
    plain = browser.new_context(base_url=server, locale="sv-SE", viewport=PHONE, java_script_enabled=False)
    try:
        page = plain.new_page()
        login(page, tenant)
        page.get_by_role("heading", name="Välkommen, Admin Person").wait_for()
        nav = page.get_by_role("navigation", name="Moduler")
        assert not nav.is_visible()
        page.locator("header.top details.menu > summary").click()
        nav.get_by_role("link", name="Kunder").click()
        page.get_by_role("link", name="Ny kund").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        plain.close()

    # A desktop still shows every module in the header, without a menu button.
    desktop = browser.new_context(base_url=server, locale="sv-SE", viewport={"width": 1280, "height": 900})
    try:
        page = desktop.new_page()
        login(page, tenant)
        page.get_by_role("heading", name="Välkommen, Admin Person").wait_for()
        assert not page.locator("header.top details.menu > summary").is_visible()
        nav = page.get_by_role("navigation", name="Moduler")
        assert nav.is_visible()
        assert nav.get_by_role("link", name="Kunder").is_visible()
        assert nav.get_by_role("link", name="Inställningar").is_visible()
        shot(page, "desktop")
        assert _header_height(page) < 120
        nav.get_by_role("link", name="Kunder").click()
        page.get_by_role("link", name="Ny kund").wait_for()
    finally:
        desktop.close()
