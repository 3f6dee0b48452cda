"""In the browser, the whole data-subject request: a person asks on the organization's
public page "Mina personuppgifter", confirms with the SMS code from the outbox, the GDPR
administrator answers it in the queue, and the person downloads their data after a new
code. Swedish pages at a desktop size and the public page at a phone's 390x844."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from core.tables import Outbox
from tests.browser.conftest import login, run

PHONE = "0701234567"


async def _customer(tenant: Any) -> None:
    from plugins.customers import services as customers
    from plugins.customers.schemas import CustomerIn

    await customers.create_customer(tenant.id, CustomerIn(
        name="Karin Kund", kind="private", email="karin@example.se", mobile_phone=PHONE))


def _sms(tenant_id: int, pattern: str, after_id: int = 0, timeout: float = 15.0) -> tuple[int, str]:
    """The id and first group of ``pattern`` in the newest SMS to the tenant matching it."""
    deadline = time.monotonic() + timeout
    while True:
        rows = run(Outbox.select(Outbox.id, Outbox.body).where(
            (Outbox.tenant_id == tenant_id) & (Outbox.channel == "sms") & (Outbox.id > after_id)
        ).order_by(Outbox.id, ascending=False))
        for row in rows:
            match = re.search(pattern, row["body"])
            if match:
                return int(row["id"]), match.group(1)
        if time.monotonic() > deadline:
            raise AssertionError(f"no SMS matching {pattern!r} arrived in the outbox")
        time.sleep(0.2)


def test_person_asks_admin_answers_person_downloads(new_page: Any, browser: Any, server: str, shot: Any,
                                                    tenant: Any) -> None:
    run(_customer(tenant))
    ask_page = f"/dsr/ask/{tenant.slug}"

    # The public page on a phone.
    phone = browser.new_context(base_url=server, locale="sv-SE", viewport={"width": 390, "height": 844})
    try:
        mobile = phone.new_page()
        mobile.goto(ask_page)
        mobile.get_by_role("heading", name="Mina personuppgifter").wait_for()
        shot(mobile, "ask-phone")
        width = mobile.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    finally:
        phone.close()

    # The person asks, on a desktop.
    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(ask_page)
    page.get_by_label("Dataportabilitet (art. 20)").check()
    page.get_by_label("eller mobilnummer").fill(PHONE)
    page.get_by_label("Något vi bör veta (frivilligt)").fill("Jag vill flytta mina uppgifter.")
    shot(page, "ask")
    page.get_by_role("button", name="Skicka").click()
    page.locator("#dsr-sent").wait_for()
    shot(page, "ask-code")
    sms_id, code = _sms(tenant.id, r": (\d{6})\.")
    page.get_by_label("Kod").fill(code)
    page.get_by_role("button", name="Bekräfta").click()
    done = page.locator("#dsr-done")
    done.wait_for()
    assert "nummer 1" in done.inner_text()
    shot(page, "ask-done")

    # The administrator answers.
    admin = new_page()
    admin.set_viewport_size({"width": 1280, "height": 900})
    login(admin, tenant)
    admin.wait_for_url(re.compile(r".*/(?!login).*"))
    admin.goto("/dsr")
    admin.get_by_role("heading", name="Registrerades begäranden").wait_for()
    assert "Dataportabilitet (art. 20)" in admin.content()
    shot(admin, "queue")
    admin.get_by_role("link", name="1", exact=True).click()
    admin.locator("#dsr-status").wait_for()
    assert admin.locator("#dsr-status").inner_text() == "Kontrollerad"
    shot(admin, "request")
    admin.get_by_label("Vad som gjordes (skickas till personen)").fill("Här är dina uppgifter.")
    admin.get_by_role("button", name="Besvara begäran").click()
    admin.locator("#dsr-answer").wait_for()
    assert admin.locator("#dsr-status").inner_text() == "Besvarad"
    shot(admin, "answered")

    # The person follows the answer's link, confirms with a new code and downloads.
    sms_id, link = _sms(tenant.id, r"(/dsr/ask/\S+/answer\?token=\S+)", after_id=sms_id)
    page.goto(link)
    page.get_by_role("button", name="Skicka en kod till mig").click()
    page.locator("#dsr-code-sent").wait_for()
    _, code = _sms(tenant.id, r": (\d{6})\.", after_id=sms_id)
    page.get_by_label("Kod").fill(code)
    page.get_by_role("button", name="Bekräfta").click()
    page.locator("#dsr-ready").wait_for()
    shot(page, "answer-ready")
    with page.expect_download() as download:
        page.locator("#dsr-json").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert "Karin Kund" in text and PHONE[1:] in text.replace(" ", "")
    page.goto(page.locator("#dsr-html").get_attribute("href") or "")
    assert "Karin Kund" in page.content()
    shot(page, "answer-html")
