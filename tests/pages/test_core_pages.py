"""Core pages through the test client: language, CSRF, login, logout, reset, start page."""

from __future__ import annotations

from core.tables import Outbox
from tests.pages.helpers import csrf_of, page_login, post_form


async def test_login_page_is_swedish_by_default_and_english_on_choice(anon_client):
    r = await anon_client.get("/login")
    assert r.status_code == 200
    assert '<html lang="sv">' in r.text
    assert "Logga in" in r.text and 'for="f-email"' in r.text
    r = await post_form(anon_client, "/language", {"lang": "en", "next": "/login"})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    r = await anon_client.get("/login")
    assert '<html lang="en">' in r.text and "Log in" in r.text


async def test_form_without_the_csrf_token_is_refused(anon_client, tenant):
    await anon_client.get("/login")  # the browser has its cookie, but the form lacks the token
    r = await anon_client.post(
        "/login",
        data={"tenant": tenant.slug, "email": tenant.admin_email, "password": tenant.password},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert "gallra_session" not in r.cookies
    r = await anon_client.post(
        "/login",
        data={"csrf_token": "x" * 43, "tenant": tenant.slug, "email": tenant.admin_email,
              "password": tenant.password},
        follow_redirects=False,
    )
    assert r.status_code == 403


async def test_form_from_another_site_is_refused(anon_client, tenant):
    token = await csrf_of(anon_client)
    r = await anon_client.post(
        "/login",
        data={"csrf_token": token, "tenant": tenant.slug, "email": tenant.admin_email,
              "password": tenant.password},
        headers={"origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert r.status_code == 403


async def test_json_api_with_session_cookie_needs_no_csrf_token(admin_client):
    r = await admin_client.get("/api/auth/me")
    assert r.status_code == 200


async def test_login_start_page_and_logout(anon_client, tenant):
    r = await anon_client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    r = await page_login(anon_client, tenant)
    assert r.status_code == 303 and r.headers["location"] == "/"
    r = await anon_client.get("/")
    assert r.status_code == 200
    assert "Admin Person" in r.text
    assert "Kunder" in r.text and "Ärenden" in r.text  # the enabled modules
    r = await post_form(anon_client, "/logout", {}, token_from="/")
    assert r.status_code == 303
    r = await anon_client.get("/", follow_redirects=False)
    assert r.status_code == 303


async def test_wrong_password_is_shown_beside_the_field(anon_client, tenant):
    r = await post_form(
        anon_client, "/login", {"tenant": tenant.slug, "email": tenant.admin_email, "password": "nope"}
    )
    assert r.status_code == 401
    assert 'id="e-password"' in r.text and "Fel organisation" in r.text
    r = await post_form(anon_client, "/login", {"tenant": "", "email": "", "password": ""})
    assert r.status_code == 400
    assert 'id="e-tenant"' in r.text and 'id="e-email"' in r.text and 'aria-invalid="true"' in r.text


async def test_login_goes_on_to_a_local_next_only(anon_client, tenant):
    token = await csrf_of(anon_client)
    r = await anon_client.post(
        "/login",
        data={"csrf_token": token, "tenant": tenant.slug, "email": tenant.admin_email,
              "password": tenant.password, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/"


async def test_disabled_module_is_not_in_the_navigation(anon_client, tenant_factory):
    t = await tenant_factory(modules=["customers"])
    await page_login(anon_client, t)
    r = await anon_client.get("/")
    assert "Kunder" in r.text and "Ärenden" not in r.text


async def test_password_reset_page_says_when_the_limit_is_reached(
    anon_client, tenant, settings, worker
):
    """#17.14: the page shows the limit beside the field, in Swedish, for any address."""
    for path, email in (
        ("/password-reset", tenant.admin_email),
        ("/password-reset", "ghost@example.org"),
        ("/portal/password-reset", "ghost@example.org"),
    ):
        form = {"tenant": tenant.slug, "email": email}
        for _ in range(settings.reset_max_per_account):
            r = await post_form(anon_client, path, form, path)
            assert r.status_code == 200
        r = await post_form(anon_client, path, form, path)
        assert r.status_code == 429
        assert "För många begäranden om nytt lösenord" in r.text and 'id="e-email"' in r.text
    worker.drain()  # no queued task is left for a later test's worker


async def test_password_reset_pages(anon_client, tenant, worker):
    r = await post_form(anon_client, "/password-reset", {"tenant": tenant.slug, "email": tenant.admin_email})
    assert r.status_code == 200 and "återställningslänk" in r.text.lower()
    worker.drain()
    mail = await Outbox.select().where(
        (Outbox.tenant_id == tenant.id) & (Outbox.channel == "email")
    ).order_by(Outbox.id, ascending=False).first()
    token = mail["body"].split("/reset?token=")[1].split()[0]
    r = await anon_client.get(f"/reset?token={token}")
    assert r.status_code == 200 and 'name="password2"' in r.text
    r = await post_form(anon_client, "/reset", {"token": token, "password": "short", "password2": "short"})
    assert r.status_code == 400 and 'id="e-password"' in r.text
    r = await post_form(
        anon_client, "/reset", {"token": token, "password": "a-new-password-1", "password2": "other-password-1"}
    )
    assert r.status_code == 400 and 'id="e-password2"' in r.text
    r = await post_form(
        anon_client, "/reset", {"token": token, "password": "a-new-password-1", "password2": "a-new-password-1"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/login"
    r = await post_form(
        anon_client, "/login",
        {"tenant": tenant.slug, "email": tenant.admin_email, "password": "a-new-password-1"},
    )
    assert r.status_code == 303
    r = await anon_client.get(f"/reset?token={token}")
    assert r.status_code == 400  # used


async def test_unknown_reset_link_says_what_to_do(anon_client):
    r = await anon_client.get("/reset?token=nothing")
    assert r.status_code == 400 and 'href="/password-reset"' in r.text
