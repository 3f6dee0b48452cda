"""Load (issue #10, part 5): 200 concurrent logins and 200 concurrent person searches give no
server error, on SQLite and on PostgreSQL. Times are printed (pytest -s) for the record."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from core.db import pooled
from core.testing.client import AppClient
from tests.support import test_password_hash

CONCURRENT = 200


async def _employees(tenant_id: int, n: int) -> list[str]:
    from core.tables import Employee

    emails = [f"load{i}@load.example" for i in range(n)]
    await Employee.insert(
        *[
            Employee(
                tenant_id=tenant_id,
                name=f"Load Person {i}",
                email=email,
                role="user",
                password_hash=test_password_hash(),
            )
            for i, email in enumerate(emails)
        ]
    )
    return emails


@pytest.mark.slow
async def test_200_concurrent_logins(tenant: Any, stub_broker: Any) -> None:
    from core.app import create_app

    app = create_app(check_migrations=False, debug=True)  # a 500 says why in its body
    emails = await _employees(tenant.id, CONCURRENT)
    async with AppClient(app=app):  # runs the app's start-up once

        errors: list[str] = []

        async def one(email: str) -> int:
            # a browser each: a shared cookie jar would make each login end the one before
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                response = await client.post(
                    "/api/auth/login",
                    json={"tenant": tenant.slug, "email": email, "password": tenant.password},
                )
                if response.status_code >= 500:
                    errors.append(response.text.strip().splitlines()[-1][:300])
                return response.status_code

        # The requests run in this loop (ASGITransport), so this loop gets the pool the
        # application's lifespan gives the serving loop in production.
        async with pooled():
            started = time.monotonic()
            codes = await asyncio.gather(*[one(e) for e in emails])
            took = time.monotonic() - started
    counts = {c: codes.count(c) for c in set(codes)}
    print(f"{CONCURRENT} concurrent logins: {counts} in {took:.1f} s")
    assert not errors, (counts, sorted(set(errors)))
    assert counts.get(200) == CONCURRENT, counts  # every login with the right password works
    from core.tables import Session

    assert await Session.count().where(Session.tenant_id == tenant.id) == CONCURRENT


@pytest.mark.slow
async def test_200_concurrent_searches(app: Any, admin_client: Any) -> None:
    if not any(getattr(r, "path", "") == "/api/gdpr/search" for r in app.routes):
        pytest.skip("GET /api/gdpr/search is not mounted")
    for i in range(20):
        response = await admin_client.post(
            "/api/customers", json={"name": f"Svensson {i}", "email": f"s{i}@kund.example"}
        )
        assert response.status_code == 201, response.text

    async def one(i: int) -> tuple[int, int]:
        q = ["Svensson", f"s{i % 20}@kund.example", "kund", "nobody-at-all"][i % 4]
        response = await admin_client.get("/api/gdpr/search", params={"q": q})
        return response.status_code, len(response.content)

    started = time.monotonic()
    results = await asyncio.gather(*[one(i) for i in range(CONCURRENT)])
    took = time.monotonic() - started
    codes = [c for c, _ in results]
    counts = {c: codes.count(c) for c in set(codes)}
    print(f"{CONCURRENT} concurrent searches: {counts} in {took:.1f} s")
    assert not [c for c in codes if c >= 500], counts
    assert counts.get(200) == CONCURRENT, counts
