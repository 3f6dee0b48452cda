"""Customer-portal accounts: invitation, first password, login, sessions, reset, limits.

Invitation and reset links are read from the e-mail in the core outbox, as a person
would read them. The helpers here are shared with the other test_portal_* modules.
"""

from __future__ import annotations

import re
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import time_machine

from core import throttle
from core.db import raw, utcnow
from core.tables import Outbox, PasswordResetToken, Session
from core.testing.client import AppClient
from plugins.portal.services import RESET_ANSWER, login_key, purge_expired
from plugins.portal.tables import PortalAccount
from tests.support import TenantInfo, login, make_contact, make_customer, record_simple_statements

PASSWORD = "portal-password-1"
NEW_PASSWORD = "portal-password-2"
MOBILE = "+46701234567"
TOKEN_RE = re.compile(r"token=([A-Za-z0-9_\-]+)")

JSON = {"content-type": "application/json"}  # a body the API reads as JSON


# --- helpers (also used by test_portal_twofactor.py and test_portal_gdpr.py) ---------------


async def private_customer(client: AppClient, **fields: Any) -> dict:
    body = {"name": "Per Privat", "kind": "private", "email": "per@example.org", **fields}
    return await make_customer(client, **body)


async def last_link(tenant_id: int, recipient: str) -> str:
    """The token of the newest e-mail link sent to ``recipient``."""
    rows = (
        await Outbox.select()
        .where((Outbox.tenant_id == tenant_id) & (Outbox.channel == "email") & (Outbox.recipient == recipient))
        .order_by(Outbox.id)
    )
    assert rows, "no e-mail was queued"
    match = TOKEN_RE.search(rows[-1]["body"])
    assert match, "the e-mail holds no link"
    return match.group(1)


async def invite(client: AppClient, path: str, **body: Any) -> Any:
    return await client.post(f"/api/customers/{path}/portal-invite", json=body)


async def activate(client: AppClient, t: TenantInfo, token: str, password: str = PASSWORD, **extra: Any) -> Any:
    return await client.post(
        "/api/portal/activate", json={"tenant": t.slug, "token": token, "password": password, **extra}
    )


async def portal_login(
    client: AppClient, t: TenantInfo, email: str, password: str = PASSWORD, **extra: Any
) -> Any:
    return await client.post(
        "/api/portal/login", json={"tenant": t.slug, "email": email, "password": password, **extra}
    )


async def portal_account(client: AppClient, t: TenantInfo, path: str, email: str) -> dict:
    """Invite and activate; returns the account as employees see it."""
    r = await invite(client, path, email=email)
    assert r.status_code == 201, r.text
    r = await activate(client, t, await last_link(t.id, email))
    assert r.status_code == 200, r.text
    return r.json()


async def active_customer(
    client: AppClient, t: TenantInfo, email: str = "per@example.org", **fields: Any
) -> dict:
    customer = await private_customer(client, email=email, **fields)
    await portal_account(client, t, str(customer["id"]), email)
    return customer


def set_cookie(client: AppClient, name: str, value: str) -> None:
    """Replace every cookie of that name (the jar keeps one per domain otherwise)."""
    client.cookies.delete(name)
    client.cookies.set(name, value)


# --- invitation, first password, login -------------------------------------------------------


