"""Fixtures of the orders tests: a second logged-in client for another tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import login


@pytest.fixture
async def other_client(app, other_tenant) -> AsyncIterator[AsyncTestClient]:  # type: ignore[no-untyped-def]
    """A client logged in as the administrator of ``other_tenant``."""
    async with AsyncTestClient(app=app) as c:
        response = await login(c, other_tenant)
        assert response.status_code == 200, response.text
        yield c
