"""Quotes: CRUD, life cycle, validation, tenant isolation and the public link."""

from __future__ import annotations

from datetime import date, timedelta

from core.tables import Outbox
from plugins.quotes.tables import Quote, QuoteLine, QuoteView
from plugins.quotes.tests.conftest import LINES, make_quote, send_quote
from tests.support import each_answers


async def test_create_get_list_and_totals(admin_client):
    quote = await make_quote(admin_client, valid_until="2099-01-31", description="Trall och räcke")
    assert quote["number"] >= 1
    assert quote["status"] == "draft"
    assert quote["customer_id"] and quote["contact_person_id"]  # make_quote's new customer's
    assert [line["amount"] for line in quote["lines"]] == ["5200.00", "1800.75"]
    assert quote["total"] == "7000.75"
    second = await make_quote(admin_client)  # another customer
    assert second["number"] == quote["number"] + 1

    got = (await admin_client.get(f"/api/quotes/{quote['id']}")).json()
    assert got == quote
    page = (await admin_client.get("/api/quotes/", params={"customer_id": quote["customer_id"]})).json()
    assert [q["id"] for q in page["items"]] == [quote["id"]]
    assert page["total"] == 1
    page = (await admin_client.get("/api/quotes/", params={"limit": 1})).json()
    assert page["total"] == 2 and len(page["items"]) == 1 and page["items"][0]["id"] == second["id"]
    page = (await admin_client.get("/api/quotes/", params={"q": "altan", "status": "draft"})).json()
    assert page["total"] == 2
    page = (await admin_client.get("/api/quotes/", params={"status": "sent"})).json()
    assert page["total"] == 0


async def test_paging_limit_is_capped(admin_client):
    assert (await admin_client.get("/api/quotes/", params={"limit": 201})).status_code == 400
    assert (await admin_client.get("/api/quotes/", params={"limit": 0})).status_code == 400
    assert (await admin_client.get("/api/quotes/", params={"offset": -1})).status_code == 400
    assert (await admin_client.get("/api/quotes/", params={"status": "bogus"})).status_code == 400
    assert (await admin_client.get("/api/quotes/", params={"limit": 200})).status_code == 200


async def test_edit_and_lines(admin_client):
    quote = await make_quote(admin_client)
    # No customer, but still the customer's contact person: refused, naming the field.
    r = await admin_client.patch(f"/api/quotes/{quote['id']}", json={"title": "Altan 2", "customer_id": 0})
    assert r.status_code == 400 and r.json()["field"] == "contact_person_id", r.text
    r = await admin_client.patch(
        f"/api/quotes/{quote['id']}", json={"title": "Altan 2", "customer_id": 0, "contact_person_id": 0}
    )
    assert r.status_code == 200
    assert r.json()["title"] == "Altan 2" and r.json()["customer_id"] == 0
    r = await admin_client.post(
        f"/api/quotes/{quote['id']}/lines", json={"description": "Frakt", "quantity": 1, "unit_price": "499"}
    )
    assert r.status_code == 201
    lines = r.json()["lines"]
    assert lines[-1]["description"] == "Frakt" and r.json()["total"] == "7499.75"
    line_id = lines[-1]["id"]
    r = await admin_client.patch(f"/api/quotes/lines/{line_id}", json={"unit_price": "0"})
    assert r.status_code == 200 and r.json()["total"] == "7000.75"
    r = await admin_client.delete(f"/api/quotes/lines/{line_id}")
    assert r.status_code == 200 and len(r.json()["lines"]) == 2
    r = await admin_client.patch(f"/api/quotes/{quote['id']}", json={"clear_valid_until": True})
    assert r.status_code == 200 and r.json()["valid_until"] is None