async def test_invitation_activation_login_me_logout(admin_client, browser, tenant):
    customer = await private_customer(admin_client, mobile_phone="070-123 45 67")
    r = await invite(admin_client, str(customer["id"]))
    assert r.status_code == 201, r.text
    account = r.json()
    assert account["status"] == "invited" and account["email"] == "per@example.org"
    assert account["person_kind"] == "customer" and account["person_id"] == customer["id"]
    assert account["customer_id"] == customer["id"]
    left = (utcnow() + timedelta(days=7)) - _dt(account["invitation_expires_at"])
    assert timedelta(0) <= left < timedelta(minutes=1)
    # The token is only in the e-mail, never in the answer or in the database.
    assert "token" not in r.text
    mail = (
        await Outbox.select()
        .where((Outbox.tenant_id == tenant.id) & (Outbox.recipient == "per@example.org"))
        .order_by(Outbox.id)
    )[-1]
    assert mail["subject"].startswith("Inbjudan till kundportalen")
    assert f"tenant={tenant.slug}" in mail["body"]
    token = await last_link(tenant.id, "per@example.org")
    assert not await PasswordResetToken.exists().where(PasswordResetToken.token_hash == token)

    # No password yet: no login.
    assert (await portal_login(browser, tenant, "per@example.org")).status_code == 401
    r = await activate(browser, tenant, token)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "password_set"
    assert "gallra_portal" not in r.headers.get("set-cookie", "")
    # Single use.
    r = await activate(browser, tenant, token, password="another-password-9")
    assert r.status_code == 400 and "invalid, used or expired" in r.json()["detail"]
    status = (await admin_client.get(f"/api/customers/{customer['id']}/portal-account")).json()
    assert status["has_account"] is True and status["account"]["status"] == "active"
    assert status["account"]["invitation_expires_at"] is None
    stored = await PortalAccount.select().where(PortalAccount.id == account["id"]).first()
    assert stored["password_hash"].startswith("$argon2id$") and PASSWORD not in stored["password_hash"]

    assert (await portal_login(browser, tenant, "per@example.org", "wrong-password-1")).status_code == 401
    r = await portal_login(browser, tenant, "PER@example.org ")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "logged_in"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("gallra_portal=") and "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # plain http in tests; behind HTTPS it is Secure
    me = await browser.get("/api/portal/me")
    assert me.status_code == 200
    assert me.json() == {
        "tenant": tenant.slug,
        "person_kind": "customer",
        "person_id": customer["id"],
        "customer_id": customer["id"],
        "name": "Per Privat",
        "email": "per@example.org",
    }
    # The portal session is no employee session.
    assert (await browser.get("/api/customers/")).status_code == 401
    r = await browser.post("/api/portal/logout")
    assert r.status_code == 200
    assert (await browser.get("/api/portal/me")).status_code == 401


async def test_secure_cookie_behind_https(app, admin_client, tenant):
    await active_customer(admin_client, tenant)
    async with AppClient(app=app, base_url="https://testserver.local") as c:
        r = await portal_login(c, tenant, "per@example.org")
        assert r.status_code == 200
        assert "Secure" in r.headers["set-cookie"]


async def test_contact_person_account(admin_client, browser, tenant):
    company = await make_customer(admin_client, name="Bolaget AB")
    karin = await make_contact(admin_client, company["id"], email="karin@example.org")
    # Without a body's e-mail, the card's address is the login.
    r = await invite(admin_client, f"contacts/{karin['id']}")
    assert r.status_code == 201, r.text
    account = r.json()
    assert (account["person_kind"], account["person_id"], account["customer_id"]) == (
        "contact",
        karin["id"],
        company["id"],
    )
    assert (await activate(browser, tenant, await last_link(tenant.id, "karin@example.org"))).status_code == 200
    assert (await portal_login(browser, tenant, "karin@example.org")).status_code == 200
    me = (await browser.get("/api/portal/me")).json()
    assert me["person_kind"] == "contact" and me["customer_id"] == company["id"]
    assert me["name"] == "Karin Kontakt"
    status = (await admin_client.get(f"/api/customers/contacts/{karin['id']}/portal-account")).json()
    assert status["account"]["status"] == "active"
    r = await admin_client.get(f"/api/customers/portal-accounts/{account['id']}")
    assert r.status_code == 200 and r.json()["email"] == "karin@example.org"


async def test_invitation_refusals(admin_client, tenant):
    company = await make_customer(admin_client, name="Bolaget AB", email="info@bolaget.se")
    r = await invite(admin_client, str(company["id"]))
    assert r.status_code == 409 and "contact persons" in r.json()["detail"]

    nomail = await private_customer(admin_client, name="Utan Post", email=None)
    r = await invite(admin_client, str(nomail["id"]))
    assert r.status_code == 400 and r.json()["field"] == "email"
    r = await invite(admin_client, str(nomail["id"]), email="not-an-address")
    assert r.status_code == 400 and r.json()["field"] == "email"

    per = await private_customer(admin_client)
    assert (await invite(admin_client, str(per["id"]))).status_code == 201
    # A pending invitation is renewed: the earlier link stops working.
    first = await last_link(tenant.id, "per@example.org")
    r = await invite(admin_client, str(per["id"]), email="per.ny@example.org")
    assert r.status_code == 201 and r.json()["email"] == "per.ny@example.org"
    assert (await activate(admin_client, tenant, first)).status_code == 400
    assert await PortalAccount.count().where(PortalAccount.tenant_id == tenant.id) == 1
    assert (await activate(admin_client, tenant, await last_link(tenant.id, "per.ny@example.org"))).status_code == 200
    # An active account is not invited again (reset the password instead).
    r = await invite(admin_client, str(per["id"]))
    assert r.status_code == 409 and "reset the password" in r.json()["detail"]

    # Another person cannot take the same login.
    eva = await private_customer(admin_client, name="Eva", email="eva@example.org")
    r = await invite(admin_client, str(eva["id"]), email="Per.Ny@example.org")
    assert r.status_code == 409 and "already the login" in r.json()["detail"]

    # Deleted people get no account; unknown ids are 404; bad bodies 400.
    gone = await private_customer(admin_client, name="Borta", email="borta@example.org")
    assert (await admin_client.delete(f"/api/customers/{gone['id']}")).status_code == 200
    assert (await invite(admin_client, str(gone["id"]))).status_code == 409
    assert (await invite(admin_client, "99999999")).status_code == 404
    assert (await invite(admin_client, "contacts/99999999")).status_code == 404
    assert (await invite(admin_client, "99999999999")).status_code == 400  # out of range
    r = await admin_client.post(f"/api/customers/{eva['id']}/portal-invite", json={"mail": "x@example.org"})
    assert r.status_code == 400
    r = await admin_client.post(f"/api/customers/{eva['id']}/portal-invite", content=b"{not json", headers=JSON)
    assert r.status_code == 400
    r = await admin_client.post(f"/api/customers/{eva['id']}/portal-invite", json={"email": "a" * 300})
    assert r.status_code == 400


