"""The portal's migrations on a new database and on an install of before #18.6 (rows of the
customer register's portal tables kept, ids included), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from core.testing.conformance import _pg_admin, fresh_postgres, fresh_sqlite, postgres_url, run_migration_check


def _upgrade(database_url: str) -> dict[str, Any]:
    env = dict(os.environ)
    env.update(
        GALLRA_DATA_DIR=tempfile.mkdtemp(prefix="gallra-portal-upgrade-"),
        GALLRA_DATABASE_URL=database_url,
        GALLRA_PLUGINS="customers,portal",
        PICCOLO_CONF="core.piccolo_conf",
        PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
    )
    env.pop("GALLRA_DISABLE_PLUGINS", None)
    env.pop("GALLRA_DATABASE_OWNER_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "plugins.portal.tests.upgrade"], env=env, capture_output=True, text=True, timeout=300
    )
    for line in proc.stdout.splitlines():
        if line.startswith("GALLRA-UPGRADE "):
            return dict(json.loads(line.split(" ", 1)[1]))
    raise AssertionError(
        f"the upgrade check failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )


def _on_postgres(check: Any) -> dict[str, Any]:
    base = postgres_url()
    if base is None:
        pytest.skip("set GALLRA_TEST_DATABASE_URL to a PostgreSQL database to check it too")
    url, name = fresh_postgres(base)
    try:
        return dict(check(url))
    finally:
        asyncio.run(_pg_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.mark.slow
def test_upgrade_keeps_the_rows_sqlite(tmp_path: Path) -> None:
    assert _upgrade(fresh_sqlite(tmp_path / "old.sqlite"))["problems"] == []


@pytest.mark.slow
def test_upgrade_keeps_the_rows_postgresql() -> None:
    assert _on_postgres(_upgrade)["problems"] == []


@pytest.mark.slow
def test_new_database_sqlite(tmp_path: Path) -> None:
    """Only the portal and the customer register it requires (no other plugin)."""
    result = run_migration_check("portal", None, fresh_sqlite(tmp_path / "new.sqlite"), ("customers",))
    assert result["problems"] == []
    assert any(a.startswith("portal:") for a in result["applied"])


@pytest.mark.slow
def test_new_database_postgresql() -> None:
    result = _on_postgres(lambda url: run_migration_check("portal", None, url, ("customers",)))
    assert result["problems"] == []
