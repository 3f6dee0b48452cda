"""`gallra serve` refuses to start with pending migrations and names `gallra migrate`.

Runs the real command in a subprocess on a fresh database: a new SQLite file under a temp
GALLRA_DATA_DIR.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
GALLRA = str(Path(sys.executable).parent / "gallra")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def fresh_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a first start: an empty data directory, nothing configured.

    The subprocess always gets a new SQLite file, also when the suite runs on PostgreSQL:
    the check is the same for both databases, and a fresh PostgreSQL database costs a full
    migration on every run (the suite itself migrates one at start).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("GALLRA_")}
    env.update(GALLRA_DATA_DIR=str(tmp_path), PYTHONUNBUFFERED="1", GALLRA_LOG_LEVEL="WARNING")
    return env


def gallra(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GALLRA, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_serve_refuses_pending_migrations_then_serves_after_migrate(fresh_env):
    port = free_port()
    started = time.monotonic()
    refused = gallra(fresh_env, "serve", "--port", str(port))
    assert refused.returncode != 0
    assert "gallra migrate" in refused.stderr + refused.stdout
    assert "migration(s) have not been applied" in refused.stderr + refused.stdout
    assert time.monotonic() - started < 30  # quickly, not after a timeout

    migrated = gallra(fresh_env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "Applied" in migrated.stdout

    server = subprocess.Popen(
        [GALLRA, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=fresh_env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 45
        answer = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert server.poll() is None, server.stdout.read() if server.stdout else ""
        assert answer is not None, "gallra serve did not answer /health"
        assert answer.status_code == 200
        assert answer.json() == {"status": "ok", "database": True, "broker": True}
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)