async def test_address_of_a_deleted_person_is_freed(admin_client, tenant):
    old = await active_customer(admin_client, tenant, email="delad@example.org")
    assert (await admin_client.delete(f"/api/customers/{old['id']}")).status_code == 200
    new = await private_customer(admin_client, name="Ny Person", email="delad@example.org")
    r = await invite(admin_client, str(new["id"]))
    assert r.status_code == 201, r.text
    status = (await admin_client.get(f"/api/customers/{old['id']}/portal-account")).json()
    assert status["has_account"] is False and status["account"]["status"] == "disabled"


async def test_invite_and_status_need_an_employee(browser, admin_client, tenant):
    customer = await private_customer(admin_client)
    assert (await invite(browser, str(customer["id"]))).status_code == 401
    assert (await browser.get(f"/api/customers/{customer['id']}/portal-account")).status_code == 401
    assert (await browser.get("/api/customers/portal-accounts/1")).status_code == 401


# --- links: expiry, single use, wrong tenant, bad bodies -------------------------------------


async def test_expired_invitation_and_reset_links(admin_client, browser, tenant, settings):
    customer = await private_customer(admin_client)
    await invite(admin_client, str(customer["id"]))
    token = await last_link(tenant.id, "per@example.org")
    with time_machine.travel(timedelta(days=7, seconds=1), tick=True):
        r = await activate(browser, tenant, token)
        assert r.status_code == 400 and "expired" in r.json()["detail"]
    with time_machine.travel(timedelta(days=6, hours=23), tick=True):
        assert (await activate(browser, tenant, token)).status_code == 200

    from plugins.portal.services import start_reset

    reset = await start_reset(tenant.slug, "per@example.org")
    assert reset is not None
    body = {"tenant": tenant.slug, "token": reset, "password": NEW_PASSWORD}
    with time_machine.travel(timedelta(minutes=30, seconds=1), tick=True):
        r = await browser.post("/api/portal/password-reset/complete", json=body)
        assert r.status_code == 400 and "expired" in r.json()["detail"]
    # An invitation token is no reset token, and the other way round.
    assert (await browser.post("/api/portal/password-reset/complete", json={**body, "token": token})).status_code == 400
    assert (await activate(browser, tenant, reset)).status_code == 400
    r = await browser.post("/api/portal/password-reset/complete", json=body)
    assert r.status_code == 200
    assert (await browser.post("/api/portal/password-reset/complete", json=body)).status_code == 400


