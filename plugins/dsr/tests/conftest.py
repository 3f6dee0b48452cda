"""Fixtures and helpers of the data-subject requests module's tests."""

from __future__ import annotations

from typing import Any

import pytest

from core.db import raw
from core.tables import Outbox
from core.testing.client import AppClient


@pytest.fixture(autouse=True)
async def fresh_counters() -> None:
    """Every test starts with no attempts counted (the per-client limit counts the test
    client's address across the tests of a worker)."""
    await raw("DELETE FROM attempt_counter")


async def make_request(client: AppClient, **fields: Any) -> dict:
    body = {"kind": "access", "requester_name": "Anna Andersson", "requester_email": "anna@example.se",
            "details": "Vilka uppgifter har ni om mig?", **fields}
    r = await client.post("/api/dsr/", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def mails_to(recipient: str, tenant_id: int | None = None) -> list[dict]:
    """The messages queued to ``recipient`` (by ``tenant_id``'s organization)."""
    where = Outbox.recipient == recipient
    if tenant_id is not None:
        where = where & (Outbox.tenant_id == tenant_id)
    return list(await Outbox.select().where(where).order_by(Outbox.id))
