"""Fixtures and helpers of the projects tests."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from core.contracts import SecondFactorDecision, SecondFactorRequest
from core.plugins import get_host, hookimpl
from core.tables import Outbox
from tests.support import login, make_party


@pytest.fixture
async def other_client(app, other_tenant) -> AsyncIterator[AsyncTestClient]:  # type: ignore[no-untyped-def]
    """A second browser, logged in as the administrator of ``other_tenant``."""
    async with AsyncTestClient(app=app) as c:
        response = await login(c, other_tenant)
        assert response.status_code == 200, response.text
        yield c


PROJECT = {
    "title": "Villa Svensson, tillbyggnad",
    "end_customer_name": "Sven Svensson",
    "end_customer_address": "Storgatan 1, 111 22 Stockholm",
    "end_customer_phone": "070-123 45 67",
    "end_customer_email": "Sven@Example.se",
    "email": "projekt@example.se",
}
PLAN = {
    "title": "Betalplan Svensson",
    "installments": [
        {"due_date": "2026-12-31", "amount": "10000", "description": "Första delen, Sven"},
        {"due_date": "2027-01-31", "amount": 5000.5, "description": "Andra delen"},
    ],
}


async def make_project(client: AsyncTestClient, **fields: Any) -> dict:
    """A project; unless the fields name a customer, of a new customer and one of its
    contact persons."""
    party = {} if "customer_id" in fields else await make_party(client, "contact_person_id" not in fields)
    response = await client.post("/api/projects/", json={**PROJECT, **party, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def post_ok(client: AsyncTestClient, url: str, body: dict) -> dict:
    response = await client.post(url, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def send_plan(client: AsyncTestClient, plan_id: int, email: str = "sven@example.se") -> str:
    """Send the plan for approval and return the token read from the queued e-mail."""
    response = await client.post(f"/api/projects/payment-plans/{plan_id}/send", json={"email": email})
    assert response.status_code == 200, response.text
    row = (
        await Outbox.select(Outbox.body)
        .where(Outbox.recipient == email.lower())
        .order_by(Outbox.id, ascending=False)
        .first()
    )
    match = re.search(r"/projects/public/payment-plans/([A-Za-z0-9_\-]+)", row["body"])
    assert match, "the e-mail holds the approval link"
    return match.group(1)


async def set_rule(
    client: AsyncTestClient, key: str, mode: str, days: int | None = None, module: str = "projects"
) -> None:
    item: dict[str, Any] = {"key": key, "mode": mode}
    if days is not None:
        item["days"] = days
    response = await client.put(f"/api/{module}/settings", json=[item])
    assert response.status_code == 200, response.text


class FakeTwoFactor:
    """Stands in for the two-factor plugin: one context on, challenges verified by id."""

    def __init__(self, context: str) -> None:
        self.context = context
        self.requests: list[SecondFactorRequest] = []
        self.verified: set[str] = set()

    @hookimpl
    def challenge_second_factor(self, request: SecondFactorRequest) -> SecondFactorDecision | None:
        if request.context != self.context:
            return None
        self.requests.append(request)
        if request.challenge_id and request.challenge_id in self.verified:
            return SecondFactorDecision(required=False, masked_phone="+46 70•••••67")
        return SecondFactorDecision(
            required=True, challenge_id=f"ch-{len(self.requests)}", masked_phone="+46 70•••••67"
        )


@pytest.fixture
def two_factor() -> Iterator[FakeTwoFactor]:
    fake = FakeTwoFactor("payment_plans")
    host = get_host()
    host.pm.register(fake, name="fake-two-factor-plans")
    try:
        yield fake
    finally:
        host.pm.unregister(name="fake-two-factor-plans")