async def test_wrong_tenant_and_malformed_bodies(admin_client, browser, tenant, other_tenant):
    customer = await private_customer(admin_client)
    await invite(admin_client, str(customer["id"]))
    token = await last_link(tenant.id, "per@example.org")
    # The link belongs to its organization only.
    assert (await activate(browser, other_tenant, token)).status_code == 400
    r = await browser.post("/api/portal/activate", json={"tenant": "no-such-org", "token": token, "password": PASSWORD})
    assert r.status_code == 400
    # Password rules name the field; the link stays usable.
    r = await activate(browser, tenant, token, password="short")
    assert r.status_code == 400 and r.json()["field"] == "password"
    bad_bodies = [
        {"tenant": tenant.slug, "token": token},
        {"tenant": tenant.slug, "token": token, "password": PASSWORD, "extra": 1},
        {"tenant": tenant.slug, "token": "x" * 129, "password": PASSWORD},
        {"tenant": "", "token": token, "password": PASSWORD},
        {"tenant": tenant.slug, "token": token, "password": "p" * 257},
        {"tenant": tenant.slug, "token": token, "password": 12345678901},
        {"tenant": tenant.slug, "token": token, "password": PASSWORD, "challenge_id": ""},
    ]
    for body in bad_bodies:
        for path in ("/api/portal/activate", "/api/portal/password-reset/complete"):
            r = await browser.post(path, json=body)
            assert r.status_code == 400, (path, body, r.text)
    for body in ({"tenant": tenant.slug}, {"tenant": tenant.slug, "email": "a@b.se", "password": "x", "code": 1}, []):
        assert (await browser.post("/api/portal/login", json=body)).status_code == 400
    assert (await browser.post("/api/portal/login", content=b"\x00garbage", headers=JSON)).status_code == 400
    assert (await browser.post("/api/portal/password-reset", json={"tenant": tenant.slug})).status_code == 400
    # Still usable after all that.
    assert (await activate(browser, tenant, token)).status_code == 200
    # Another organization's login with the right password: the same refusal as a wrong one.
    r = await portal_login(browser, other_tenant, "per@example.org")
    assert r.status_code == 401 and r.json()["detail"] == "Wrong organization, e-mail or password."
    r = await portal_login(browser, TenantInfo(0, "no-such-org", 0, "", ""), "per@example.org")
    assert r.status_code == 401 and r.json()["detail"] == "Wrong organization, e-mail or password."


# --- sessions ----------------------------------------------------------------------------


async def test_tampered_missing_and_foreign_cookies(admin_client, browser, tenant):
    await active_customer(admin_client, tenant)
    assert (await browser.get("/api/portal/me")).status_code == 401
    assert (await portal_login(browser, tenant, "per@example.org")).status_code == 200
    token = browser.cookies.get("gallra_portal")
    assert token
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    for value in (flipped, "x", "y" * 500, ""):
        set_cookie(browser, "gallra_portal", value)
        assert (await browser.get("/api/portal/me")).status_code == 401
    # An employee's session token is no portal token, and the other way round.
    admin_token = admin_client.cookies.get("gallra_session")
    set_cookie(browser, "gallra_portal", admin_token)
    assert (await browser.get("/api/portal/me")).status_code == 401
    set_cookie(browser, "gallra_session", token)
    assert (await browser.get("/api/auth/me")).status_code == 401
    set_cookie(browser, "gallra_portal", token)
    assert (await browser.get("/api/portal/me")).status_code == 200
    # A new login gives a new token; the earlier one stops working.
    r = await portal_login(browser, tenant, "per@example.org")
    assert r.status_code == 200
    fresh = r.cookies.get("gallra_portal")
    assert fresh and fresh != token
    set_cookie(browser, "gallra_portal", token)
    assert (await browser.get("/api/portal/me")).status_code == 401
    set_cookie(browser, "gallra_portal", fresh)
    assert (await browser.get("/api/portal/me")).status_code == 200


async def test_session_idle_timeout_and_absolute_expiry(admin_client, browser, tenant, settings):
    await active_customer(admin_client, tenant)
    assert (await portal_login(browser, tenant, "per@example.org")).status_code == 200
    with time_machine.travel(timedelta(minutes=settings.session_idle_minutes + 1), tick=True):
        assert (await browser.get("/api/portal/me")).status_code == 401
    assert (await portal_login(browser, tenant, "per@example.org")).status_code == 200
    # Active every 25 minutes: the idle limit never ends it, the 12 hours do.
    minutes = 25
    while minutes < settings.session_max_hours * 60:
        with time_machine.travel(timedelta(minutes=minutes), tick=True):
            assert (await browser.get("/api/portal/me")).status_code == 200, minutes
        minutes += 25
    with time_machine.travel(timedelta(hours=settings.session_max_hours, minutes=1), tick=True):
        assert (await browser.get("/api/portal/me")).status_code == 401


