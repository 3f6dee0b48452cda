"""The approval SMS says what the code approves and how much (issue 20, item 9): "Godkänn
extrakostnad 2 500 kr för arbetsorder 1042: kod 123456", built once in core
(core.approvals.code_sms) from the item the module names (SignedItem), in the language the
person uses the portal in; declining says so; the e-mailed links name the item too. The
SMS body never reaches person search: neither its words nor its code are indexed."""

from __future__ import annotations

import re
from decimal import Decimal

from core.approvals import code_sms
from core.contracts import SignedItem
from core.db import raw
from core.gdpr import search as gs
from core.pages import LANG_COOKIE
from tests.integration.test_portal_approvals import _customer_browser, _sent_plan, _sent_quote, _setup
from tests.twofactor_kit import forget_last_send, last_code, sms_rows


def test_the_text_names_kind_amount_and_number() -> None:
    cost = SignedItem("extrakostnad", "extra cost", amount=Decimal("2500.00"), of_sv="arbetsorder",
                      of_en="work order", of_number=1042)
    assert code_sms(cost, "123456") == (
        "Godkänn extrakostnad 2 500 kr för arbetsorder 1042: kod 123456. Gäller i 5 minuter.")
    assert code_sms(SignedItem("offert", "quote", amount=Decimal("12500.50"), number=12, approve=False,
                               language="en"), "654321", 5) == (
        "Decline quote 12 of SEK 12,500.50: code 654321. Valid for 5 minutes.")
    # Plain spaces only (the GSM alphabet: one SMS), and no amount when there is none.
    assert "\u00a0" not in code_sms(cost, "1") and code_sms(SignedItem("avtal", "contract"), "1").startswith(
        "Godkänn avtal: kod 1.")


async def _extra_cost(admin, customer_id: int, amount: str = "2500") -> tuple[int, int]:  # type: ignore[no-untyped-def]
    order = (await admin.post("/api/workorders/", json={"title": "Badrum", "customer_id": customer_id})).json()
    r = await admin.post(f"/api/workorders/{order['id']}/extra-costs",
                         json={"description": "Extra kakel hos Per", "amount": amount})
    assert r.status_code == 201, r.text
    return int(r.json()["id"]), int(order["number"])


async def test_portal_sms_names_the_extra_cost_quote_and_plan(app, admin_client, tenant):
    ids = await _setup(admin_client, tenant)
    cost_id, order_number = await _extra_cost(admin_client, ids["customer"])
    quote_id, _token = await _sent_quote(admin_client, ids["customer"])
    quote_number = (await admin_client.get(f"/api/quotes/{quote_id}")).json()["number"]
    plan_id = await _sent_plan(admin_client, ids["customer"])
    browser = await _customer_browser(app, tenant)
    try:
        r = await browser.post(f"/api/portal/approvals/extra_cost/{cost_id}/approve", json={})
        assert r.status_code == 202, r.text
        body = (await sms_rows(tenant.id))[-1]["body"]
        code = await last_code(tenant.id)
        assert body == f"Godkänn extrakostnad 2 500 kr för arbetsorder {order_number}: kod {code}. Gäller i 5 minuter."
        assert "kakel" not in body  # never the item's free text
        await forget_last_send(tenant.id)
        r = await browser.post(f"/api/portal/approvals/quote/{quote_id}/decline", json={})
        assert r.status_code == 202, r.text
        body = (await sms_rows(tenant.id))[-1]["body"]
        assert body.startswith(f"Avböj offert {quote_number} på 2 500 kr: kod ")  # 10 x 250
        await forget_last_send(tenant.id)
        browser.cookies.set(LANG_COOKIE, "en")
        r = await browser.post(f"/api/portal/approvals/payment_plan/{plan_id}/approve", json={})
        assert r.status_code == 202, r.text
        body = (await sms_rows(tenant.id))[-1]["body"]
        assert re.fullmatch(r"Approve payment plan SEK [\d,.]+ for project \d+: code \d{6}\. Valid for 5 minutes\.",
                            body), body
    finally:
        await browser.__aexit__(None, None, None)
    # Person search finds the SMS by its recipient only: none of the body's words or codes.
    for q in ("extrakostnad", "arbetsorder", code, "Godkänn"):
        r = await admin_client.get("/api/gdpr/search", params={"q": q, "limit": 200})
        assert r.status_code == 200, r.text
        assert not [h for g in r.json()["groups"] for h in g["hits"] if g["record_type"] == "outbox"], q
        assert code not in r.text
    n = await raw(
        "SELECT COUNT(*) AS n FROM gdpr_search_term WHERE tenant_id = {} AND term IN ({}, {}, {})",
        tenant.id, gs.fold("extrakostnad"), gs.fold("arbetsorder"), code,
    )
    assert n[0]["n"] == 0


async def test_the_quote_link_sms_names_the_quote(app, admin_client, anon_client, tenant):
    ids = await _setup(admin_client, tenant, ("quotes",))
    quote_id, token = await _sent_quote(admin_client, ids["customer"])
    number = (await admin_client.get(f"/api/quotes/{quote_id}")).json()["number"]
    r = await anon_client.post(f"/api/quotes/public/{token}/accept", json={"name": "Per", "email": "per@example.org"})
    assert r.status_code == 202, r.text
    body = (await sms_rows(tenant.id))[-1]["body"]
    assert body.startswith(f"Godkänn offert {number} på 2 500 kr: kod ")
