"""In the browser, in Swedish: an administrator visits every page the application has and
no page shows an English sentence of the catalogs.

The pages are not listed by hand. They are the app's GET page routes (every handler left
out of the OpenAPI document), so a new page is visited as soon as it exists. Records for the
pages that need an id are made through the pages themselves: each ``…/new`` form is filled
(its required fields, by their type) and saved, then the crawl follows the links of every
page it opens, so ``/cases/{record_id}`` is reached from the case list. A route that is not
reached fails the test, unless it is in :data:`NOT_CRAWLED` with the reason.

"English" is every catalog text whose English differs from its Swedish (the English
catalog's text, else the message id), cut at its ``%(name)s`` placeholders into fragments
of two words or more. Screenshots of each kind of page (desktop, and a 390x844 phone) are
saved under ``test-artifacts/browser/<test>/``.
"""

from __future__ import annotations

import re
from collections import deque
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from babel.messages.pofile import read_po
from playwright.sync_api import expect

from tests.browser.conftest import ROOT, SAVE_SHOTS, login

# Page routes the crawl does not open, and why (each is covered elsewhere or is no page).
NOT_CRAWLED = {
    "/metrics": "for the monitoring system, not a person (text/plain)",
    "/static/{name:str}": "style sheet and scripts",
    "/favicon.ico": "the icon",
    "/pick/customers/choose": "an htmx fragment of the picker (tests/browser/test_htmx_pages.py)",
    "/reset": "needs a reset token from an e-mail (tests/pages/test_core_pages.py)",
    "/portal/reset": "needs a reset token from an e-mail (the portal's page tests)",
    "/portal/activate": "needs an invitation token from an e-mail (the portal's page tests)",
    "/quotes/public/{token:str}": "the customer's link from an e-mail (tests/browser/test_portal_quote.py)",
    "/projects/public/payment-plans/{token:str}": (
        "the customer's link from an e-mail (tests/pages/test_portal_pages.py)"
    ),
    "/vault/entries/{entry_id:int}/reveal": "a POST-only secret shown after an SMS code (tests/browser/test_vault.py)",
    "/vault/entries/new": "opened with a chosen form only (?form=…), from the vault page",
    "/vault/entries/{entry_id:int}/edit": (
        "an entry of a form the person may change (tests/browser/test_vault_edit.py: Swedish, desktop and phone)"
    ),
    "/dsr/{record_id:int}/erasure": "only a request for erasure has it (plugins/dsr/tests/test_answer.py)",
    "/portal/records/{slug:str}": "a portal person's own records (tests/browser/test_portal_records.py)",
    "/portal/records/{slug:str}/{record_id:int}": (
        "a portal person's own record (tests/browser/test_portal_records.py)"
    ),
    "/dsr/ask/{slug:str}/confirm": "the person's link from an e-mail (tests/browser/test_dsr_flow.py)",
    "/dsr/ask/{slug:str}/answer": "the answer's link from an e-mail (tests/browser/test_dsr_flow.py)",
    "/dsr/ask/{slug:str}/answer/export.html": "a download after a code (tests/browser/test_dsr_flow.py)",
    "/dsr/ask/{slug:str}/answer/export.json": "a download after a code (plugins/dsr/tests/test_answer.py)",
}
# Pages a person reaches without logging in (the crawl opens them after logging out).
PUBLIC = ("/login", "/password-reset", "/portal", "/portal/login", "/portal/password-reset", "/portal/approvals",
          "/portal/privacy")

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")
PARAM = re.compile(r"\{[^}]+\}")


def english_fragments() -> set[str]:
    """Every catalog text's English fragments that differ from its Swedish."""
    found: set[str] = set()
    folders = [ROOT / "core", *sorted(p for p in (ROOT / "plugins").iterdir() if (p / "locale").is_dir())]
    for folder in folders:
        sv = _read(folder / "locale" / "sv" / "LC_MESSAGES" / "messages.po", "sv")
        en = _read(folder / "locale" / "en" / "LC_MESSAGES" / "messages.po", "en")
        for message in sv:
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            svs = message.string if isinstance(message.string, tuple) else (message.string,)
            en_message = en.get(message.id)
            en_strings = en_message.string if en_message is not None else ""
            ens = en_strings if isinstance(en_strings, tuple) else (en_strings,)
            for i, msgid in enumerate(ids):
                english = (ens[i] if i < len(ens) else "") or msgid
                if english in svs:
                    continue
                for part in PLACEHOLDER.split(english):
                    part = part.strip(" .,:;()\"'–-")
                    if len(part) >= 10 and " " in part:
                        found.add(part)
    return found


