"""The JSON API's edge (finding #17.9): a browser lets any website post a form or a
``text/plain`` body to Gallra with Gallra's cookies, but not ``application/json``. So the
API reads only ``application/json`` bodies (415 otherwise), and refuses a state-changing
request a browser marks as coming from another site (403), on every route; scripts, which
send neither ``Origin`` nor ``Sec-Fetch-Site``, pass."""

from __future__ import annotations

import json
from typing import Any

from tests.pages.helpers import csrf_of
from tests.security import matrix
from tests.support import login

EVIL = "https://evil.example"


def _login_body(tenant: Any) -> bytes:
    return json.dumps(
        {"tenant": tenant.slug, "email": tenant.admin_email, "password": tenant.password}
    ).encode()


async def _customers(client: Any) -> int:
    r = await client.get("/api/customers")
    assert r.status_code == 200, r.text
    return int(r.json()["total"])


async def test_a_cross_site_text_plain_login_opens_no_session(anon_client, tenant):
    """Login CSRF: a form with enctype=text/plain can carry a JSON-looking body."""
    body = _login_body(tenant)
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {"content-type": content_type} if content_type else {}
        r = await anon_client.post("/api/auth/login", content=body, headers=headers)
        assert r.status_code == 415, (content_type, r.text)
        assert "application/json" in r.json()["detail"]
        assert "gallra_session" not in r.headers.get("set-cookie", "")
    for headers in ({"origin": EVIL}, {"sec-fetch-site": "cross-site"}, {"origin": "null"}):
        r = await anon_client.post(
            "/api/auth/login", content=body, headers={"content-type": "application/json", **headers}
        )
        assert r.status_code == 403, (headers, r.text)
        assert "gallra_session" not in r.headers.get("set-cookie", "")
    assert (await anon_client.get("/api/auth/me")).status_code == 401
    # The same login from a script, and from Gallra's own pages, works.
    assert (await login(anon_client, tenant)).status_code == 200
    r = await anon_client.post(
        "/api/auth/login",
        content=body,
        headers={
            "content-type": "application/json; charset=utf-8",
            "origin": "http://testserver.local",
            "sec-fetch-site": "same-origin",
        },
    )
    assert r.status_code == 200, r.text


async def test_a_cross_site_request_with_the_session_cookie_changes_nothing(admin_client):
    before = await _customers(admin_client)
    body = json.dumps({"name": "Planted AB"}).encode()
    for headers in (
        {"content-type": "text/plain"},
        {"content-type": "application/json", "origin": EVIL},
        {"content-type": "application/json", "sec-fetch-site": "cross-site"},
    ):
        r = await admin_client.post("/api/customers", content=body, headers=headers)
        assert r.status_code in (403, 415), (headers, r.text)
    r = await admin_client.delete("/api/customers/1", headers={"origin": EVIL})
    assert r.status_code == 403
    r = await admin_client.post("/api/auth/logout", headers={"sec-fetch-site": "cross-site"})
    assert r.status_code == 403
    assert await _customers(admin_client) == before
    assert (await admin_client.get("/api/auth/me")).status_code == 200  # still logged in
    # Reading is not refused (a link from another site may open a page that reads).
    cross = {"origin": EVIL, "sec-fetch-site": "cross-site"}
    r = await admin_client.get("/api/auth/me", headers=cross)
    assert r.status_code == 200
    json_type = {"content-type": "application/json"}
    r = await admin_client.post("/api/customers", content=body, headers=json_type)
    assert r.status_code == 201, r.text
    assert await _customers(admin_client) == before + 1


async def test_every_api_route_that_changes_something_is_held_to_it(app, admin_client, anon_client):
    ops = [
        op for op in matrix.operations(app)
        if op.method in ("POST", "PUT", "PATCH", "DELETE") and op.openapi_path.startswith("/api/")
    ]
    assert len(ops) > 50
    for op in ops:
        url = op.url({n: (1 if t is int else "employee") for n, t in op.params})
        body = json.dumps(op.body if op.body is not None else {}).encode()
        for client in (anon_client, admin_client):
            plain = {"content-type": "text/plain"}
            r = await client.request(op.method, url, content=body, headers=plain)
            assert r.status_code == 415, (op.method, url, r.text)
            r = await client.request(
                op.method, url, content=body,
                headers={"content-type": "application/json", "sec-fetch-site": "cross-site"},
            )
            assert r.status_code == 403, (op.method, url, r.text)


async def test_pages_keep_their_forms_and_refuse_other_sites(anon_client, tenant):
    """Form posts outside /api/ are the pages' (their own CSRF token); a browser's
    cross-site mark is refused there too."""
    token = await csrf_of(anon_client)
    form = {"csrf_token": token, "tenant": tenant.slug, "email": tenant.admin_email,
            "password": tenant.password}
    r = await anon_client.post("/login", data=form, headers={"sec-fetch-site": "cross-site"},
                               follow_redirects=False)
    assert r.status_code == 403
    r = await anon_client.post("/login", data=form, headers={"sec-fetch-site": "same-origin"},
                               follow_redirects=False)
    assert r.status_code == 303, r.text
