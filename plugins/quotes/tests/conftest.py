"""Fixtures and helpers of the quotes tests."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.support import make_party, token_in_mail
from tests.twofactor_kit import fake_two_factor

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
    return await token_in_mail(email, "/quotes/public")


two_factor = fake_two_factor("quotes")