def _read(path: Path, lang: str) -> Any:
    with path.open("rb") as fh:
        return read_po(fh, locale=lang)


def page_routes(server: str) -> list[str]:
    """The GET page routes of the app the server runs (the same plugins, the same code)."""
    from core.app import create_app

    app = create_app()
    paths = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if "GET" in (handler.http_methods or ()) and not handler.include_in_schema:
                paths.add(route.path)
    return sorted(paths)


def pattern_of(path: str, patterns: list[str]) -> str | None:
    for pattern in patterns:
        regex = "^" + PARAM.sub(r"[^/]+", re.escape(pattern).replace(r"\{", "{").replace(r"\}", "}")) + "$"
        if re.match(regex, path):
            return pattern
    return None


SKIP_NAMES = re.compile(r"_id$|^id$|number|national|org_|csrf|^q$|search|week|date_from|date_to")


def value_for(name: str, kind: str) -> str:
    if kind == "date" or name.endswith("date"):
        return date.today().isoformat()  # neither in the past nor in the future
    if kind == "datetime-local":
        return "2026-12-05T10:00"
    if kind == "time" or name in ("start", "end", "starts", "ends") or "time" in name:
        return "08:00" if "end" not in name else "16:00"
    if kind == "email" or "mail" in name:
        return "prov@example.se"
    if kind == "password":
        return "ett-langt-losenord-1"
    if kind == "tel" or "phone" in name:
        return "070-123 45 67"
    if "postcode" in name:
        return "852 30"
    if kind == "number" or any(w in name for w in ("amount", "price", "hours", "quantity", "days")):
        return "2"
    return "Prov " + re.sub(r"[\W_]+", " ", name).strip()


# What fill_and_save needs to know of each field, read in one call (not six per field):
# Playwright's own tests of visible (a non-empty box, not visibility:hidden) and disabled.
FIELDS_JS = """es => es.map(e => {
  const box = e.getBoundingClientRect();
  return {
    visible: box.width > 0 && box.height > 0 && getComputedStyle(e).visibility !== "hidden",
    disabled: e.matches(":disabled"),
    tag: e.tagName.toLowerCase(),
    name: (e.getAttribute("name") || "").toLowerCase(),
    kind: (e.getAttribute("type") || "text").toLowerCase(),
    required: e.hasAttribute("required"),
    value: e.value,
    options: e.tagName === "SELECT" ? Array.from(e.options, o => o.value) : [],
  };
})"""


def fill_and_save(page: Any, form: Any, every_field: bool) -> None:
    """Fill a form that makes a record (its required fields; with ``every_field`` also its
    other empty text fields, ids and numbers aside) and save it. A field is read again
    after a choice was made: a choice may show or hide other fields."""
    fields = form.locator("input, select, textarea")
    infos = fields.evaluate_all(FIELDS_JS)
    for i in range(len(infos)):
        info = infos[i]
        name, kind, required = info["name"], info["kind"], info["required"]
        if not info["visible"] or info["disabled"]:
            continue
        if kind in ("checkbox", "radio", "hidden", "submit", "search") or not name:
            continue
        if info["tag"] == "select":  # a choice left empty gets the first one (an employee, a kind)
            values = [v for v in info["options"] if v]
            if values and not info["value"] and (required or every_field):
                fields.nth(i).select_option(values[0])
                infos[i + 1:] = fields.evaluate_all(FIELDS_JS)[i + 1:]
            continue
        if not required and (not every_field or SKIP_NAMES.search(name) or kind == "datetime-local"):
            continue
        if info["value"]:
            continue
        fields.nth(i).fill(value_for(name, kind))
    form.locator("button[type=submit]").last.click()
    page.wait_for_load_state()
    errors = page.locator("main .error").all_inner_texts()
    if errors:
        NOT_SAVED.append(f"{page.url}: {errors}")


NOT_SAVED: list[str] = []