async def test_deleted_people_cannot_log_in_and_their_sessions_end(admin_client, app, tenant):
    per = await active_customer(admin_client, tenant)
    company = await make_customer(admin_client, name="Bolaget AB")
    karin = await make_contact(admin_client, company["id"], email="karin@example.org")
    await portal_account(admin_client, tenant, f"contacts/{karin['id']}", "karin@example.org")
    lars = await make_contact(admin_client, company["id"], name="Lars", email="lars@example.org")
    await portal_account(admin_client, tenant, f"contacts/{lars['id']}", "lars@example.org")

    async with AsyncExitStack() as stack:
        browsers = {}
        for email in ("per@example.org", "karin@example.org", "lars@example.org"):
            c = await stack.enter_async_context(AppClient(app=app))
            assert (await portal_login(c, tenant, email)).status_code == 200
            browsers[email] = c
        # A private customer turned into a company has no portal login any more.
        r = await admin_client.patch(f"/api/customers/{per['id']}", json={"kind": "company"})
        assert r.status_code == 200
        assert (await browsers["per@example.org"].get("/api/portal/me")).status_code == 401
        assert (await portal_login(browsers["per@example.org"], tenant, "per@example.org")).status_code == 401
        await admin_client.patch(f"/api/customers/{per['id']}", json={"kind": "private"})
        assert (await portal_login(browsers["per@example.org"], tenant, "per@example.org")).status_code == 200
        await admin_client.delete(f"/api/customers/{per['id']}")
        assert (await browsers["per@example.org"].get("/api/portal/me")).status_code == 401
        assert (await portal_login(browsers["per@example.org"], tenant, "per@example.org")).status_code == 401

        await admin_client.delete(f"/api/customers/contacts/{karin['id']}")
        assert (await browsers["karin@example.org"].get("/api/portal/me")).status_code == 401
        assert (await portal_login(browsers["karin@example.org"], tenant, "karin@example.org")).status_code == 401
        # A contact person of a deleted customer is out too.
        assert (await browsers["lars@example.org"].get("/api/portal/me")).status_code == 200
        await admin_client.delete(f"/api/customers/{company['id']}")
        assert (await browsers["lars@example.org"].get("/api/portal/me")).status_code == 401
        assert (await portal_login(browsers["lars@example.org"], tenant, "lars@example.org")).status_code == 401


async def portal_sessions(tenant_id: int, account_id: int) -> int:
    """The account's portal sessions. Within its tenant: a session's subject is a number
    only, and another tenant's portal session may carry the same one (tests/core/test_auth.py
    opens one for an employee's id; it lets nobody in, as the portal reads the account
    within the session's tenant)."""
    return int(await Session.count().where(
        (Session.tenant_id == tenant_id) & (Session.kind == "portal") & (Session.subject_id == account_id)
    ))


async def test_disabled_account_ends_sessions(admin_client, browser, tenant):
    customer = await active_customer(admin_client, tenant)
    assert (await portal_login(browser, tenant, "per@example.org")).status_code == 200
    account = (await admin_client.get(f"/api/customers/{customer['id']}/portal-account")).json()["account"]
    r = await admin_client.post(f"/api/customers/portal-accounts/{account['id']}/disable")
    assert r.status_code == 200 and r.json()["status"] == "disabled"
    assert (await browser.get("/api/portal/me")).status_code == 401
    assert (await portal_login(browser, tenant, "per@example.org")).status_code == 401
    assert await portal_sessions(tenant.id, account["id"]) == 0
    # Invited again, the person chooses a new password on a new account.
    r = await invite(admin_client, str(customer["id"]))
    assert r.status_code == 201 and r.json()["id"] != account["id"]
    assert (await activate(browser, tenant, await last_link(tenant.id, "per@example.org"))).status_code == 200
    assert (await portal_login(browser, tenant, "per@example.org")).status_code == 200


async def test_customers_module_off_is_404_on_the_portal(admin_client, browser, tenant):
    customer = await active_customer(admin_client, tenant)
    assert (await portal_login(browser, tenant, "per@example.org")).status_code == 200
    invited = await private_customer(admin_client, name="Inbjuden", email="inbjuden@example.org")
    await invite(admin_client, str(invited["id"]))
    token = await last_link(tenant.id, "inbjuden@example.org")
    r = await admin_client.put("/api/modules/customers", json={"enabled": False})
    assert r.status_code == 200
    assert (await browser.get("/api/portal/me")).status_code == 404
    assert (await portal_login(browser, tenant, "per@example.org")).status_code == 404
    assert (await activate(browser, tenant, token)).status_code == 404
    body = {"tenant": tenant.slug, "token": token, "password": PASSWORD}
    assert (await browser.post("/api/portal/password-reset/complete", json=body)).status_code == 404
    assert (await invite(admin_client, str(customer["id"]))).status_code == 404
    await admin_client.put("/api/modules/customers", json={"enabled": True})
    assert (await browser.get("/api/portal/me")).status_code == 200
    assert (await activate(browser, tenant, token)).status_code == 200


