"""Fixtures and helpers of the time-reporting tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from core.testing.client import AppClient
from tests.support import TEST_PASSWORD, add_party, login


@dataclass
class Worker:
    id: int
    email: str
    client: AppClient


@pytest.fixture
async def employee(app, admin_client, tenant) -> AsyncIterator[Worker]:  # type: ignore[no-untyped-def]
    """An ordinary employee (not an administrator) of ``tenant``, logged in in a browser of their own."""
    email = f"anna@{tenant.slug}.example"
    r = await admin_client.post(
        "/api/employees/", json={"name": "Anna Anställd", "email": email, "password": TEST_PASSWORD}
    )
    assert r.status_code == 201, r.text
    async with AppClient(app=app) as c:
        response = await login(c, tenant, email=email, password=TEST_PASSWORD)
        assert response.status_code == 200, response.text
        yield Worker(int(r.json()["id"]), email, c)


# The customer report() and expense() name: a real one of the test's tenant (a record may
# name no other: core.references), made for each test by the fixture below.
CUSTOMER = {"id": 0}


@pytest.fixture(autouse=True)
async def _customer(tenant):  # type: ignore[no-untyped-def]
    CUSTOMER["id"], _ = await add_party(tenant.id, contacts=0)


def report(employee_id: int, **fields: Any) -> dict[str, Any]:
    return {
        "employee_id": employee_id,
        "date": "2026-03-02",
        "hours": "7.5",
        "customer_id": CUSTOMER["id"],
        "work_reference": "AO-1001",
        "comment": "Montage hos Svensson",
        **fields,
    }


def expense(employee_id: int, **fields: Any) -> dict[str, Any]:
    return {
        "employee_id": employee_id,
        "date": "2026-03-02",
        "amount": "349.90",
        "customer_id": CUSTOMER["id"],
        "description": "Parkering vid Svenssons",
        **fields,
    }


def deviation(employee_id: int, **fields: Any) -> dict[str, Any]:
    return {"employee_id": employee_id, "date": "2026-03-02", "kind": "sick", "comment": "Feber", **fields}


def shift(employee_id: int, **fields: Any) -> dict[str, Any]:
    return {
        "employee_id": employee_id,
        "starts_at": "2026-03-02T07:00:00+01:00",
        "ends_at": "2026-03-02T16:00:00+01:00",
        "note": "Öppnar",
        **fields,
    }
