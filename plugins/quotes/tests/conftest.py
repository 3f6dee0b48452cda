"""Fixtures and helpers of the quotes tests."""

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


LINES = [
    {"description": "Installation", "quantity": "8", "unit_price": "650.00"},
    {"description": "Material", "quantity": 1.5, "unit_price": "1200.50"},
]


async def make_quote(client: AsyncTestClient, **fields: Any) -> dict:
    """A quote with lines; unless the fields name a customer, of a new customer and one of
    its contact persons."""
    party = {} if "customer_id" in fields else await make_party(client, "contact_person_id" not in fields)
    body = {"title": "Ny altan", **party, "lines": LINES, **fields}
    response = await client.post("/api/quotes/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def send_quote(client: AsyncTestClient, quote_id: int, email: str = "kund@example.se") -> str:
    """Send the quote and return the public token read from the queued e-mail."""
    response = await client.post(f"/api/quotes/{quote_id}/send", json={"email": email})
    assert response.status_code == 200, response.text
    row = (
        await Outbox.select(Outbox.body)
        .where(Outbox.recipient == email.lower())
        .order_by(Outbox.id, ascending=False)
        .first()
    )
    match = re.search(r"/quotes/public/([A-Za-z0-9_\-]+)", row["body"])
    assert match, "the e-mail holds the public link"
    return match.group(1)


async def set_rule(
    client: AsyncTestClient, key: str, mode: str, days: int | None = None, module: str = "quotes"
) -> None:
    item: dict[str, Any] = {"key": key, "mode": mode}
    if days is not None:
        item["days"] = days
    response = await client.put(f"/api/{module}/settings", json=[item])
    assert response.status_code == 200, response.text


class FakeTwoFactor:
    """Stands in for the two-factor plugin: context "quotes" on, code "verified" by id."""

    def __init__(self, context: str) -> None:
        self.context = context
        self.requests: list[SecondFactorRequest] = []
        self.verified: set[str] = set()
        self.error: str | None = None

    @hookimpl
    def challenge_second_factor(self, request: SecondFactorRequest) -> SecondFactorDecision | None:
        if request.context != self.context:
            return None
        self.requests.append(request)
        if self.error:
            return SecondFactorDecision(required=True, error=self.error)
        if request.challenge_id and request.challenge_id in self.verified:
            return SecondFactorDecision(required=False, masked_phone="+46 70•••••67")
        return SecondFactorDecision(
            required=True, challenge_id=f"ch-{len(self.requests)}", masked_phone="+46 70•••••67",
            message="A code was sent by SMS.",
        )


@pytest.fixture
def two_factor() -> Iterator[FakeTwoFactor]:
    fake = FakeTwoFactor("quotes")
    host = get_host()
    host.pm.register(fake, name="fake-two-factor-quotes")
    try:
        yield fake
    finally:
        host.pm.unregister(name="fake-two-factor-quotes")