async def test_life_cycle(admin_client):
    quote = await make_quote(admin_client)
    qid = quote["id"]
    token = await send_quote(admin_client, qid)
    assert token
    got = (await admin_client.get(f"/api/quotes/{qid}")).json()
    assert got["status"] == "sent" and got["sent_at"] and got["sent_to_email"] == "kund@example.se"

    closed = (await admin_client.post(f"/api/quotes/{qid}/close")).json()
    assert closed["status"] == "closed" and closed["closed_at"]
    assert (await admin_client.patch(f"/api/quotes/{qid}", json={"title": "x"})).status_code == 409
    reopened = (await admin_client.post(f"/api/quotes/{qid}/reopen")).json()
    assert reopened["status"] == "sent" and reopened["closed_at"] is None
    voided = (await admin_client.post(f"/api/quotes/{qid}/void")).json()
    assert voided["status"] == "voided" and voided["voided_at"]
    assert (await admin_client.post(f"/api/quotes/{qid}/reopen")).status_code == 409
    assert (await admin_client.post(f"/api/quotes/{qid}/send", json={"email": "a@b.se"})).status_code == 409
    # The link of a voided quote is dead.
    assert (await admin_client.get(f"/api/quotes/public/{token}")).status_code == 404

    deleted = (await admin_client.delete(f"/api/quotes/{qid}")).json()
    assert deleted["deleted_at"]
    assert (await admin_client.get("/api/quotes/")).json()["total"] == 0
    assert (await admin_client.get("/api/quotes/", params={"include_deleted": True})).json()["total"] == 1
    assert (await admin_client.delete(f"/api/quotes/{qid}")).json()["deleted_at"] == deleted["deleted_at"]
    assert (await admin_client.post(f"/api/quotes/{qid}/lines", json=LINES[0])).status_code == 409


async def test_send_needs_lines_and_a_valid_address(admin_client):
    quote = await make_quote(admin_client, lines=[])
    r = await admin_client.post(f"/api/quotes/{quote['id']}/send", json={"email": "kund@example.se"})
    assert r.status_code == 409
    quote = await make_quote(admin_client)
    before = await Outbox.count()
    r = await admin_client.post(f"/api/quotes/{quote['id']}/send", json={"email": "not-an-address"})
    assert r.status_code == 400 and r.json()["field"] == "email"
    assert await Outbox.count() == before
    assert (await admin_client.get(f"/api/quotes/{quote['id']}")).json()["status"] == "draft"


async def test_resend_replaces_the_link(admin_client, anon_client):
    quote = await make_quote(admin_client)
    first = await send_quote(admin_client, quote["id"], "forsta@example.se")
    second = await send_quote(admin_client, quote["id"], "andra@example.se")
    assert first != second
    assert (await anon_client.get(f"/api/quotes/public/{first}")).status_code == 404
    assert (await anon_client.get(f"/api/quotes/public/{second}")).status_code == 200
    row = await Quote.select(Quote.public_token_hash).where(Quote.id == quote["id"]).first()
    assert row["public_token_hash"] != second  # only the hash is stored


BAD_QUOTES = [
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"customer_id": -1}, "customer_id"),
    ({"contact_person_id": 2**31}, "contact_person_id"),
    ({"customer_id": "elva"}, "customer_id"),
    ({"valid_until": "31/01/2099"}, "valid_until"),
    ({"lines": [{"description": "", "quantity": 1, "unit_price": 1}]}, "description"),
    ({"lines": [{"description": "a", "quantity": 0, "unit_price": 1}]}, "quantity"),
    ({"lines": [{"description": "a", "quantity": "NaN", "unit_price": 1}]}, "quantity"),
    ({"lines": [{"description": "a", "quantity": 1, "unit_price": "1.005"}]}, "unit_price"),
    ({"lines": [{"description": "a", "quantity": 1, "unit_price": "1e12"}]}, "unit_price"),
    ({"lines": [{"description": "a", "quantity": 1, "unit_price": 1, "vat": 25}]}, "vat"),
    ({"surprise": 1}, "surprise"),
]


async def test_bad_quote_input_is_400_naming_the_field_and_writes_nothing(admin_client, tenant):
    for patch, field in BAD_QUOTES:
        body = {"title": "Ny altan", **patch}
        r = await admin_client.post("/api/quotes/", json=body)
        assert r.status_code == 400, (patch, r.text)
        assert field in r.text, (patch, r.text)
    assert await Quote.count().where(Quote.tenant_id == tenant.id) == 0
    assert await QuoteLine.count().where(QuoteLine.tenant_id == tenant.id) == 0


