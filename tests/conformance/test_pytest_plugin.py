"""The kit's pytest plugin, as an outside project meets it: opted in through the ini option
``gallra_plugins``, in a pytest process of its own with none of Gallra's tests/conftest.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_TOML = """
[tool.pytest.ini_options]
gallra_plugins = [{plugins}]
asyncio_mode = "auto"
asyncio_default_fixture_loop_scope = "function"
"""

TEST = '''
import os

from core.config import get_settings


async def test_kit_environment(gallra_client, gallra_tenant):
    settings = get_settings()
    assert os.path.basename(str(settings.data_dir)).startswith("gallra-kit-")
    assert settings.database_url.startswith("sqlite://")  # no GALLRA_TEST_DATABASE_URL here
    assert settings.broker_url is None and settings.smtp_host is None
    r = await gallra_client.get("/api/cases/")
    assert r.status_code == 200 and r.json()["total"] == 0


async def test_anonymous_client_is_not_logged_in(gallra_anon_client):
    assert (await gallra_anon_client.get("/api/cases/")).status_code == 401
'''


def run_project(tmp_path: Path, plugins: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pyproject.toml").write_text(PROJECT_TOML.format(plugins=plugins))
    (tmp_path / "test_outside.py").write_text(TEST)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GALLRA_")}
    env["GALLRA_DATABASE_URL"] = "postgresql://must-be-replaced-by-the-kit/x"
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )


@pytest.mark.slow
def test_opting_in_prepares_a_throwaway_environment_and_the_fixtures(tmp_path):
    proc = run_project(tmp_path, '"cases"')
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "2 passed" in proc.stdout


@pytest.mark.slow
def test_a_plugin_that_is_not_installed_is_a_usage_error_saying_what_to_do(tmp_path):
    proc = run_project(tmp_path, '"nothere"')
    assert proc.returncode == 4, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "gallra_plugins names 'nothere'" in proc.stderr
    assert "write 'nothere = your_package'" in proc.stderr
