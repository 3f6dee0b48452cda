"""The customer portal with the real two-factor plugin (issue 7: M4 items 3-5, M5-M8).

Only the HTTP API of /api/twofactor is used here, as a browser and an administrator
would: SMS is activated, contexts are switched on, codes are read from the core outbox
(the default SMS provider keeps them there). Skipped where the plugin is not installed.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from core.plugins import get_host
from core.tables import Outbox
from core.testing.client import AppClient
from plugins.portal.tests.test_portal import (
    NEW_PASSWORD,
    active_customer,
    last_link,
    portal_account,
    portal_login,
    set_cookie,
)
from tests.support import TenantInfo, make_contact, make_customer

MASKED = "+46 70•••••67"
CODE_RE = re.compile(r"\b(\d{6})\b")


@pytest.fixture(autouse=True)
def _two_factor_installed() -> None:
    if get_host().plugin("twofactor") is None:
        pytest.skip("the two-factor plugin is not installed")


async def switch_on(admin: AppClient, *contexts: str) -> None:
    r = await admin.put("/api/twofactor/settings", json={"sms_active": True, "sender": "Gallra"})
    assert r.status_code == 200, r.text
    for key in contexts:
        r = await admin.put(f"/api/twofactor/contexts/{key}", json={"enabled": True})
        assert r.status_code == 200, r.text


async def last_code(tenant_id: int) -> str:
    rows = await Outbox.select().where((Outbox.tenant_id == tenant_id) & (Outbox.channel == "sms")).order_by(Outbox.id)
    assert rows, "no SMS was queued"
    match = CODE_RE.search(rows[-1]["body"])
    assert match
    return match.group(1)


async def sms_count(tenant_id: int) -> int:
    return await Outbox.count().where((Outbox.tenant_id == tenant_id) & (Outbox.channel == "sms"))


async def verify(client: AppClient, t: TenantInfo, challenge_id: str, code: str) -> Any:
    return await client.post(f"/api/twofactor/challenges/{challenge_id}/verify", json={"code": code, "tenant": t.slug})


async def forget_last_send(tenant_id: int) -> None:
    """Codes are 60 seconds apart per person: let a test send again without waiting."""
    from plugins.twofactor.tables import TwoFactorPerson

    await TwoFactorPerson.update({TwoFactorPerson.last_send_at: None}).where(TwoFactorPerson.tenant_id == tenant_id)


async def login_with_code(client: AppClient, t: TenantInfo, email: str, password: str | None = None) -> None:
    """202, verify, re-submit: logged in and the device remembered."""
    extra = {"password": password} if password else {}
    r = await portal_login(client, t, email, **extra)
    assert r.status_code == 202, r.text
    challenge = r.json()["second_factor"]["challenge_id"]
    r = await verify(client, t, challenge, await last_code(t.id))
    assert r.status_code == 200, r.text
    r = await portal_login(client, t, email, challenge_id=challenge, **extra)
    assert r.status_code == 200, r.text


async def test_contexts_are_declared_by_the_portal_module(admin_client):
    contexts = (await admin_client.get("/api/twofactor/contexts")).json()["contexts"]
    mine = {c["key"]: c for c in contexts if c["module"] == "portal"}
    assert set(mine) == {"portal_login", "portal_reset", "customer_conversations"}
    assert mine["portal_login"]["label_sv"] == "Kundportal – inloggning från ny enhet"
    assert mine["portal_reset"]["label_sv"] == "Kundportal – återställning av lösenord"
    assert mine["customer_conversations"]["label_sv"] == "Kundkonversationer – första lösenordet och återställning"
    assert (mine["portal_login"]["purpose"], mine["portal_reset"]["purpose"]) == ("login", "reset")
    assert mine["customer_conversations"]["purpose"] == "reset"
    keys = [c["key"] for c in contexts]
    assert keys.index("employee_reset") < keys.index("portal_login") < keys.index("portal_reset")
    assert keys.index("portal_reset") < keys.index("customer_conversations")
    # A tenant without the customers module does not see them.
    await admin_client.put("/api/modules/customers", json={"enabled": False})
    contexts = (await admin_client.get("/api/twofactor/contexts")).json()["contexts"]
    assert not [c for c in contexts if c["module"] == "customers"]


async def test_login_from_a_new_device_then_the_trusted_device(admin_client, browser, app, tenant):
    customer = await active_customer(admin_client, tenant, mobile_phone="070-123 45 67")
    # Switched off: no SMS.
    assert (await portal_login(browser, tenant, "per@example.org")).status_code == 200
    await browser.post("/api/portal/logout")
    await switch_on(admin_client, "portal_login")

    r = await portal_login(browser, tenant, "per@example.org")
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "second_factor_required"
    assert body["second_factor"]["masked_phone"] == MASKED
    assert "gallra_portal" not in r.headers.get("set-cookie", "")
    challenge = body["second_factor"]["challenge_id"]
    sms = (await Outbox.select().where((Outbox.tenant_id == tenant.id) & (Outbox.channel == "sms")))[-1]
    assert sms["recipient"] == "+46701234567"
    # Wrong password with the challenge: still refused, no session.
    assert (
        await portal_login(browser, tenant, "per@example.org", "wrong-password-1", challenge_id=challenge)
    ).status_code == 401
    # Re-submitting before the code is entered opens nothing.
    r = await portal_login(browser, tenant, "per@example.org", challenge_id=challenge)
    assert r.status_code == 409
    assert (await browser.get("/api/portal/me")).status_code == 401
    # Another organization cannot verify this challenge.
    async with AppClient(app=app) as stranger:
        from tests.support import make_tenant

        other = await make_tenant()
        assert (await verify(stranger, other, challenge, await last_code(tenant.id))).status_code == 404
    r = await verify(browser, tenant, challenge, await last_code(tenant.id))
    assert r.status_code == 200, r.text
    assert r.json().get("logged_in") in (None, False)  # a portal login completes by re-submitting
    assert "gallra_device=" in r.headers["set-cookie"]
    r = await portal_login(browser, tenant, "per@example.org", challenge_id=challenge)
    assert r.status_code == 200, r.text
    assert (await browser.get("/api/portal/me")).json()["person_id"] == customer["id"]
    # The challenge is used up.
    await browser.post("/api/portal/logout")
    sent = await sms_count(tenant.id)

    # The same browser, next time: the device is trusted, no SMS.
    r = await portal_login(browser, tenant, "per@example.org")
    assert r.status_code == 200, r.text
    assert await sms_count(tenant.id) == sent
    devices = (await admin_client.get(f"/api/twofactor/people/customer/{customer['id']}/devices")).json()
    assert len(devices) == 1

    # Another browser, or a tampered device cookie: SMS again.
    await forget_last_send(tenant.id)
    async with AppClient(app=app) as fresh:
        assert (await portal_login(fresh, tenant, "per@example.org")).status_code == 202
    await forget_last_send(tenant.id)
    device = browser.cookies.get("gallra_device")
    set_cookie(browser, "gallra_device", device[:-2] + "xx")
    assert (await portal_login(browser, tenant, "per@example.org")).status_code == 202


async def test_trusted_device_of_one_person_does_not_serve_another(admin_client, browser, tenant):
    await active_customer(admin_client, tenant, mobile_phone="070-123 45 67")
    await active_customer(admin_client, tenant, email="eva@example.org", name="Eva", mobile_phone="070-765 43 21")
    await switch_on(admin_client, "portal_login")
    await login_with_code(browser, tenant, "per@example.org")
    # Per's device cookie is in this browser; Eva still gets a code.
    r = await portal_login(browser, tenant, "eva@example.org")
    assert r.status_code == 202 and r.json()["second_factor"]["masked_phone"] == "+46 70•••••21"


async def test_no_phone_is_a_clear_409_and_the_admin_sees_where_to_fix_it(admin_client, browser, tenant):
    per = await active_customer(admin_client, tenant)  # no phone on the card
    company = await make_customer(admin_client, name="Bolaget AB", mobile_phone="070-999 99 99")
    karin = await make_contact(admin_client, company["id"], email="karin@example.org")
    await portal_account(admin_client, tenant, f"contacts/{karin['id']}", "karin@example.org")
    await switch_on(admin_client, "portal_login")

    for email in ("per@example.org", "karin@example.org"):
        r = await portal_login(browser, tenant, email)
        assert r.status_code == 409, r.text
        detail = r.json()["detail"]
        assert "phone number is missing" in detail and "Contact an administrator" in detail
        assert "gallra_portal" not in r.headers.get("set-cookie", "")
    assert await sms_count(tenant.id) == 0

    status = (await admin_client.get(f"/api/twofactor/people/customer/{per['id']}/status")).json()
    assert status["has_phone"] is False
    assert status["fix_hint_en"] == "The customer card – edit the customer"
    assert status["fix_hint_sv"] == "Kundkortet – redigera kunden"
    assert "The customer card – edit the customer" in status["message_en"]
    status = (await admin_client.get(f"/api/twofactor/people/contact/{karin['id']}/status")).json()
    assert status["has_phone"] is False and status["name"] == "Karin Kontakt"
    assert status["fix_hint_en"] == "The customer card – edit the contact person"
    assert "Kundkortet – redigera kontaktpersonen" in status["message_sv"]
    # A company's own number is nobody's second factor: add a contact person.
    status = (await admin_client.get(f"/api/twofactor/people/customer/{company['id']}/status")).json()
    assert status["has_phone"] is False and "add a contact person" in status["fix_hint_en"]

    # The administrator adds the numbers where the hints say; the flow then works.
    assert (
        await admin_client.patch(f"/api/customers/{per['id']}", json={"private_phone": "070-123 45 67"})
    ).status_code == 200
    r = await portal_login(browser, tenant, "per@example.org")
    assert r.status_code == 202 and r.json()["second_factor"]["masked_phone"] == MASKED
    r = await admin_client.patch(f"/api/customers/contacts/{karin['id']}", json={"work_phone": "08-123 456 78"})
    assert r.status_code == 200
    r = await portal_login(browser, tenant, "karin@example.org")
    assert r.status_code == 202 and r.json()["second_factor"]["masked_phone"] == "+46 81•••••78"


async def test_first_password_needs_the_code_when_conversations_is_on(admin_client, browser, tenant):
    company = await make_customer(admin_client, name="Bolaget AB")
    karin = await make_contact(admin_client, company["id"], email="karin@example.org", mobile_phone="070-123 45 67")
    await switch_on(admin_client, "customer_conversations")
    r = await admin_client.post(f"/api/customers/contacts/{karin['id']}/portal-invite", json={})
    assert r.status_code == 201
    token = await last_link(tenant.id, "karin@example.org")
    body = {"tenant": tenant.slug, "token": token, "password": "portal-password-1"}

    r = await browser.post("/api/portal/activate", json=body)
    assert r.status_code == 202, r.text
    challenge = r.json()["second_factor"]["challenge_id"]
    assert r.json()["second_factor"]["masked_phone"] == MASKED
    # Not yet verified: the password is not set, the link still works.
    assert (await browser.post("/api/portal/activate", json={**body, "challenge_id": challenge})).status_code == 409
    assert (await portal_login(browser, tenant, "karin@example.org")).status_code == 401
    r = await verify(browser, tenant, challenge, await last_code(tenant.id))
    assert r.status_code == 200 and "gallra_device" not in r.headers.get("set-cookie", "")
    r = await browser.post("/api/portal/activate", json={**body, "challenge_id": challenge})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "password_set"
    # The verified code was for this one step.
    assert (await browser.post("/api/portal/activate", json={**body, "challenge_id": challenge})).status_code == 400
    assert (await portal_login(browser, tenant, "karin@example.org")).status_code == 200


async def test_reset_needs_the_code_ends_sessions_and_forgets_devices(admin_client, browser, app, tenant, worker):
    customer = await active_customer(admin_client, tenant, mobile_phone="070-123 45 67")
    await switch_on(admin_client, "portal_login", "portal_reset")
    await login_with_code(browser, tenant, "per@example.org")
    assert (await browser.get("/api/portal/me")).status_code == 200
    devices_url = f"/api/twofactor/people/customer/{customer['id']}/devices"
    assert len((await admin_client.get(devices_url)).json()) == 1

    r = await browser.post("/api/portal/password-reset", json={"tenant": tenant.slug, "email": "per@example.org"})
    assert r.status_code == 202
    worker.drain()
    token = await last_link(tenant.id, "per@example.org")
    body = {"tenant": tenant.slug, "token": token, "password": NEW_PASSWORD}
    await forget_last_send(tenant.id)
    async with AppClient(app=app) as phone_browser:
        r = await phone_browser.post("/api/portal/password-reset/complete", json=body)
        assert r.status_code == 202, r.text
        challenge = r.json()["second_factor"]["challenge_id"]
        r = await verify(phone_browser, tenant, challenge, await last_code(tenant.id))
        assert r.status_code == 200
        r = await phone_browser.post("/api/portal/password-reset/complete", json={**body, "challenge_id": challenge})
        assert r.status_code == 200, r.text
        assert "gallra_portal" not in r.headers.get("set-cookie", "")  # not logged in (M8)
    # Every session ended, every device is forgotten: the next login asks for a code.
    assert (await browser.get("/api/portal/me")).status_code == 401
    assert (await admin_client.get(devices_url)).json() == []
    assert (await portal_login(browser, tenant, "per@example.org")).status_code == 401  # old password
    await forget_last_send(tenant.id)
    r = await portal_login(browser, tenant, "per@example.org", NEW_PASSWORD)
    assert r.status_code == 202, r.text


async def test_reset_asks_under_customer_conversations_when_portal_reset_is_off(admin_client, browser, tenant):
    from plugins.portal.services import start_reset
    from plugins.twofactor.tables import TwoFactorChallenge

    await active_customer(admin_client, tenant, mobile_phone="070-123 45 67")
    await switch_on(admin_client, "customer_conversations")
    token = await start_reset(tenant.slug, "per@example.org")
    body = {"tenant": tenant.slug, "token": token, "password": NEW_PASSWORD}
    r = await browser.post("/api/portal/password-reset/complete", json=body)
    assert r.status_code == 202, r.text
    challenge = r.json()["second_factor"]["challenge_id"]
    row = await TwoFactorChallenge.select().where(TwoFactorChallenge.tenant_id == tenant.id).first()
    assert row["context"] == "customer_conversations"
    assert (await verify(browser, tenant, challenge, await last_code(tenant.id))).status_code == 200
    r = await browser.post("/api/portal/password-reset/complete", json={**body, "challenge_id": challenge})
    assert r.status_code == 200, r.text
    assert (await portal_login(browser, tenant, "per@example.org", NEW_PASSWORD)).status_code == 200


async def test_a_new_phone_number_forgets_trusted_devices(admin_client, browser, tenant):
    per = await active_customer(admin_client, tenant, mobile_phone="070-123 45 67")
    company = await make_customer(admin_client, name="Bolaget AB")
    karin = await make_contact(admin_client, company["id"], email="karin@example.org", mobile_phone="070-765 43 21")
    await portal_account(admin_client, tenant, f"contacts/{karin['id']}", "karin@example.org")
    await switch_on(admin_client, "portal_login")
    await login_with_code(browser, tenant, "per@example.org")
    await login_with_code(browser, tenant, "karin@example.org")
    per_devices = f"/api/twofactor/people/customer/{per['id']}/devices"
    karin_devices = f"/api/twofactor/people/contact/{karin['id']}/devices"
    assert len((await admin_client.get(per_devices)).json()) == 1
    # Editing something else keeps the devices; a new number does not.
    await admin_client.patch(
        f"/api/customers/{per['id']}", json={"notes": "Ring efter lunch", "mobile_phone": "070-123 45 67"}
    )
    assert len((await admin_client.get(per_devices)).json()) == 1
    await admin_client.patch(f"/api/customers/{per['id']}", json={"mobile_phone": "070-111 22 33"})
    assert (await admin_client.get(per_devices)).json() == []
    assert len((await admin_client.get(karin_devices)).json()) == 1
    await admin_client.patch(f"/api/customers/contacts/{karin['id']}", json={"work_phone": "08-123 456 78"})
    assert (await admin_client.get(karin_devices)).json() == []