def creating_forms(page: Any) -> list[Any]:
    """The forms of the page that make a record: the page's own form on a ``…/new`` page,
    and forms posting to ``…/new`` or to a list (``/time/reports``) elsewhere."""
    out = []
    for form in page.locator("main form[method=post]").all():
        action = form.get_attribute("action") or urlsplit(page.url).path
        path = urlsplit(action).path
        last = path.rstrip("/").rsplit("/", 1)[-1]
        if last == "new" or (last in ("reports", "expenses") and path.startswith("/time/")):
            out.append(form)
    return out


def english_on(page: Any, fragments: set[str]) -> list[str]:
    return english_in(page.locator("body").inner_text(), fragments)


def english_in(text: str, fragments: set[str]) -> list[str]:
    text = re.sub(r"\s+", " ", text)
    return sorted(f for f in fragments if f in text)


# A crawled page's text and its links, in one call.
TEXT_AND_LINKS_JS = """() => [document.body.innerText,
  Array.from(document.querySelectorAll("a[href^='/']"), a => a.getAttribute("href"))]"""


def test_every_page_in_swedish_has_no_english(browser: Any, server: str, shot: Any, tenant: Any) -> None:
    fragments = english_fragments()
    assert len(fragments) > 200  # the catalogs were read
    patterns = page_routes(server)
    context = browser.new_context(base_url=server, locale="sv-SE", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    login(page, tenant)
    page.get_by_role("heading", name="Välkommen, Admin Person").wait_for()

    # Records for the pages that need an id: every "new" form, filled and saved.
    new_forms = [p for p in patterns if p.endswith("/new") and "{" not in p and p not in NOT_CRAWLED]
    for path in [*new_forms, "/time", "/time/deviations", "/time/schedule"]:
        page.goto(path)
        forms = creating_forms(page)
        for i in range(len(forms)):
            if i:  # the page again, for its next form (the first one is open already)
                page.goto(path)
                forms = creating_forms(page)
            if i < len(forms):
                fill_and_save(page, forms[i], every_field=True)
    seen: dict[str, str] = {}  # pattern -> the first path of it visited
    english: list[str] = []
    queue: deque[str] = deque(p for p in patterns if "{" not in p and p not in NOT_CRAWLED and p not in PUBLIC)
    visited: set[str] = set()
    while queue:
        path = queue.popleft()
        if path in visited:
            continue
        visited.add(path)
        pattern = pattern_of(path, patterns)
        if pattern is None or pattern in NOT_CRAWLED:
            continue
        if pattern in seen and len([v for v in visited if pattern_of(v, patterns) == pattern]) > 3:
            continue  # a few of each kind are enough
        response = page.goto(path)
        assert response is not None
        assert response.status < 500, f"{path}: {response.status}"
        text, hrefs = page.evaluate(TEXT_AND_LINKS_JS)
        found = english_in(text, fragments)
        if found:
            english.append(f"{path}: {found}")
        if pattern not in seen:
            seen[pattern] = path
            shot(page, "desktop" + re.sub(r"[^a-z0-9]+", "-", path.lower()).rstrip("-"))
        for href in hrefs:
            target = urlsplit(href).path
            if target not in visited and not target.startswith(("/api/", "/static/")):
                queue.append(target)
        if "{" in pattern and pattern.endswith("/new") and creating_forms(page):
            # a form under a record (a customer's contact person): saved once, then the
            # record's page is crawled again for what it now links to
            fill_and_save(page, creating_forms(page)[0], every_field=True)
            again = urlsplit(page.url).path
            visited.discard(again)
            queue.append(again)

    # A page no link leads to (a time report's own page: the list links its edit form)
    # with the id of a sibling page that was reached.
    for pattern in sorted(set(patterns) - set(seen) - set(NOT_CRAWLED)):
        head = PARAM.split(pattern)[0]
        sibling = next((p for q, p in seen.items() if q != pattern and "{" in q and PARAM.split(q)[0] == head), None)
        if sibling is None:
            continue
        ident = sibling[len(head):].split("/")[0]
        path = PARAM.sub(ident, pattern, count=1)
        response = page.goto(path)
        assert response is not None and response.status < 500, path
        if response.status < 400:
            found = english_on(page, fragments)
            if found:
                english.append(f"{path}: {found}")
            seen[pattern] = path
            shot(page, "desktop" + re.sub(r"[^a-z0-9]+", "-", path.lower()).rstrip("-"))

    # The check can fail: the same kind of page in English shows catalog sentences.
    page.goto("/settings/gdpr/anonymization")
    page.locator("footer button[value=en]").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert english_on(page, fragments), "the English check finds nothing even on an English page"
    shot(page, "desktop-english-anonymization")
    page.locator("footer button[value=sv]").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "sv"

    # The public pages, logged out.
    page.locator("form[action='/logout'] button").first.click()
    for path in (*PUBLIC, f"/dsr/ask/{tenant.slug}"):
        response = page.goto(path)
        assert response is not None and response.status < 500, path
        found = english_on(page, fragments)
        if found:
            english.append(f"{path}: {found}")
        seen[pattern_of(path, patterns) or path] = path
        shot(page, "desktop" + re.sub(r"[^a-z0-9]+", "-", path.lower()).rstrip("-"))
    # An address no page answers: a Swedish page, not JSON.
    response = page.goto("/finns-inte")
    assert response is not None and response.status == 404
    assert "Det finns ingen sida på den här adressen." in page.locator("main").inner_text()
    shot(page, "desktop-404")

    missing = sorted(set(patterns) - set(seen) - set(NOT_CRAWLED))
    print("NOTSAVED", len(NOT_SAVED), NOT_SAVED, "SEEN", len(seen), flush=True)
    assert not missing and not english, (
        f"page routes the crawl never reached: {missing}\nforms not saved: {NOT_SAVED}\n"
        "English on Swedish pages:\n" + "\n".join(english)
    )

    # The same pages on a phone, for a person to look at: only when screenshots are kept
    # (.ci/run keeps none; the phone layout's checks are tests/browser/test_phone_layout.py).
    if not SAVE_SHOTS:
        context.close()
        return
    phone = browser.new_context(base_url=server, locale="sv-SE", viewport={"width": 390, "height": 844})
    phone.set_default_timeout(15_000)
    mobile = phone.new_page()
    login(mobile, tenant)
    mobile.get_by_role("heading", name="Välkommen, Admin Person").wait_for()
    for _pattern, path in sorted(seen.items()):
        if path in PUBLIC:
            continue
        mobile.goto(path)
        shot(mobile, "phone" + re.sub(r"[^a-z0-9]+", "-", path.lower()).rstrip("-"))
    phone.close()
    context.close()


def test_swedish_formats_and_errors_on_pages_and_in_the_api(new_page: Any, shot: Any, tenant: Any) -> None:
    """Amounts, phones, postcodes and dates in Swedish; the errors a person makes in Swedish,
    beside the field on a page and as a coded problem in the API."""
    page = new_page()
    login(page, tenant)
    page.get_by_role("heading", name="Välkommen, Admin Person").wait_for()

    # A customer: a postcode that is none is refused in Swedish, a good one shown "852 30".
    page.goto("/customers/new")
    page.get_by_label("Namn").fill("Sundsvalls Rör AB")
    page.get_by_label("Mobiltelefon").fill("0701234567")
    page.locator("#f-postal_postcode").fill("8523")
    page.get_by_role("button", name="Spara").click()
    assert "Skriv ett svenskt postnummer med fem siffror" in page.locator("#e-postal_postcode").inner_text()
    page.locator("#f-postal_postcode").fill("85230")
    page.get_by_role("button", name="Spara").click()
    page.get_by_role("heading", name="Sundsvalls Rör AB").wait_for()
    facts = page.locator("dl").first.inner_text()
    assert "070-123 45 67" in facts and "852 30" in facts
    shot(page, "customer-formats")

    # A quote: sending it without lines says so in Swedish; its amounts read "20 925,00 kr".
    page.goto("/quotes/new")
    page.get_by_label("Titel").fill("Nytt badrum")
    page.get_by_role("button", name="Spara").click()
    page.get_by_role("heading", name="Nytt badrum").wait_for()
    quote_url = page.url
    page.locator("form[action$='/send'] input[name=email]").fill("kund@example.se")
    page.locator("form[action$='/send'] button[type=submit]").click()
    assert "Lägg till minst en rad innan du skickar offerten." in page.locator("main").inner_text()
    page.goto(quote_url)
    line = page.locator("form[action$='/lines']")
    line.locator("input[name=description]").fill("Kakel och arbete")
    line.locator("input[name=quantity]").fill("3")
    line.locator("input[name=unit_price]").fill("6975")
    line.locator("button[type=submit]").click()
    page.get_by_role("cell", name="Kakel och arbete", exact=True).wait_for()
    total = page.locator("tfoot").inner_text()
    assert "20\u00a0925,00\u00a0kr" in total, total
    assert "20925" not in page.locator("main").inner_text()
    shot(page, "quote-amounts")

    # The same page in English has English formats.
    page.locator("footer button[value=en]").click()
    page.wait_for_load_state()
    assert "SEK 20,925.00" in page.locator("tfoot").inner_text()
    page.locator("footer button[value=sv]").click()
    page.wait_for_load_state()

    # An order line whose quantity is no number: a coded problem naming the field, in the
    # language the client asks for (not the framework's "Validation failed").
    page.goto("/orders/new")
    page.get_by_label("Titel").fill("Material")
    page.get_by_role("button", name="Spara").click()
    page.get_by_role("heading", name="Material").wait_for()
    order_id = page.url.rstrip("/").rsplit("/", 1)[1]
    answer = page.request.post(
        f"/api/orders/{order_id}/lines",
        data={"description": "Rör", "unit_price": "10", "quantity": "många"},
        headers={"Accept-Language": "sv"},
    )
    assert answer.status == 400
    body = answer.json()
    assert body["code"] == "invalid_value" and body["field"] == "quantity", body
    assert body["detail"] == "Värdet är inte giltigt här.", body
    assert "Validation failed" not in answer.text()


def test_rules_table_and_live_filter_help(new_page: Any, shot: Any, tenant: Any) -> None:
    """The GDPR rules table says what each rule clears and its days box is usable only with
    "after a number of days"; a live filter says its result count in a live region and
    shows it is busy while it asks."""
    page = new_page()
    login(page, tenant)
    page.get_by_role("heading", name="Välkommen, Admin Person").wait_for()
    page.goto("/settings/gdpr/anonymization")
    assert page.get_by_role("columnheader", name="Vad regeln rensar").count() == 1
    mode = page.locator("select[name='mode.cases']")
    days = page.locator("input[name='days.cases']")
    assert "Kund" in page.locator("#c-cases").inner_text()
    mode.select_option("off")
    assert days.is_disabled()
    mode.select_option("days")
    assert days.is_enabled()
    shot(page, "rules-days-on")
    mode.select_option("off")
    assert days.is_disabled()

    page.goto("/cases")
    live = page.locator("#announce")
    assert live.get_attribute("aria-live") == "polite"
    # Note every moment #busy is shown and #results is marked busy while the filter asks.
    page.evaluate("""() => {
      window.__busy = [];
      new MutationObserver(() => {
        const busy = document.getElementById("busy");
        const results = document.getElementById("results");
        window.__busy.push([busy.classList.contains("htmx-request"),
                            !!results && results.getAttribute("aria-busy") === "true"]);
      }).observe(document.body, {attributes: true, subtree: true, attributeFilter: ["class", "aria-busy"]});
    }""")
    page.get_by_label("Sök på titel eller nummer").fill("ingenting")
    expect(live).to_have_text(re.compile(r"^Antal: 0"))  # said once the results arrived
    expect(page.locator("#busy")).to_be_hidden()
    seen = page.evaluate("() => window.__busy")
    assert any(shown for shown, _ in seen), seen  # the indicator was shown during the request
    assert any(marked for _, marked in seen), seen  # and the results were marked aria-busy
    shot(page, "live-filter-done")


def _contrast(page: Any, locator: Any) -> float:
    """WCAG contrast ratio of an element's text colour on its background colour."""
    colours = locator.evaluate("e => { const s = getComputedStyle(e); return [s.color, s.backgroundColor]; }")

    def luminance(css: str) -> float:
        r, g, b = (int(x) for x in re.findall(r"\d+", css)[:3])

        def lin(c: int) -> float:
            v = c / 255
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)

    fg, bg = (luminance(c) for c in colours)
    return (max(fg, bg) + 0.05) / (min(fg, bg) + 0.05)


def test_incident_delete_button_meets_wcag_aa(new_page: Any, shot: Any, tenant: Any) -> None:
    page = new_page()
    login(page, tenant)
    page.get_by_role("heading", name="Välkommen, Admin Person").wait_for()
    page.goto("/privacy/incidents/new")
    fill_and_save(page, creating_forms(page)[0], every_field=False)
    button = page.locator("main form[action$='/delete'] button")
    assert button.inner_text() == "Radera"
    ratio = _contrast(page, button)
    assert ratio >= 4.5, ratio  # WCAG AA for normal text (it was 1.08:1)
    shot(page, "incident-delete-button")
