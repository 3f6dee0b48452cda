"""Fixtures and helpers of the customer register's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.testing.client import AppClient
from core.validation import luhn_ok
from tests.support import login, make_contact, make_customer  # noqa: F401  (the register's tests import them from here)


def with_check_digit(nine: str) -> str:
    """The ten digits of a Swedish id number whose first nine digits are ``nine``."""
    for digit in "0123456789":
        if luhn_ok(nine + digit):
            return nine + digit
    raise AssertionError("unreachable")


# A private person born 1985-07-09 (ten digits YYMMDDNNNC) and a company.
PNR10 = with_check_digit("850709123")
PNR = f"19{PNR10[:6]}-{PNR10[6:]}"
ORG10 = with_check_digit("556016068")
ORG = f"{ORG10[:6]}-{ORG10[6:]}"


@pytest.fixture
async def other_client(  # type: ignore[no-untyped-def]
    app, other_tenant
) -> AsyncIterator[AppClient]:
    """A second browser, logged in as the administrator of ``other_tenant``."""
    async with AppClient(app=app) as c:
        response = await login(c, other_tenant)
        assert response.status_code == 200, response.text
        yield c


async def make_log(client: AppClient, customer_id: int, **fields: Any) -> dict:
    body = {"comment": "Called about the invoice", **fields}
    response = await client.post(f"/api/customers/{customer_id}/log", json=body)
    assert response.status_code == 201, response.text
    return response.json()