# --- throttling ----------------------------------------------------------------------------


async def test_failed_logins_are_throttled_per_account(admin_client, browser, tenant, settings):
    await active_customer(admin_client, tenant)
    await active_customer(admin_client, tenant, email="eva@example.org", name="Eva")
    for _ in range(settings.login_max_failures):
        r = await portal_login(browser, tenant, "per@example.org", "wrong-password-1")
        assert r.status_code == 401
    r = await portal_login(browser, tenant, "per@example.org")
    assert r.status_code == 429 and "Too many failed logins" in r.json()["detail"]
    window = timedelta(minutes=settings.login_window_minutes)
    taken = await throttle.taken(login_key(tenant.slug, "per@example.org"), window)
    assert taken == settings.login_max_failures
    # Another account of the tenant is not affected.
    assert (await portal_login(browser, tenant, "eva@example.org")).status_code == 200
    # An unknown address is throttled the same way: no hint that it does not exist.
    for _ in range(settings.login_max_failures):
        r = await portal_login(browser, tenant, "ghost@example.org", "wrong-password-1")
        assert r.status_code == 401 and r.json()["detail"] == "Wrong organization, e-mail or password."
    assert (await portal_login(browser, tenant, "ghost@example.org", "wrong-password-1")).status_code == 429
    # Employees' failures are counted apart.
    assert (await login(browser, tenant)).status_code == 200
    with time_machine.travel(timedelta(minutes=settings.login_window_minutes + 1), tick=True):
        assert (await portal_login(browser, tenant, "per@example.org")).status_code == 200


async def test_parallel_guesses_get_no_more_checks_than_the_limit(admin_client, app, tenant, settings, monkeypatch):
    """#17.6: a burst of wrong portal passwords, then the right one while they are in
    flight: at most the limit is checked, the right password is refused unchecked. (The
    check is the one login system's, core.auth.check_login.)"""
    from core import auth
    from tests.burst import guess_burst

    await active_customer(admin_client, tenant)
    limit = settings.login_max_failures
    body = {"tenant": tenant.slug, "email": "per@example.org"}
    burst = await guess_burst(
        app,
        monkeypatch,
        auth,
        "/api/portal/login",
        {**body, "password": "wrong-password-1"},
        {**body, "password": PASSWORD},
        n_wrong=3 * limit,
        limit=limit,
    )
    assert burst.checked == limit
    assert sorted(burst.wrong) == [401] * limit + [429] * (2 * limit)
    assert burst.right == 429


# --- reset ------------------------------------------------------------------------------------


async def test_password_reset_flow_without_two_factor(admin_client, app, browser, tenant, worker):
    await active_customer(admin_client, tenant)
    assert (await portal_login(browser, tenant, "per@example.org")).status_code == 200
    answers = []
    for body in (
        {"tenant": tenant.slug, "email": "per@example.org"},
        {"tenant": tenant.slug, "email": "nobody@example.org"},
        {"tenant": "no-such-org", "email": "per@example.org"},
    ):
        r = await browser.post("/api/portal/password-reset", json=body)
        assert r.status_code == 202
        answers.append(r.json())
    assert answers == [{"message": RESET_ANSWER}] * 3
    worker.drain()
    mails = await Outbox.select().where((Outbox.tenant_id == tenant.id) & (Outbox.subject.like("Återställ%")))
    assert [m["recipient"] for m in mails] == ["per@example.org"]
    token = await last_link(tenant.id, "per@example.org")

    async with AppClient(app=app) as other:
        r = await other.post(
            "/api/portal/password-reset/complete",
            json={"tenant": tenant.slug, "token": token, "password": NEW_PASSWORD},
        )
        assert r.status_code == 200, r.text
        assert "gallra_portal" not in r.headers.get("set-cookie", "")  # not logged in
    # Every session of the person ended; the old password is gone.
    assert (await browser.get("/api/portal/me")).status_code == 401
    assert (await portal_login(browser, tenant, "per@example.org")).status_code == 401
    assert (await portal_login(browser, tenant, "per@example.org", NEW_PASSWORD)).status_code == 200


