"""Fixtures and helpers of the projects tests."""

from __future__ import annotations

from typing import Any

from core.testing.client import AppClient
from tests.support import created_for_a_party, send_for_token
from tests.twofactor_kit import fake_two_factor

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


async def make_project(client: AppClient, **fields: Any) -> dict:
    """A project; unless the fields name a customer, of a new customer and one of its
    contact persons."""
    return await created_for_a_party(client, "/api/projects/", {**PROJECT, **fields})


async def send_plan(client: AppClient, plan_id: int, email: str = "sven@example.se") -> str:
    """Send the plan for approval and return the token read from the queued e-mail."""
    url = f"/api/projects/payment-plans/{plan_id}/send"
    return await send_for_token(client, url, email, "/projects/public/payment-plans")


two_factor = fake_two_factor("payment_plans")
