"""Login time per request with the chosen Argon2id parameters.

Starts `gallra serve` on a fresh SQLite data directory (or GALLRA_DATABASE_URL), creates a
tenant and an administrator, then times sequential logins over HTTP on 127.0.0.1 and one
Argon2 hash on its own. Prints JSON. Run by hand: `.venv/bin/python bench/login.py --n 100`.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
GALLRA = str(Path(sys.executable).parent / "gallra")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100)
    args = parser.parse_args()
    env = dict(os.environ, GALLRA_DATA_DIR=tempfile.mkdtemp(prefix="gallra-bench-"))
    password = "bench-password-123"
    subprocess.run([GALLRA, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([GALLRA, "tenant", "create", "bench", "--name", "Bench AB"], env=env, check=True, capture_output=True)
    subprocess.run(
        [GALLRA, "user", "create", "bench", "admin@bench.example", "--name", "Admin", "--role", "admin", "--password-stdin"],
        env=env, check=True, capture_output=True, input=password + "\n", text=True,
    )
    port = free_port()
    server = subprocess.Popen([GALLRA, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        times = []
        with httpx.Client(base_url=base) as client:
            for _ in range(args.n):
                t0 = time.perf_counter()
                r = client.post("/api/auth/login", json={"tenant": "bench", "email": "admin@bench.example", "password": password})
                times.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, r.text
        from core.auth import HASHER

        t0 = time.perf_counter()
        for _ in range(10):
            HASHER.hash(password)
        hash_ms = (time.perf_counter() - t0) * 100
        times.sort()
        print(json.dumps({
            "logins": args.n,
            "argon2": {"type": "id", "memory_kib": HASHER.memory_cost, "time_cost": HASHER.time_cost, "parallelism": HASHER.parallelism},
            "hash_ms": round(hash_ms, 1),
            "login_ms_p50": round(statistics.median(times), 1),
            "login_ms_p95": round(times[int(len(times) * 0.95) - 1], 1),
            "login_ms_mean": round(statistics.fmean(times), 1),
        }, indent=2))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
