"""Login, logout, session expiry and rotation, throttling, password reset."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from core import throttle
from core.auth import login_key
from core.tables import PasswordResetToken, Session
from tests.support import login


async def test_login_sets_httponly_lax_cookie_and_me_works(client, tenant):
    response = await login(client, tenant, api=True)
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert "gallra_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in tests; Secure only behind HTTPS
    me = await client.get("/api/auth/me")
    assert me.status_code == 200
    assert me.json()["employee_id"] == tenant.admin_id
    assert me.json()["tenant"] == tenant.slug


async def test_secure_cookie_behind_https(app, tenant):
    from core.testing.client import AppClient

    async with AppClient(app=app, base_url="https://testserver.local") as c:
        response = await login(c, tenant, api=True)
        assert response.status_code == 200
        assert "Secure" in response.headers["set-cookie"]


async def test_wrong_password_wrong_tenant_unknown_user_answer_alike(client, tenant):
    a = await login(client, tenant, password="not-the-password")
    b = await client.post(
        "/api/auth/login", json={"tenant": "no-such-tenant", "email": tenant.admin_email, "password": tenant.password}
    )
    c = await login(client, tenant, email="nobody@example.org")
    assert a.status_code == b.status_code == c.status_code == 401
    assert a.json()["detail"] == b.json()["detail"] == c.json()["detail"]
    assert "gallra_session" not in a.headers.get("set-cookie", "")


async def test_malformed_login_body_is_400(client):
    r = await client.post("/api/auth/login", content=b'{"tenant": "x"', headers={"content-type": "application/json"})
    assert r.status_code == 400
    r = await client.post("/api/auth/login", json={"tenant": "x", "email": "a@b.se"})
    assert r.status_code == 400
    r = await client.post("/api/auth/login", json={"tenant": "x", "email": "a@b.se", "password": "p", "extra": 1})
    assert r.status_code == 400


async def test_logout_ends_session(admin_client):
    assert (await admin_client.get("/api/auth/me")).status_code == 200
    assert (await admin_client.post("/api/auth/logout")).status_code == 200
    assert (await admin_client.get("/api/auth/me")).status_code == 401


async def test_tampered_cookie_is_refused(client, tenant):
    await login(client, tenant)
    token = client.cookies.get("gallra_session")
    client.cookies.set("gallra_session", token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    assert (await client.get("/api/auth/me")).status_code == 401


async def test_session_id_rotates_at_login(client, tenant):
    await login(client, tenant, api=True)
    first = client.cookies.get("gallra_session")
    await login(client, tenant, api=True)
    second = client.cookies.get("gallra_session")
    assert first != second
    # The earlier token no longer works.
    client.cookies.set("gallra_session", first)
    assert (await client.get("/api/auth/me")).status_code == 401


async def test_session_idle_timeout_and_absolute_expiry(client, tenant, settings):
    await login(client, tenant)
    assert (await client.get("/api/auth/me")).status_code == 200
    with time_machine.travel(timedelta(minutes=settings.session_idle_minutes + 1), tick=True):
        assert (await client.get("/api/auth/me")).status_code == 401

    await login(client, tenant)
    # Stay active every 20 minutes: idle never triggers, the absolute limit does.
    step = 0
    ok = True
    while step * 20 < settings.session_max_hours * 60 - 20:
        step += 1
        with time_machine.travel(timedelta(minutes=20 * step), tick=True):
            ok = (await client.get("/api/auth/me")).status_code == 200
            if not ok:
                break
    assert ok, "session should live while active until the absolute limit"
    with time_machine.travel(timedelta(hours=settings.session_max_hours, minutes=1), tick=True):
        assert (await client.get("/api/auth/me")).status_code == 401


async def test_login_throttled_after_ten_failures_even_with_right_password(client, tenant, settings):
    for _ in range(settings.login_max_failures):
        r = await login(client, tenant, password="wrong-password")
        assert r.status_code == 401
    r = await login(client, tenant, api=True)
    assert r.status_code == 429
    window = timedelta(minutes=settings.login_window_minutes)
    failures = await throttle.taken(login_key(tenant.slug, tenant.admin_email), window)
    assert failures == settings.login_max_failures
    # An unknown account is throttled the same way: no hint that it does not exist.
    for _ in range(settings.login_max_failures):
        await login(client, tenant, email="ghost@example.org", password="wrong-password")
    r = await login(client, tenant, email="ghost@example.org", password="wrong-password")
    assert r.status_code == 429
    with time_machine.travel(timedelta(minutes=settings.login_window_minutes + 1), tick=True):
        assert (await login(client, tenant, api=True)).status_code == 200


async def test_parallel_guesses_get_no_more_checks_than_the_limit(
    app, tenant, settings, monkeypatch
):
    """#17.6: 30 wrong guesses at once, then the right password while they are in flight:
    at most the limit is checked, the rest and the right password are refused unchecked."""
    from core import auth
    from tests.burst import guess_burst

    limit = settings.login_max_failures
    body = {"tenant": tenant.slug, "email": tenant.admin_email}
    burst = await guess_burst(
        app, monkeypatch, auth, "/api/auth/login",
        {**body, "password": "wrong-password-x"}, {**body, "password": tenant.password},
        n_wrong=3 * limit, limit=limit,
    )
    assert burst.checked == limit
    assert sorted(burst.wrong) == [401] * limit + [429] * (2 * limit)
    assert burst.right == 429
    window = timedelta(minutes=settings.login_window_minutes)
    assert await throttle.taken(login_key(tenant.slug, tenant.admin_email), window) == limit


async def test_a_right_password_gives_its_attempt_back(client, tenant, settings):
    for _ in range(settings.login_max_failures - 1):
        assert (await login(client, tenant, password="wrong-password")).status_code == 401
    for _ in range(3):  # logins that succeed do not use up what is left
        assert (await login(client, tenant, api=True)).status_code == 200
    assert (await login(client, tenant, password="wrong-password")).status_code == 401
    assert (await login(client, tenant, api=True)).status_code == 429


async def test_password_reset_single_use_and_ends_sessions(client, tenant, worker):
    from core import auth
    from core.tables import Outbox

    await login(client, tenant)
    r = await client.post("/api/auth/password-reset", json={"tenant": tenant.slug, "email": tenant.admin_email})
    assert r.status_code == 202
    worker.drain()
    mail = await Outbox.select().where((Outbox.tenant_id == tenant.id) & (Outbox.channel == "email")).first()
    assert mail is not None and mail["status"] == "sent"
    token = mail["body"].split("token=")[1].split()[0]
    assert await PasswordResetToken.count().where(PasswordResetToken.tenant_id == tenant.id) == 1

    r = await client.post(
        "/api/auth/password-reset/complete", json={"token": token, "password": "brand-new-password-1"}
    )
    assert r.status_code == 200
    assert "gallra_session" not in r.headers.get("set-cookie", "")  # not logged in by the reset
    assert (await client.get("/api/auth/me")).status_code == 401  # every session ended
    assert await Session.count().where(Session.employee_id == tenant.admin_id) == 0

    r = await client.post("/api/auth/password-reset/complete", json={"token": token, "password": "another-password-2"})
    assert r.status_code == 400
    assert (await login(client, tenant, password="brand-new-password-1")).status_code == 200
    assert (await login(client, tenant, password=tenant.password)).status_code == 401
    assert auth  # module used


async def test_password_reset_token_expires(client, tenant, settings):
    from core import auth

    token = await auth.start_password_reset(tenant.slug, tenant.admin_email)
    assert token
    with time_machine.travel(timedelta(minutes=settings.reset_token_minutes, seconds=1), tick=True):
        r = await client.post(
            "/api/auth/password-reset/complete", json={"token": token, "password": "brand-new-password-1"}
        )
        assert r.status_code == 400
        assert "expired" in r.json()["detail"]


async def test_password_reset_same_answer_for_unknown_account(client, tenant, worker):
    a = await client.post("/api/auth/password-reset", json={"tenant": tenant.slug, "email": tenant.admin_email})
    b = await client.post("/api/auth/password-reset", json={"tenant": tenant.slug, "email": "nobody@example.org"})
    c = await client.post("/api/auth/password-reset", json={"tenant": "no-such-org", "email": "nobody@example.org"})
    assert a.status_code == b.status_code == c.status_code == 202
    assert a.json() == b.json() == c.json()
    worker.drain()
    assert await PasswordResetToken.count().where(PasswordResetToken.tenant_id == tenant.id) == 1


def _from(app, ip: str):
    """A client at its own address (the test client's is shared by every test)."""
    import httpx

    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver.local")


def _address() -> str:
    import random

    return "10." + ".".join(str(random.randint(1, 254)) for _ in range(3))


async def test_reset_requests_are_limited_per_account_alike_for_unknown_ones(
    app, tenant, settings, worker
):
    """#17.14: 30 requests made 30 live links. Now 3 an hour per organization and e-mail
    (one live link: a new one replaces the older), the same answers for an unknown address."""
    from core.tables import Outbox

    async with _from(app, _address()) as c:
        mine = [
            await c.post("/api/auth/password-reset", json={"tenant": tenant.slug, "email": e})
            for e in [tenant.admin_email] * 30
        ]
    async with _from(app, _address()) as c:
        ghost = [
            await c.post("/api/auth/password-reset", json={"tenant": tenant.slug, "email": e})
            for e in ["ghost@example.org"] * 30
        ]
    limit = settings.reset_max_per_account
    assert [r.status_code for r in mine] == [202] * limit + [429] * (30 - limit)
    assert [(r.status_code, r.json()) for r in mine] == [(r.status_code, r.json()) for r in ghost]
    worker.drain()
    mails = await Outbox.select(Outbox.body).where(
        (Outbox.tenant_id == tenant.id) & (Outbox.channel == "email")
    )
    assert len(mails) == limit
    live = PasswordResetToken.used_at.is_null() & (PasswordResetToken.tenant_id == tenant.id)
    assert await PasswordResetToken.count().where(live) == 1
    tokens = [m["body"].split("token=")[1].split()[0] for m in mails]
    answers = []
    async with _from(app, _address()) as c:
        for token in tokens:
            r = await c.post(
                "/api/auth/password-reset/complete",
                json={"token": token, "password": "brand-new-password-1"},
            )
            answers.append(r.status_code)
    assert sorted(answers) == [200] + [400] * (limit - 1)


async def test_reset_requests_are_limited_per_client_address(app, tenant, monkeypatch, worker):
    import dataclasses

    from core import auth

    real = auth.get_settings()
    monkeypatch.setattr(
        auth, "get_settings", lambda: dataclasses.replace(real, reset_max_per_address=5)
    )
    address = _address()
    async with _from(app, address) as c:
        answers = [
            (await c.post("/api/auth/password-reset", json=body)).status_code
            for body in [{"tenant": tenant.slug, "email": f"p{i}@example.org"} for i in range(8)]
        ]
        assert answers == [202] * 5 + [429] * 3
        body = {"tenant": tenant.slug, "email": "q@example.org"}
        r = await c.post("/api/portal/password-reset", json=body)
        assert r.status_code == 429  # the portal's requests count for the address too
    async with _from(app, _address()) as other:
        body = {"tenant": tenant.slug, "email": "p9@example.org"}
        assert (await other.post("/api/auth/password-reset", json=body)).status_code == 202
    worker.drain()  # no queued task is left for a later test's worker


async def test_reset_refuses_short_password(client, tenant):
    from core import auth

    token = await auth.start_password_reset(tenant.slug, tenant.admin_email)
    r = await client.post("/api/auth/password-reset/complete", json={"token": token, "password": "short"})
    assert r.status_code == 400
    assert "at least" in r.json()["detail"]
    # The token was not burnt by the refused attempt.
    r = await client.post(
        "/api/auth/password-reset/complete", json={"token": token, "password": "long-enough-password"}
    )
    assert r.status_code == 200


def test_argon2_parameters_meet_owasp_minimum():
    """Gallra hashes with Argon2id at OWASP's baseline. The test kit hashes at the lowest
    cost in its own processes only: a process of Gallra's own (a server, a worker, the CLI)
    hashes at the real cost."""
    import json
    import subprocess
    import sys

    from core.auth import ARGON2_PARAMETERS, HASHER

    assert ARGON2_PARAMETERS["memory_cost"] >= 19 * 1024
    assert ARGON2_PARAMETERS["time_cost"] >= 2
    assert HASHER.type.name == "ID"
    assert HASHER.memory_cost == 8  # this test process: the kit's hasher
    code = (
        "import json; from core.auth import HASHER as h, hash_password; import asyncio; "
        "print(json.dumps([h.memory_cost, h.time_cost, h.parallelism, h.type.name, "
        "asyncio.run(hash_password('a-password-of-length'))]))"
    )
    memory, time_cost, lanes, kind, made = json.loads(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    )
    assert (memory, time_cost, lanes) == (
        ARGON2_PARAMETERS["memory_cost"], ARGON2_PARAMETERS["time_cost"], ARGON2_PARAMETERS["parallelism"]
    )
    assert kind == "ID" and made.startswith(f"$argon2id$v=19$m={memory},t={time_cost},p={lanes}$")


async def test_a_hash_of_other_parameters_is_rehashed_at_login(client, tenant):
    """A password stored with other Argon2 parameters (older, weaker) still logs in, and
    the login stores it again with the current ones; a wrong password changes nothing."""
    from argon2 import PasswordHasher

    from core.auth import HASHER
    from core.tables import Employee

    old = PasswordHasher(time_cost=3, memory_cost=16, parallelism=1).hash(tenant.password)
    await Employee.update({Employee.password_hash: old}).where(Employee.id == tenant.admin_id)

    async def stored() -> str:
        row = await Employee.select(Employee.password_hash).where(Employee.id == tenant.admin_id).first()
        return str(row["password_hash"])

    assert (await login(client, tenant, password="not-the-password")).status_code == 401
    assert await stored() == old
    assert (await login(client, tenant, api=True)).status_code == 200
    new = await stored()
    assert new != old and not HASHER.check_needs_rehash(new)
    assert HASHER.verify(new, tenant.password)


async def test_one_login_system_keeps_the_kinds_apart(client, tenant):
    """#18.6: employees' and portal people's sessions and links share one table each, told
    apart by ``kind``: a token of one kind is nothing to the other kind's lookups (and is not
    deleted by them), and ending an employee's sessions leaves a portal session whose
    subject has the same id."""
    from core import auth

    portal_token = await auth.open_session(auth.PORTAL, tenant.id, tenant.admin_id)
    client.cookies.set("gallra_session", portal_token)
    assert (await client.get("/api/auth/me")).status_code == 401
    assert await auth.authenticate(portal_token) is None
    assert await auth.live_session(auth.PORTAL, portal_token) is not None

    employee_token = await auth.create_session(tenant.id, tenant.admin_id, "127.0.0.1", "test")
    assert await auth.live_session(auth.PORTAL, employee_token) is None
    user = await auth.authenticate(employee_token)
    assert user is not None and user.employee_id == tenant.admin_id
    await auth.end_sessions(tenant.id, tenant.admin_id)
    assert await auth.authenticate(employee_token) is None
    assert await auth.live_session(auth.PORTAL, portal_token) is not None
    rows = await Session.select(Session.kind, Session.subject_id, Session.employee_id).where(
        Session.tenant_id == tenant.id
    )
    assert rows == [{"kind": "portal", "subject_id": tenant.admin_id, "employee_id": 0}]

    link = await auth.issue_link(auth.PORTAL, tenant.id, tenant.admin_id, "reset", timedelta(minutes=30))
    assert await auth.find_link(auth.EMPLOYEE, link, "reset") is None
    assert await auth.find_link(auth.PORTAL, link, "invite") is None
    response = await client.post(
        "/api/auth/password-reset/complete", json={"token": link, "password": "a-new-password-1"}
    )
    assert response.status_code == 400
    assert await auth.find_link(auth.PORTAL, link, "reset") is not None
