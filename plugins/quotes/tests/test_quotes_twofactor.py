"""Quote acceptance signed by SMS with the real two-factor plugin (M4 item 8).

A test-only plugin describes two contact persons (as the plugin that owns contacts does,
tests/twofactor_kit.py); the code is read from the outbox, as an administrator without an
SMS gateway would. Skipped where the two-factor plugin is not installed.
"""

from __future__ import annotations

from core.contracts import PersonContact
from plugins.quotes.tests.conftest import make_quote, send_quote
from tests.twofactor_kit import activate_sms, contacts_with_real_two_factor, last_code, switch

KARIN, NO_PHONE = 900_001, 900_002

real_plugins = contacts_with_real_two_factor("mod5contacts", {
    KARIN: PersonContact(name="Karin Kontakt", mobile_phone="+46701234567"),
    NO_PHONE: PersonContact(name="Utan Telefon", fix_hint_sv="Kundkortet", fix_hint_en="The customer card"),
})


async def _switch_on(client) -> None:  # type: ignore[no-untyped-def]
    await activate_sms(client)
    await switch(client, "quotes", confirm=False)


async def test_accepting_needs_the_sms_code_of_the_contact(admin_client, anon_client, tenant, real_plugins):
    await _switch_on(admin_client)
    quote = await make_quote(admin_client, contact_person_id=KARIN)
    token = await send_quote(admin_client, quote["id"])
    url = f"/api/quotes/public/{token}/accept"
    body = {"name": "Typed Name", "email": "karin@example.se"}

    r = await anon_client.post(url, json=body)
    assert r.status_code == 202, r.text
    challenge = r.json()["second_factor"]
    assert challenge["masked_phone"] == "+46 70•••••67"
    # Re-submitting before the code is entered accepts nothing.
    r = await anon_client.post(url, json={**body, "challenge_id": challenge["challenge_id"]})
    assert r.status_code == 409
    assert (await admin_client.get(f"/api/quotes/{quote['id']}")).json()["status"] == "sent"
    # The customer enters the code through the public verify endpoint (no login).
    r = await anon_client.post(
        f"/api/twofactor/challenges/{challenge['challenge_id']}/verify", json={"code": await last_code(tenant.id)}
    )
    assert r.status_code == 200, r.text
    r = await anon_client.post(url, json={**body, "challenge_id": challenge["challenge_id"]})
    assert r.status_code == 200, r.text
    got = (await admin_client.get(f"/api/quotes/{quote['id']}")).json()
    assert got["status"] == "accepted"
    assert got["approver_name"] == "Karin Kontakt"  # who signed: the code's owner
    assert got["approver_phone"] == "+46 70•••••67" and got["approver_email"] == "karin@example.se"


async def test_a_contact_without_phone_is_told_to_contact_an_administrator(admin_client, anon_client, real_plugins):
    await _switch_on(admin_client)
    quote = await make_quote(admin_client, contact_person_id=NO_PHONE)
    token = await send_quote(admin_client, quote["id"])
    r = await anon_client.post(f"/api/quotes/public/{token}/accept", json={"name": "U", "email": "u@example.se"})
    assert r.status_code == 409, r.text
    assert "administrat" in r.json()["detail"]
    assert (await admin_client.get(f"/api/quotes/{quote['id']}")).json()["status"] == "sent"


async def test_a_code_accepts_only_the_quote_it_was_sent_for(admin_client, anon_client, tenant, real_plugins):
    """Two quotes wait for the same contact: the code sent from one quote's link is refused
    on the other's, and still accepts its own."""
    await _switch_on(admin_client)
    first = await make_quote(admin_client, contact_person_id=KARIN)
    second = await make_quote(admin_client, contact_person_id=KARIN)
    first_url = f"/api/quotes/public/{await send_quote(admin_client, first['id'])}/accept"
    second_url = f"/api/quotes/public/{await send_quote(admin_client, second['id'])}/accept"
    body = {"name": "Typed Name", "email": "karin@example.se"}

    r = await anon_client.post(first_url, json=body)
    assert r.status_code == 202, r.text
    challenge = r.json()["second_factor"]["challenge_id"]
    r = await anon_client.post(
        f"/api/twofactor/challenges/{challenge}/verify", json={"code": await last_code(tenant.id)}
    )
    assert r.status_code == 200, r.text

    r = await anon_client.post(second_url, json={**body, "challenge_id": challenge})
    assert r.status_code == 409, r.text
    assert "another step, item or person" in r.json()["detail"]
    assert (await admin_client.get(f"/api/quotes/{second['id']}")).json()["status"] == "sent"
    # The refusal did not use the code up: the quote it was sent for still takes it.
    r = await anon_client.post(first_url, json={**body, "challenge_id": challenge})
    assert r.status_code == 200, r.text
    assert (await admin_client.get(f"/api/quotes/{first['id']}")).json()["status"] == "accepted"
    assert (await admin_client.get(f"/api/quotes/{second['id']}")).json()["status"] == "sent"
