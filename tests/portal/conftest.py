"""Fixtures of the customer portal's tests: the customer's own browser, and a second
organization's administrator (as the customer register's tests have it)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import login


@pytest.fixture
async def other_client(  # type: ignore[no-untyped-def]
    app, other_tenant
) -> AsyncIterator[AsyncTestClient]:
    """A second browser, logged in as the administrator of ``other_tenant``."""
    async with AsyncTestClient(app=app) as c:
        response = await login(c, other_tenant)
        assert response.status_code == 200, response.text
        yield c


@pytest.fixture
async def browser(app) -> AsyncIterator[AsyncTestClient]:  # type: ignore[no-untyped-def]
    """The customer's own browser: no employee session."""
    async with AsyncTestClient(app=app) as c:
        yield c
