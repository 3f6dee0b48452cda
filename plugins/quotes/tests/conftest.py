"""Fixtures and helpers of the quotes tests."""

from __future__ import annotations

from typing import Any

from core.testing.client import AppClient
from tests.support import created_for_a_party, send_for_token
from tests.twofactor_kit import fake_two_factor

LINES = [
    {"description": "Installation", "quantity": "8", "unit_price": "650.00"},
    {"description": "Material", "quantity": 1.5, "unit_price": "1200.50"},
]


async def make_quote(client: AppClient, **fields: Any) -> dict:
    """A quote with lines; unless the fields name a customer, of a new customer and one of
    its contact persons."""
    return await created_for_a_party(client, "/api/quotes/", {"title": "Ny altan", "lines": LINES, **fields})


async def send_quote(client: AppClient, quote_id: int, email: str = "kund@example.se") -> str:
    """Send the quote and return the public token read from the queued e-mail."""
    return await send_for_token(client, f"/api/quotes/{quote_id}/send", email, "/quotes/public")


two_factor = fake_two_factor("quotes")
