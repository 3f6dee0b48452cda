"""Fixtures of the security tests (they run with every installed plugin)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def _no_vault_rows_of_other_sessions() -> Iterator[None]:
    """The vault's master key lives in this session's temporary directory while a PostgreSQL
    test database outlives the session; ciphertexts of an earlier session would (rightly)
    stop the vault from starting. Same clean-up as tests/vault/conftest.py."""
    from plugins.vault.tests.conftest import _wipe

    async def wipe() -> None:
        with contextlib.suppress(Exception):  # the vault plugin is not installed
            await _wipe()

    asyncio.run(wipe())
    yield
    asyncio.run(wipe())
