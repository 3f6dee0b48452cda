"""Helpers for page tests through the test client: read the CSRF token, post forms."""

from __future__ import annotations

import re
from typing import Any

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


async def csrf_of(client: Any, path: str = "/login") -> str:
    r = await client.get(path)
    match = CSRF_RE.search(r.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


async def post_form(client: Any, path: str, data: dict[str, Any], token_from: str = "/login") -> Any:
    token = await csrf_of(client, token_from)
    return await client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


async def page_login(client: Any, tenant: Any, email: str | None = None) -> Any:
    return await post_form(
        client,
        "/login",
        {"tenant": tenant.slug, "email": email or tenant.admin_email, "password": tenant.password},
    )


async def form_refused(client: Any, path: str, data: dict[str, Any], field: str, token_from: str = "") -> Any:
    """Post the form to ``path`` (its token from ``token_from``, else ``path``): refused
    (400), the page showing the error of ``field``. The answer."""
    r = await post_form(client, path, data, token_from or path)
    assert r.status_code == 400 and f'id="e-{field}"' in r.text, (path, data, r.status_code)
    return r


async def form_done(client: Any, path: str, data: dict[str, Any], token_from: str = "") -> str:
    """Post the form to ``path`` (its token from ``token_from``, else ``path``): done (303).
    Where it leads."""
    r = await post_form(client, path, data, token_from or path)
    assert r.status_code == 303, (path, data, r.status_code, r.text[:300])
    return str(r.headers["location"])


async def delete_on_its_page(client: Any, path: str, listing: str) -> str:
    """Delete the record at page ``path`` as a person would: its delete page says what
    happens to the personal data (the anonymization notice), the form is done and the
    record is gone from ``listing``. The delete page's text."""
    page = (await client.get(path + "/delete")).text
    assert 'id="anonymization-notice"' in page
    await form_done(client, path + "/delete", {}, path)
    assert path not in (await client.get(listing)).text
    return page