async def test_reset_requests_are_limited_and_one_link_stays_live(admin_client, app, tenant, settings, worker):
    """#17.14 for the portal: 3 requests an hour per organization and e-mail, the same
    answers for an unknown address, and only the newest link works."""
    import httpx

    await active_customer(admin_client, tenant)
    statuses = {}
    for n, email in enumerate(("per@example.org", "ghost@example.org")):
        transport = httpx.ASGITransport(app=app, client=(f"10.77.{n}.{tenant.id % 250}", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as c:
            body = {"tenant": tenant.slug, "email": email}
            answers = [await c.post("/api/portal/password-reset", json=body) for _ in range(10)]
        statuses[email] = [(r.status_code, r.json()["detail"] if r.status_code == 429 else r.json()) for r in answers]
    limit = settings.reset_max_per_account
    assert [s for s, _ in statuses["per@example.org"]] == [202] * limit + [429] * (10 - limit)
    assert statuses["per@example.org"] == statuses["ghost@example.org"]
    worker.drain()
    live = (
        (PasswordResetToken.tenant_id == tenant.id)
        & (PasswordResetToken.kind == "portal")
        & (PasswordResetToken.purpose == "reset")
        & PasswordResetToken.used_at.is_null()
    )
    assert await PasswordResetToken.count().where(live) == 1


async def test_reset_is_not_sent_for_invited_or_disabled_accounts(admin_client, tenant):
    from plugins.portal.services import start_reset

    customer = await private_customer(admin_client)
    await invite(admin_client, str(customer["id"]))
    assert await start_reset(tenant.slug, "per@example.org") is None  # no password yet
    await activate(admin_client, tenant, await last_link(tenant.id, "per@example.org"))
    assert await start_reset(tenant.slug, "per@example.org") is not None
    await admin_client.put("/api/modules/customers", json={"enabled": False})
    assert await start_reset(tenant.slug, "per@example.org") is None


# --- cross-tenant -------------------------------------------------------------------------------


async def test_portal_session_of_one_tenant_reads_nothing_of_another(admin_client, browser, tenant, other_tenant, app):
    mine = await active_customer(admin_client, tenant)
    async with AppClient(app=app) as other_admin:
        assert (await login(other_admin, other_tenant)).status_code == 200
        theirs = await private_customer(other_admin, name="Deras Kund")
        await portal_account(other_admin, other_tenant, str(theirs["id"]), "per@example.org")
        # Same address in two organizations: two separate accounts.
        assert (await portal_login(browser, tenant, "per@example.org")).status_code == 200
        me = (await browser.get("/api/portal/me")).json()
        assert me["tenant"] == tenant.slug and me["person_id"] == mine["id"]
        # The portal session is no key to the other organization (or to this one's API).
        for path in (f"/api/customers/{theirs['id']}", f"/api/customers/{theirs['id']}/portal-account"):
            assert (await browser.get(path)).status_code == 401
        # Employees of the other organization do not see this one's accounts or people.
        mine_account = (await admin_client.get(f"/api/customers/{mine['id']}/portal-account")).json()["account"]
        assert (await other_admin.get(f"/api/customers/portal-accounts/{mine_account['id']}")).status_code == 404
        assert (await other_admin.get(f"/api/customers/{mine['id']}/portal-account")).status_code == 404
        assert (await invite(other_admin, str(mine["id"]))).status_code == 404
        r = await other_admin.post(f"/api/customers/portal-accounts/{mine_account['id']}/disable")
        assert r.status_code == 404
        theirs_status = (await other_admin.get(f"/api/customers/{theirs['id']}/portal-account")).json()
        their_id = theirs_status["account"]["id"]
        assert (await admin_client.get(f"/api/customers/portal-accounts/{their_id}")).status_code == 404
        # Closing their account leaves this organization's login alone.
        assert (await other_admin.post(f"/api/customers/portal-accounts/{their_id}/disable")).status_code == 200
        assert (await portal_login(browser, other_tenant, "per@example.org")).status_code == 401
    assert (await browser.get("/api/portal/me")).json()["tenant"] == tenant.slug


async def test_portal_requests_leave_their_connections_set_to_their_tenant(admin_client, browser, tenant, monkeypatch):
    """The portal's session lookup sets its own scope (gallra_session_row, PostgreSQL): a
    portal request no longer switches its pooled connection to every tenant and back (two
    round trips of set_config each request). SQLite has no scope: the same answers."""
    from core.auth import token_hash
    from core.db import is_sqlite

    await active_customer(admin_client, tenant)
    assert (await portal_login(browser, tenant, "per@example.org")).status_code == 200
    sent = record_simple_statements(monkeypatch)
    for _ in range(2):  # the first may find a connection another test left on another tenant
        sent.clear()
        me = await browser.get("/api/portal/me")
        assert me.status_code == 200 and me.json()["tenant"] == tenant.slug
    assert [q for q in sent if "gallra.tenant" in q] == []
    if not is_sqlite():
        token = browser.cookies.get("gallra_portal")
        assert token
        rows = await raw("SELECT * FROM gallra_session_row({}, {})", "portal", token_hash(token))
        assert [r["tenant_id"] for r in rows] == [tenant.id]
        assert await raw("SELECT * FROM gallra_session_row({}, {})", "employee", token_hash(token)) == []


# --- housekeeping ----------------------------------------------------------------------------


async def test_purge_job_deletes_only_what_ended(admin_client, browser, tenant, settings):
    from core.plugins import get_host

    jobs = {j.id: j for j in get_host().collect_by_plugin("register_jobs").get("portal", [])}
    assert jobs["portal.purge_expired"].func is purge_expired

    customer = await active_customer(admin_client, tenant)
    account = (await admin_client.get(f"/api/customers/{customer['id']}/portal-account")).json()["account"]
    assert (await portal_login(browser, tenant, "per@example.org")).status_code == 200
    await portal_login(browser, tenant, "per@example.org", "wrong-password-1")
    other = await private_customer(admin_client, name="Eva", email="eva@example.org")
    await invite(admin_client, str(other["id"]))
    await purge_expired()
    # Live session and live invitation stay; the used invitation went.
    assert await portal_sessions(tenant.id, account["id"]) == 1
    assert (
        await PasswordResetToken.count().where(
            (PasswordResetToken.tenant_id == tenant.id) & (PasswordResetToken.kind == "portal")
        )
        == 1
    )
    later = utcnow() + timedelta(days=8)
    await purge_expired(later)
    assert await portal_sessions(tenant.id, account["id"]) == 0
    assert (
        await PasswordResetToken.count().where(
            (PasswordResetToken.tenant_id == tenant.id) & (PasswordResetToken.kind == "portal")
        )
        == 0
    )


# --- describe_person (two-factor finds phones without importing this plugin) -------------------


async def test_describe_person_for_customers_and_contacts(admin_client, tenant, other_tenant):
    from core.secondfactor import describe_person

    per = await private_customer(
        admin_client, mobile_phone="070-123 45 67", private_phone="070-765 43 21", work_phone="08-123 456 78"
    )
    answer = await describe_person(tenant.id, "customer", per["id"])
    assert answer.name == "Per Privat"
    assert (answer.mobile_phone, answer.private_phone, answer.work_phone) == (
        "+46701234567",
        "+46707654321",
        "+46812345678",
    )
    assert answer.fix_hint_sv == "Kundkortet – redigera kunden"
    assert answer.fix_hint_en == "The customer card – edit the customer"

    company = await make_customer(admin_client, name="Bolaget AB", mobile_phone="070-111 11 11")
    answer = await describe_person(tenant.id, "customer", company["id"])
    assert answer.name == "Bolaget AB"
    assert (answer.mobile_phone, answer.private_phone, answer.work_phone) == (None, None, None)
    assert "add a contact person" in answer.fix_hint_en and "kontaktperson" in answer.fix_hint_sv

    karin = await make_contact(admin_client, company["id"], work_phone="08-765 432 10")
    answer = await describe_person(tenant.id, "contact", karin["id"])
    assert answer.name == "Karin Kontakt" and answer.work_phone == "+46876543210"
    assert answer.fix_hint_sv == "Kundkortet – redigera kontaktpersonen"
    assert answer.fix_hint_en == "The customer card – edit the contact person"

    # Another tenant's people, unknown ids, deleted people: no answer.
    assert await describe_person(other_tenant.id, "customer", per["id"]) is None
    assert await describe_person(other_tenant.id, "contact", karin["id"]) is None
    assert await describe_person(tenant.id, "contact", per["id"] + 10_000_000) is None
    # The customer register's rows, deleted in place (the portal knows them only by their kind).
    await raw("UPDATE customer SET deleted_at = {} WHERE id = {}", utcnow(), per["id"])
    await raw("UPDATE contact_person SET deleted_at = {} WHERE id = {}", utcnow(), karin["id"])
    assert await describe_person(tenant.id, "customer", per["id"]) is None
    assert await describe_person(tenant.id, "contact", karin["id"]) is None


def _dt(value: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00"))
