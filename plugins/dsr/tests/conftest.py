"""Fixtures and helpers of the data-subject requests module's tests."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from core.tables import Outbox


async def make_request(client: AsyncTestClient, **fields: Any) -> dict:
    body = {"kind": "access", "requester_name": "Anna Andersson", "requester_email": "anna@example.se",
            "details": "Vilka uppgifter har ni om mig?", **fields}
    r = await client.post("/api/dsr/", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def mails_to(recipient: str) -> list[dict]:
    return list(await Outbox.select().where(Outbox.recipient == recipient).order_by(Outbox.id))