async def test_bad_input_on_every_other_write_endpoint(admin_client, tenant):
    quote = await make_quote(admin_client)
    qid, line_id = quote["id"], quote["lines"][0]["id"]
    cases = [
        ("patch", f"/api/quotes/{qid}", {"title": ""}),
        ("patch", f"/api/quotes/{qid}", {"customer_id": -5}),
        ("patch", f"/api/quotes/{qid}", {"valid_until": "2099-01-01", "clear_valid_until": True}),
        ("patch", f"/api/quotes/{qid}", {"nope": True}),
        ("post", f"/api/quotes/{qid}/lines", {"description": "a", "quantity": -1, "unit_price": 1}),
        ("post", f"/api/quotes/{qid}/lines", {"description": "a"}),
        ("patch", f"/api/quotes/lines/{line_id}", {"quantity": "abc"}),
        ("patch", f"/api/quotes/lines/{line_id}", {"description": "  "}),
        ("post", f"/api/quotes/{qid}/send", {"email": ""}),
        ("post", f"/api/quotes/{qid}/send", {}),
    ]
    for method, url, body in cases:
        r = await getattr(admin_client, method)(url, json=body)
        assert r.status_code == 400, (url, body, r.text)
    r = await admin_client.post(
        f"/api/quotes/{qid}/lines", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert (await admin_client.get(f"/api/quotes/{qid}")).json() == quote


async def test_login_is_required(client):
    for method, url in [
        ("get", "/api/quotes/"),
        ("post", "/api/quotes/"),
        ("get", "/api/quotes/1"),
        ("patch", "/api/quotes/1"),
        ("delete", "/api/quotes/1"),
        ("post", "/api/quotes/1/send"),
        ("post", "/api/quotes/1/close"),
        ("post", "/api/quotes/1/void"),
        ("post", "/api/quotes/1/reopen"),
        ("post", "/api/quotes/1/lines"),
        ("patch", "/api/quotes/lines/1"),
        ("delete", "/api/quotes/lines/1"),
        ("get", "/api/quotes/1/views"),
        ("get", "/api/quotes/views/1"),
        ("get", "/api/quotes/settings"),
    ]:
        kwargs = {"json": {}} if method in ("post", "patch") else {}
        r = await getattr(client, method)(url, **kwargs)
        assert r.status_code == 401, (method, url, r.status_code)


async def test_other_tenants_ids_are_404_everywhere(admin_client, other_client):
    quote = await make_quote(admin_client)
    token = await send_quote(admin_client, quote["id"])
    await admin_client.get(f"/api/quotes/public/{token}")
    view_id = (await admin_client.get(f"/api/quotes/{quote['id']}/views")).json()["items"][0]["id"]
    qid, line_id = quote["id"], quote["lines"][0]["id"]
    calls = [
        ("get", f"/api/quotes/{qid}", None),
        ("patch", f"/api/quotes/{qid}", {"title": "Stulen"}),
        ("delete", f"/api/quotes/{qid}", None),
        ("post", f"/api/quotes/{qid}/send", {"email": "tjuv@example.se"}),
        ("post", f"/api/quotes/{qid}/close", None),
        ("post", f"/api/quotes/{qid}/void", None),
        ("post", f"/api/quotes/{qid}/reopen", None),
        ("post", f"/api/quotes/{qid}/lines", LINES[0]),
        ("patch", f"/api/quotes/lines/{line_id}", {"description": "Stulen"}),
        ("delete", f"/api/quotes/lines/{line_id}", None),
        ("get", f"/api/quotes/{qid}/views", None),
        ("get", f"/api/quotes/views/{view_id}", None),
    ]
    await each_answers(other_client, 404, calls)
    assert (await other_client.get("/api/quotes/")).json()["total"] == 0
    assert (await other_client.get("/api/quotes/", params={"customer_id": quote["customer_id"]})).json()["total"] == 0
    # Nothing changed for the owner.
    after = (await admin_client.get(f"/api/quotes/{qid}")).json()
    assert after["title"] == quote["title"] and after["status"] == "sent" and len(after["lines"]) == 2


async def test_public_view_logs_email_and_ip(admin_client, anon_client, tenant):
    quote = await make_quote(admin_client)
    token = await send_quote(admin_client, quote["id"], "Kund@Example.se")
    r = await anon_client.get(f"/api/quotes/public/{token}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["title"] == "Ny altan" and body["total"] == "7000.75" and body["can_accept"] is True
    assert body["organization"].startswith("Org ")
    assert "customer_id" not in body and "sent_to_email" not in body
    views = await QuoteView.select().where(QuoteView.quote_id == quote["id"])
    assert len(views) == 1
    assert views[0]["email"] == "kund@example.se"
    assert views[0]["ip"]  # the test client's address
    assert views[0]["tenant_id"] == tenant.id
    listed = (await admin_client.get(f"/api/quotes/{quote['id']}/views")).json()
    assert listed["total"] == 1 and listed["items"][0]["email"] == "kund@example.se"


async def test_public_accept_records_the_approver(admin_client, anon_client):
    quote = await make_quote(admin_client)
    token = await send_quote(admin_client, quote["id"])
    r = await anon_client.post(
        f"/api/quotes/public/{token}/accept", json={"name": " Anna Andersson ", "email": "Anna@Example.se"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted" and r.json()["accepted_at"]
    got = (await admin_client.get(f"/api/quotes/{quote['id']}")).json()
    assert got["status"] == "accepted"
    assert got["approver_name"] == "Anna Andersson"
    assert got["approver_email"] == "anna@example.se"
    assert got["approver_phone"] == ""  # no SMS signing asked
    assert got["accepted_at"]
    again = await anon_client.post(
        f"/api/quotes/public/{token}/accept", json={"name": "Anna", "email": "anna@example.se"}
    )
    assert again.status_code == 409
    shown = (await anon_client.get(f"/api/quotes/public/{token}")).json()
    assert shown["status"] == "accepted" and shown["can_accept"] is False


async def test_public_accept_bad_input_and_unknown_token(admin_client, anon_client):
    quote = await make_quote(admin_client)
    token = await send_quote(admin_client, quote["id"])
    for body, field in [
        ({"name": "", "email": "a@b.se"}, "name"),
        ({"name": "  ", "email": "a@b.se"}, "name"),
        ({"name": "Anna", "email": "nope"}, "email"),
        ({"name": "Anna"}, "email"),
        ({"name": "Anna", "email": "a@b.se", "x": 1}, "x"),
    ]:
        r = await anon_client.post(f"/api/quotes/public/{token}/accept", json=body)
        assert r.status_code == 400, (body, r.text)
        assert field in r.text
    assert (await admin_client.get(f"/api/quotes/{quote['id']}")).json()["status"] == "sent"
    assert (await anon_client.get("/api/quotes/public/no-such-token")).status_code == 404
    assert (await anon_client.get("/api/quotes/public/" + "a" * 300)).status_code in (400, 404)
    r = await anon_client.post("/api/quotes/public/no-such-token/accept", json={"name": "A", "email": "a@b.se"})
    assert r.status_code == 404
    assert await QuoteView.count().where(QuoteView.quote_id == quote["id"]) == 0


async def test_expired_or_closed_quote_cannot_be_accepted(admin_client, anon_client):
    quote = await make_quote(admin_client, valid_until=(date.today() - timedelta(days=2)).isoformat())
    token = await send_quote(admin_client, quote["id"])
    assert (await anon_client.get(f"/api/quotes/public/{token}")).json()["can_accept"] is False
    r = await anon_client.post(f"/api/quotes/public/{token}/accept", json={"name": "A", "email": "a@b.se"})
    assert r.status_code == 409
    quote = await make_quote(admin_client)
    token = await send_quote(admin_client, quote["id"])
    await admin_client.post(f"/api/quotes/{quote['id']}/close")
    assert (await anon_client.get(f"/api/quotes/public/{token}")).status_code == 200
    r = await anon_client.post(f"/api/quotes/public/{token}/accept", json={"name": "A", "email": "a@b.se"})
    assert r.status_code == 409


async def test_public_link_of_a_tenant_without_the_module_is_404(admin_client, anon_client):
    quote = await make_quote(admin_client)
    token = await send_quote(admin_client, quote["id"])
    r = await admin_client.put("/api/modules/quotes", json={"enabled": False})
    assert r.status_code == 200
    assert (await anon_client.get(f"/api/quotes/public/{token}")).status_code == 404
    r = await anon_client.post(f"/api/quotes/public/{token}/accept", json={"name": "A", "email": "a@b.se"})
    assert r.status_code == 404
    # The employees' API is gone too.
    assert (await admin_client.get("/api/quotes/")).status_code == 404
    assert await QuoteView.count().where(QuoteView.quote_id == quote["id"]) == 0


async def test_public_link_works_for_a_logged_in_person_of_another_tenant(admin_client, other_client):
    """The module guard leaves public links alone: the link is the key, not the session."""
    quote = await make_quote(admin_client)
    token = await send_quote(admin_client, quote["id"])
    assert (await other_client.put("/api/modules/quotes", json={"enabled": False})).status_code == 200
    assert (await other_client.get(f"/api/quotes/public/{token}")).status_code == 200


async def test_acceptance_with_sms_signing(admin_client, anon_client, two_factor):
    quote = await make_quote(admin_client)
    token = await send_quote(admin_client, quote["id"])
    body = {"name": "Anna Andersson", "email": "anna@example.se"}
    r = await anon_client.post(f"/api/quotes/public/{token}/accept", json=body)
    assert r.status_code == 202, r.text
    challenge = r.json()["second_factor"]
    assert r.json()["status"] == "second_factor_required"
    assert challenge["challenge_id"] == "ch-1" and challenge["masked_phone"] == "+46 70•••••67"
    asked = two_factor.requests[0]
    assert (
        asked.context == "quotes" and asked.person_kind == "contact" and asked.person_id == quote["contact_person_id"]
    )
    assert (await admin_client.get(f"/api/quotes/{quote['id']}")).json()["status"] == "sent"
    # A challenge that was not verified does not accept.
    r = await anon_client.post(f"/api/quotes/public/{token}/accept", json={**body, "challenge_id": "ch-1"})
    assert r.status_code == 202
    assert (await admin_client.get(f"/api/quotes/{quote['id']}")).json()["status"] == "sent"
    two_factor.verified.add("ch-1")
    r = await anon_client.post(f"/api/quotes/public/{token}/accept", json={**body, "challenge_id": "ch-1"})
    assert r.status_code == 200, r.text
    got = (await admin_client.get(f"/api/quotes/{quote['id']}")).json()
    assert got["status"] == "accepted" and got["approver_phone"] == "+46 70•••••67"


async def test_acceptance_refused_when_the_phone_is_missing(admin_client, anon_client, two_factor):
    two_factor.error = "The phone number is missing; contact an administrator."
    quote = await make_quote(admin_client, contact_person_id=0)
    token = await send_quote(admin_client, quote["id"])
    r = await anon_client.post(f"/api/quotes/public/{token}/accept", json={"name": "A", "email": "a@b.se"})
    assert r.status_code == 409
    assert "phone number is missing" in r.text
    assert two_factor.requests[0].person_kind == "customer" and two_factor.requests[0].person_id == quote["customer_id"]
    assert (await admin_client.get(f"/api/quotes/{quote['id']}")).json()["status"] == "sent"



async def test_concurrent_creates_get_distinct_numbers(tenant):
    """Five creates racing in one tenant: five different numbers, none refused."""
    import asyncio

    from plugins.quotes.schemas import QuoteIn
    from plugins.quotes.services import create_quote

    made = await asyncio.gather(*[create_quote(tenant.id, 0, QuoteIn(title=f"Q{i}")) for i in range(5)])
    numbers = sorted(q["number"] for q in made)
    assert numbers == [1, 2, 3, 4, 5]


async def test_every_change_is_in_the_event_log(admin_client, anon_client, tenant):
    """#18.4: the service logs each step (the employee from the context; the customer's
    acceptance has no employee), with the action names the record layer uses."""
    from core.eventlog import EventLog

    quote = await make_quote(admin_client)
    qid = quote["id"]
    assert (await admin_client.patch(f"/api/quotes/{qid}", json={"title": "Altan 2"})).status_code == 200
    token = await send_quote(admin_client, qid)
    r = await anon_client.post(f"/api/quotes/public/{token}/accept", json={"name": "Anna", "email": "anna@example.se"})
    assert r.status_code == 200, r.text
    assert (await admin_client.post(f"/api/quotes/{qid}/close")).status_code == 200
    assert (await admin_client.post(f"/api/quotes/{qid}/reopen")).status_code == 200
    assert (await admin_client.delete(f"/api/quotes/{qid}")).status_code == 200
    rows = await EventLog.select().where(
        (EventLog.tenant_id == tenant.id) & (EventLog.record_type == "quote") & (EventLog.record_id == qid)
    ).order_by(EventLog.id)
    assert [r["action"] for r in rows] == [
        "quote.created", "quote.edited", "quote.sent", "quote.accepted", "quote.closed",
        "quote.reopened", "quote.deleted",
    ]
    assert {r["plugin"] for r in rows} == {"quotes"}
    by_employee = [r for r in rows if r["action"] != "quote.accepted"]
    assert all(r["employee_id"] for r in by_employee)
    assert next(r for r in rows if r["action"] == "quote.accepted")["employee_id"] is None


async def test_refusals_carry_codes(admin_client):
    """#18.2: a refusal says what went wrong as a stable code besides the text."""
    quote = await make_quote(admin_client)
    r = await admin_client.patch(f"/api/quotes/{quote['id']}", json={"title": "  "})
    assert r.status_code == 400 and r.json()["code"] == "quote.title_required", r.text
    r = await admin_client.post(f"/api/quotes/{quote['id']}/reopen")
    assert r.status_code == 409 and r.json()["code"] == "quote.wrong_state", r.text
    r = await admin_client.get("/api/quotes/lines/2147483647")
    assert r.status_code == 404 and r.json()["code"] == "quote_line.not_found", r.text
