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
