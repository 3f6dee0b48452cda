"""Approving and declining quotes, extra costs and payment plans inside the logged-in
customer portal (the portal's JSON API), with the SMS code of each module's context.

The customers plugin asks ``core.approvals``, which calls the ``ApprovalKind`` that quotes,
work orders (extra costs) and projects (payment plans) declare (``declare_kinds``). Codes are
read from the outbox.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine

from core.db import utcnow
from core.errors import Invalid
from core.tables import Outbox
from core.testing.client import AppClient
from plugins.portal.tests.test_portal import MOBILE, active_customer, portal_login
from plugins.projects.tables import PaymentPlan
from plugins.projects.tests.conftest import PLAN
from plugins.quotes.tables import Quote
from plugins.workorders.tables import ExtraCost
from tests.twofactor_kit import activate_sms, forget_last_send, last_code, switch

CONTEXTS = ("quotes", "extra_costs", "payment_plans")


async def _sent_quote(
    admin: AppClient, customer_id: int, contact_id: int = 0, title: str = "Ny altan"
) -> tuple[int, str]:
    r = await admin.post(
        "/api/quotes",
        json={
            "title": title,
            "customer_id": customer_id,
            "contact_person_id": contact_id,
            "lines": [{"description": "Virke", "quantity": "10", "unit_price": "250"}],
        },
    )
    assert r.status_code == 201, r.text
    quote_id = r.json()["id"]
    r = await admin.post(f"/api/quotes/{quote_id}/send", json={"email": "kund@example.se"})
    assert r.status_code == 200, r.text
    tenant = await Quote.select(Quote.tenant_id).where(Quote.id == quote_id).first()
    row = (
        await Outbox.select(Outbox.body)
        .where((Outbox.tenant_id == tenant["tenant_id"]) & (Outbox.recipient == "kund@example.se"))
        .order_by(Outbox.id, ascending=False)
        .first()
    )
    token = re.search(r"/quotes/public/([A-Za-z0-9_\-]+)", row["body"]).group(1)
    return quote_id, token


async def _extra_cost(admin: AppClient, customer_id: int) -> int:
    order = (await admin.post("/api/workorders/", json={"title": "Badrum", "customer_id": customer_id})).json()
    r = await admin.post(
        f"/api/workorders/{order['id']}/extra-costs", json={"description": "Extra kakel", "amount": "1200.50"}
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def _sent_plan(admin: AppClient, customer_id: int) -> int:
    r = await admin.post("/api/projects/", json={"title": "Tillbyggnad", "customer_id": customer_id})
    assert r.status_code == 201, r.text
    project_id = r.json()["id"]
    r = await admin.post(f"/api/projects/{project_id}/payment-plans", json=PLAN)
    assert r.status_code == 201, r.text
    plan_id = r.json()["id"]
    r = await admin.post(f"/api/projects/payment-plans/{plan_id}/send", json={"email": "plan@example.se"})
    assert r.status_code == 200, r.text
    return int(plan_id)


async def _setup(admin: AppClient, tenant: Any, contexts: tuple[str, ...] = CONTEXTS) -> dict:
    await activate_sms(admin)
    for key in contexts:
        await switch(admin, key)
    customer = await active_customer(admin, tenant, mobile_phone=MOBILE)
    return {"customer": customer["id"]}


async def _customer_browser(app: Any, tenant: Any, email: str = "per@example.org") -> AppClient:
    client = AppClient(app=app)
    await client.__aenter__()
    r = await portal_login(client, tenant, email)
    assert r.status_code == 200, r.text
    return client


async def _approve_with_code(
    browser: AppClient, tenant: Any, kind: str, item_id: int, action: str = "approve"
) -> Any:
    url = f"/api/portal/approvals/{kind}/{item_id}/{action}"
    r = await browser.post(url, json={})
    assert r.status_code == 202, r.text
    challenge = r.json()["second_factor"]["challenge_id"]
    assert r.json()["second_factor"]["masked_phone"] == "+46 70•••••67"
    v = await browser.post(
        f"/api/twofactor/challenges/{challenge}/verify",
        json={"code": await last_code(tenant.id), "tenant": tenant.slug},
    )
    assert v.status_code == 200, v.text
    return await browser.post(url, json={"challenge_id": challenge})


async def test_portal_lists_every_approval_kind(app, admin_client, tenant):
    ids = await _setup(admin_client, tenant)
    quote_id, _ = await _sent_quote(admin_client, ids["customer"])
    cost_id = await _extra_cost(admin_client, ids["customer"])
    plan_id = await _sent_plan(admin_client, ids["customer"])
    # Not the person's: a draft quote, and another customer's quote.
    await admin_client.post("/api/quotes", json={"title": "Utkast", "customer_id": ids["customer"], "lines": []})
    other = (await admin_client.post("/api/customers/", json={"name": "Annan", "kind": "private"})).json()
    await _sent_quote(admin_client, other["id"], title="Annans offert")
    browser = await _customer_browser(app, tenant)
    try:
        r = await browser.get("/api/portal/approvals")
        assert r.status_code == 200, r.text
        found = {(a["kind"], a["item_id"]): a for a in r.json()}
        assert set(found) == {("quote", quote_id), ("extra_cost", cost_id), ("payment_plan", plan_id)}
        assert found[("quote", quote_id)]["total"] == "2500.00" or float(found[("quote", quote_id)]["total"]) == 2500
        assert float(found[("extra_cost", cost_id)]["total"]) == 1200.5
        assert float(found[("payment_plan", plan_id)]["total"]) == 15000.5
        assert found[("quote", quote_id)]["label_sv"] == "Offert"
        # Without a portal session there is nothing to list.
        async with AppClient(app=app) as stranger:
            assert (await stranger.get("/api/portal/approvals")).status_code == 401
    finally:
        await browser.__aexit__(None, None, None)


async def test_portal_decides_through_the_owner_of_the_kind(app, admin_client, tenant):
    """Approve a quote and a payment plan, decline an extra cost, each with its SMS code."""
    ids = await _setup(admin_client, tenant)
    quote_id, _ = await _sent_quote(admin_client, ids["customer"])
    cost_id = await _extra_cost(admin_client, ids["customer"])
    plan_id = await _sent_plan(admin_client, ids["customer"])
    browser = await _customer_browser(app, tenant)
    try:
        r = await _approve_with_code(browser, tenant, "quote", quote_id)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "approved" and r.json()["decided_at"]
        quote = (await admin_client.get(f"/api/quotes/{quote_id}")).json()
        assert quote["status"] == "accepted"
        assert quote["approver_name"] == "Per Privat" and quote["approver_phone"] == "+46 70•••••67"
        assert quote["approver_email"] == "per@example.org"

        await forget_last_send(tenant.id)
        r = await _approve_with_code(browser, tenant, "extra_cost", cost_id, "decline")
        assert r.status_code == 200 and r.json()["status"] == "declined", r.text
        line = await ExtraCost.select().where(ExtraCost.id == cost_id).first()
        assert line["declined_at"] is not None and line["approved_at"] is None

        await forget_last_send(tenant.id)
        r = await _approve_with_code(browser, tenant, "payment_plan", plan_id)
        assert r.status_code == 200 and r.json()["status"] == "approved", r.text
        plan = await PaymentPlan.select().where(PaymentPlan.id == plan_id).first()
        assert plan["status"] == "approved" and plan["approver_phone"] == "+46 70•••••67"

        assert (await browser.get("/api/portal/approvals")).json() == []
        # A kind no module owns, and bad path values.
        assert (await browser.post("/api/portal/approvals/invoice/1/approve", json={})).status_code == 404
        assert (await browser.post(f"/api/portal/approvals/{'x' * 40}/1/approve", json={})).status_code == 400
        assert (await browser.post("/api/portal/approvals/quote/0/approve", json={})).status_code == 400
    finally:
        await browser.__aexit__(None, None, None)


async def test_without_sms_context_the_portal_approves_at_once(app, admin_client, tenant):
    ids = await _setup(admin_client, tenant, contexts=())
    quote_id, _ = await _sent_quote(admin_client, ids["customer"])
    browser = await _customer_browser(app, tenant)
    try:
        r = await browser.post(f"/api/portal/approvals/quote/{quote_id}/decline", json={})
        assert r.status_code == 200 and r.json()["status"] == "declined", r.text
        quote = (await admin_client.get(f"/api/quotes/{quote_id}")).json()
        assert quote["status"] == "declined" and quote["accepted_at"] is None
    finally:
        await browser.__aexit__(None, None, None)


async def test_wrong_code_approves_nothing(app, admin_client, tenant):
    ids = await _setup(admin_client, tenant)
    quote_id, _ = await _sent_quote(admin_client, ids["customer"])
    browser = await _customer_browser(app, tenant)
    try:
        url = f"/api/portal/approvals/quote/{quote_id}/approve"
        r = await browser.post(url, json={})
        challenge = r.json()["second_factor"]["challenge_id"]
        right = await last_code(tenant.id)
        wrong = "000000" if right != "000000" else "111111"
        v = await browser.post(
            f"/api/twofactor/challenges/{challenge}/verify", json={"code": wrong, "tenant": tenant.slug}
        )
        assert v.status_code == 400
        r = await browser.post(url, json={"challenge_id": challenge})
        assert r.status_code == 409 and "SMS code" in r.json()["detail"]
        assert (await Quote.select(Quote.status).where(Quote.id == quote_id).first())["status"] == "sent"
        # A made-up challenge id is no better.
        r = await browser.post(url, json={"challenge_id": "made-up"})
        assert r.status_code == 409
        assert (await Quote.select(Quote.status).where(Quote.id == quote_id).first())["status"] == "sent"
    finally:
        await browser.__aexit__(None, None, None)


async def test_expired_code_approves_nothing(app, admin_client, tenant):
    ids = await _setup(admin_client, tenant)
    quote_id, _ = await _sent_quote(admin_client, ids["customer"])
    cost_id = await _extra_cost(admin_client, ids["customer"])
    browser = await _customer_browser(app, tenant)
    try:
        url = f"/api/portal/approvals/quote/{quote_id}/approve"
        r = await browser.post(url, json={})
        challenge = r.json()["second_factor"]["challenge_id"]
        code = await last_code(tenant.id)
        with time_machine.travel(utcnow() + timedelta(minutes=6), tick=False):
            v = await browser.post(
                f"/api/twofactor/challenges/{challenge}/verify", json={"code": code, "tenant": tenant.slug}
            )
            assert v.status_code in (409, 410), v.text
            r = await browser.post(url, json={"challenge_id": challenge})
            assert r.status_code == 409
        assert (await Quote.select(Quote.status).where(Quote.id == quote_id).first())["status"] == "sent"

        # A verified code must be used within 10 minutes.
        await forget_last_send(tenant.id)
        url = f"/api/portal/approvals/extra_cost/{cost_id}/approve"
        r = await browser.post(url, json={})
        challenge = r.json()["second_factor"]["challenge_id"]
        v = await browser.post(
            f"/api/twofactor/challenges/{challenge}/verify",
            json={"code": await last_code(tenant.id), "tenant": tenant.slug},
        )
        assert v.status_code == 200
        with time_machine.travel(utcnow() + timedelta(minutes=11), tick=False):
            r = await browser.post(url, json={"challenge_id": challenge})
            assert r.status_code == 409 and "10 minutes" in r.json()["detail"]
        assert (await ExtraCost.select(ExtraCost.approved_at).where(ExtraCost.id == cost_id).first())[
            "approved_at"
        ] is None
    finally:
        await browser.__aexit__(None, None, None)


async def test_another_customers_item_is_not_found(app, admin_client, tenant):
    ids = await _setup(admin_client, tenant)
    other = (
        await admin_client.post("/api/customers/", json={"name": "Annan", "kind": "private", "mobile_phone": MOBILE})
    ).json()
    quote_id, _ = await _sent_quote(admin_client, other["id"])
    cost_id = await _extra_cost(admin_client, other["id"])
    plan_id = await _sent_plan(admin_client, other["id"])
    # A quote of the person's customer that names a contact person is that contact's.
    company_contact = (
        await admin_client.post(
            f"/api/customers/{ids['customer']}/contacts", json={"name": "Kontakt", "mobile_phone": MOBILE}
        )
    ).json()
    named_id, _ = await _sent_quote(admin_client, ids["customer"], company_contact["id"])
    browser = await _customer_browser(app, tenant)
    try:
        for kind, item in (
            ("quote", quote_id),
            ("extra_cost", cost_id),
            ("payment_plan", plan_id),
            ("quote", named_id),
        ):
            for action in ("approve", "decline"):
                r = await browser.post(f"/api/portal/approvals/{kind}/{item}/{action}", json={})
                assert r.status_code == 404, (kind, r.text)
        assert (await browser.get("/api/portal/approvals")).json() == []
        assert await Outbox.count().where((Outbox.tenant_id == tenant.id) & (Outbox.channel == "sms")) == 0
        assert (await Quote.select(Quote.status).where(Quote.id == quote_id).first())["status"] == "sent"
    finally:
        await browser.__aexit__(None, None, None)


async def test_another_tenants_item_is_not_found(app, admin_client, tenant, other_client, other_tenant):
    ids = await _setup(admin_client, tenant, contexts=())
    their_customer = (await other_client.post("/api/customers/", json={"name": "Per Privat", "kind": "private"})).json()
    their_quote, _ = await _sent_quote(other_client, their_customer["id"])
    their_cost = await _extra_cost(other_client, their_customer["id"])
    their_plan = await _sent_plan(other_client, their_customer["id"])
    # Make the other tenant's customer id collide with ours where it can.
    await Quote.update({Quote.customer_id: ids["customer"]}).where(Quote.id == their_quote)
    browser = await _customer_browser(app, tenant)
    try:
        for kind, item in (("quote", their_quote), ("extra_cost", their_cost), ("payment_plan", their_plan)):
            r = await browser.post(f"/api/portal/approvals/{kind}/{item}/approve", json={})
            assert r.status_code == 404, (kind, r.text)
        assert (await Quote.select(Quote.status).where(Quote.id == their_quote).first())["status"] == "sent"
        assert (await browser.get("/api/portal/approvals")).json() == []
    finally:
        await browser.__aexit__(None, None, None)


async def test_double_approval_is_a_conflict(app, admin_client, tenant):
    ids = await _setup(admin_client, tenant)
    quote_id, _ = await _sent_quote(admin_client, ids["customer"])
    browser = await _customer_browser(app, tenant)
    try:
        r = await _approve_with_code(browser, tenant, "quote", quote_id)
        assert r.status_code == 200
        for action in ("approve", "decline"):
            again = await browser.post(f"/api/portal/approvals/quote/{quote_id}/{action}", json={})
            assert again.status_code == 409 and again.json()["detail"] == "This quote is already accepted."
        # No new SMS was sent for a decided item.
        assert await Outbox.count().where((Outbox.tenant_id == tenant.id) & (Outbox.channel == "sms")) == 1
    finally:
        await browser.__aexit__(None, None, None)


async def test_item_already_accepted_from_the_email_link(app, admin_client, anon_client, tenant):
    ids = await _setup(admin_client, tenant, contexts=("extra_costs",))
    quote_id, token = await _sent_quote(admin_client, ids["customer"])
    r = await anon_client.post(
        f"/api/quotes/public/{token}/accept", json={"name": "Per Privat", "email": "per@example.org"}
    )
    assert r.status_code == 200, r.text
    browser = await _customer_browser(app, tenant)
    try:
        assert (await browser.get("/api/portal/approvals")).json() == []
        r = await browser.post(f"/api/portal/approvals/quote/{quote_id}/approve", json={})
        assert r.status_code == 409 and "already accepted" in r.json()["detail"]
        # ...and the other way round: declined in the portal, the e-mail link says so.
        second, token2 = await _sent_quote(admin_client, ids["customer"], title="Staket")
        r = await browser.post(f"/api/portal/approvals/quote/{second}/decline", json={})
        assert r.status_code == 200
        r = await anon_client.post(
            f"/api/quotes/public/{token2}/accept", json={"name": "Per", "email": "per@example.org"}
        )
        assert r.status_code == 409 and "declined" in r.json()["detail"]
    finally:
        await browser.__aexit__(None, None, None)


async def test_pending_steps_end_with_their_time_and_their_account(app, admin_client, tenant):
    """The pages' pending SMS steps are purged once expired, and go at once when the
    account is closed."""
    from plugins.portal import services as portal
    from plugins.portal.tables import PortalAccount, PortalPending

    await _setup(admin_client, tenant, contexts=())
    account = await PortalAccount.select().where(PortalAccount.tenant_id == tenant.id).first()
    await portal.start_pending(account, "login", "binder-1")
    await portal.start_pending(account, "login", "binder-2")
    mine = PortalPending.tenant_id == tenant.id
    assert await PortalPending.count().where(mine) == 2
    row = await PortalPending.select().where(mine).first()
    assert row["binder_hash"] != "binder-1" and len(row["token_hash"]) == 64
    await portal.purge_expired(utcnow() + timedelta(minutes=5))
    assert await PortalPending.count().where(mine) == 2
    await portal.purge_expired(utcnow() + timedelta(minutes=11))
    assert await PortalPending.count().where(mine) == 0
    token = await portal.start_pending(account, "login", "binder-3")
    await portal.disable(tenant.id, int(account["id"]))
    assert await PortalPending.count().where(mine) == 0
    with pytest.raises(Invalid) as refused:
        await portal.finish_pending(tenant.slug, token, "login", "binder-3", None, None, "")
    assert refused.value.code == "portal.step_expired"


async def test_contact_person_approves_for_the_company(app, admin_client, tenant):
    """A contact person of a company sees the company's items that name them or nobody,
    not those naming a colleague, and signs with their own phone."""
    from plugins.portal.tests.test_portal import portal_account
    from tests.support import make_contact, make_customer

    await activate_sms(admin_client)
    await switch(admin_client, "quotes")
    company = await make_customer(admin_client, name="Bygg AB")
    karin = await make_contact(admin_client, company["id"], name="Karin Kontakt", mobile_phone="+46731112233")
    colleague = await make_contact(admin_client, company["id"], name="Kalle Kollega", mobile_phone=MOBILE)
    await portal_account(admin_client, tenant, f"contacts/{karin['id']}", "karin@bygg.example")
    for_karin, _ = await _sent_quote(admin_client, company["id"], karin["id"], title="Till Karin")
    for_anyone, _ = await _sent_quote(admin_client, company["id"], 0, title="Till företaget")
    for_colleague, _ = await _sent_quote(admin_client, company["id"], colleague["id"], title="Till Kalle")
    browser = await _customer_browser(app, tenant, "karin@bygg.example")
    try:
        listed = {a["item_id"] for a in (await browser.get("/api/portal/approvals")).json()}
        assert listed == {for_karin, for_anyone}
        r = await browser.post(f"/api/portal/approvals/quote/{for_colleague}/approve", json={})
        assert r.status_code == 404
        r = await browser.post(f"/api/portal/approvals/quote/{for_anyone}/approve", json={})
        assert r.status_code == 202 and r.json()["second_factor"]["masked_phone"] == "+46 73•••••33"
        challenge = r.json()["second_factor"]["challenge_id"]
        v = await browser.post(
            f"/api/twofactor/challenges/{challenge}/verify",
            json={"code": await last_code(tenant.id), "tenant": tenant.slug},
        )
        assert v.status_code == 200
        r = await browser.post(f"/api/portal/approvals/quote/{for_anyone}/approve", json={"challenge_id": challenge})
        assert r.status_code == 200
        quote = (await admin_client.get(f"/api/quotes/{for_anyone}")).json()
        assert quote["status"] == "accepted" and quote["approver_name"] == "Karin Kontakt"
    finally:
        await browser.__aexit__(None, None, None)


async def test_a_code_decides_only_what_it_was_sent_for(app, admin_client, tenant):
    ids = await _setup(admin_client, tenant)
    first, _ = await _sent_quote(admin_client, ids["customer"], title="Altan")
    second, _ = await _sent_quote(admin_client, ids["customer"], title="Staket")
    browser = await _customer_browser(app, tenant)
    try:
        r = await browser.post(f"/api/portal/approvals/quote/{first}/approve", json={})
        challenge = r.json()["second_factor"]["challenge_id"]
        v = await browser.post(
            f"/api/twofactor/challenges/{challenge}/verify",
            json={"code": await last_code(tenant.id), "tenant": tenant.slug},
        )
        assert v.status_code == 200
        # The verified code of the first quote neither approves the second one...
        r = await browser.post(f"/api/portal/approvals/quote/{second}/approve", json={"challenge_id": challenge})
        assert r.status_code == 409 and "another item" in r.json()["detail"]
        # ...nor declines the first one.
        r = await browser.post(f"/api/portal/approvals/quote/{first}/decline", json={"challenge_id": challenge})
        assert r.status_code == 409 and "another item" in r.json()["detail"]
        statuses = {
            q["id"]: q["status"]
            for q in await Quote.select(Quote.id, Quote.status).where(Quote.id.is_in([first, second]))
        }
        assert statuses == {first: "sent", second: "sent"}
        # It still approves what it was sent for, once.
        r = await browser.post(f"/api/portal/approvals/quote/{first}/approve", json={"challenge_id": challenge})
        assert r.status_code == 200 and r.json()["status"] == "approved"
        r = await browser.post(f"/api/portal/approvals/quote/{second}/approve", json={"challenge_id": challenge})
        assert r.status_code == 409
        assert (await Quote.select(Quote.status).where(Quote.id == second).first())["status"] == "sent"
    finally:
        await browser.__aexit__(None, None, None)
