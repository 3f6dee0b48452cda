"""Fixtures of the customer portal's tests: a second organization's administrator, as the
customer register's tests have it (the portal's accounts live beside its customers)."""

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
