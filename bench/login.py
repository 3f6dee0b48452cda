"""Login time per request with the chosen Argon2id parameters.

Starts `gallra serve` on a fresh SQLite data directory (or GALLRA_DATABASE_URL), creates a
tenant and an administrator, then times sequential logins over HTTP on 127.0.0.1 and one
Argon2 hash on its own. Prints JSON. Run by hand: `.venv/bin/python bench/login.py --n 100`.

``--sms --clients 8`` measures complete logins with an SMS code instead (#19's target: 25/s
with 8 clients on PostgreSQL): SMS two-factor on for employee login, one employee per login
(a person may be sent a code once a minute), each client logs in on a new device (202 with a
challenge), reads the code from the outbox row (the default provider keeps it there, as an
administrator without a gateway would) and verifies it (200, a session).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu import DatabaseCPU, analyze, process_cpu

ROOT = Path(__file__).resolve().parent.parent
GALLRA = str(Path(sys.executable).parent / "gallra")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--sms", action="store_true", help="complete logins with an SMS code")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--people", type=int, default=400, help="employees (one per SMS login)")
    args = parser.parse_args()
    env = dict(os.environ, GALLRA_SMS_DAILY_CAP_MAX="100000", GALLRA_PLATFORM_TOKEN="bench-" + os.urandom(8).hex())
    env.setdefault("GALLRA_DATA_DIR", tempfile.mkdtemp(prefix="gallra-bench-"))
    env.pop("GALLRA_BROKER_URL", None)
    password = "bench-password-123"
    subprocess.run([GALLRA, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run(
        [GALLRA, "tenant", "create", "bench", "--name", "Bench AB"], env=env, check=True, capture_output=True
    )
    subprocess.run(
        [GALLRA, "user", "create", "bench", "admin@bench.example", "--name", "Admin", "--role", "admin",
         "--password-stdin"],
        env=env, check=True, capture_output=True, input=password + "\n", text=True,
    )
    port = free_port()
    server = subprocess.Popen(
        [GALLRA, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        if args.sms:
            os.environ.update(env)
            os.environ.setdefault("PICCOLO_CONF", "core.piccolo_conf")
            sys.path.insert(0, str(ROOT))
            print(json.dumps(asyncio.run(sms_logins(base, password, args, server.pid)), indent=2))
            return
        times = []
        with httpx.Client(base_url=base) as client:
            for _ in range(args.n):
                t0 = time.perf_counter()
                r = client.post(
                    "/api/auth/login", json={"tenant": "bench", "email": "admin@bench.example", "password": password}
                )
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
            "argon2": {
                "type": "id", "memory_kib": HASHER.memory_cost, "time_cost": HASHER.time_cost,
                "parallelism": HASHER.parallelism,
            },
            "hash_ms": round(hash_ms, 1),
            "login_ms_p50": round(statistics.median(times), 1),
            "login_ms_p95": round(times[int(len(times) * 0.95) - 1], 1),
            "login_ms_mean": round(statistics.fmean(times), 1),
        }, indent=2))
    finally:
        server.terminate()
        server.wait(timeout=10)


CODE_RE = re.compile(r"\b(\d{6})\b")

# Each login is a new device, so each gets a new client (no cookies). One TLS context for
# all of them: httpx builds one per client otherwise, loading the CA bundle each time
# (15-50 ms of CPU, on the same two cores as the server, for plain HTTP on 127.0.0.1).
TLS = httpx.create_ssl_context()


async def sms_logins(base: str, password: str, args: argparse.Namespace, server_pid: int) -> dict:
    from core.auth import HASHER
    from core.db import pooled
    from core.tables import Outbox

    async with httpx.AsyncClient(base_url=base, timeout=30) as admin:
        r = await admin.post(
            "/api/auth/login", json={"tenant": "bench", "email": "admin@bench.example", "password": password}
        )
        assert r.status_code == 200, r.text
        r = await admin.put(
            "/api/twofactor/settings", json={"sms_active": True, "sender": "Gallra", "daily_cap": 100000}
        )
        assert r.status_code == 200, r.text
        # The administrator has no phone: recovery codes first, or switching on is refused
        # (it would lock out every administrator).
        r = await admin.post("/api/twofactor/recovery-codes")
        assert r.status_code in (200, 201), r.text
        r = await admin.put("/api/twofactor/contexts/employee_login", json={"enabled": True, "confirm": True})
        assert r.status_code == 200, r.text
        sem = asyncio.Semaphore(4)

        async def add(i: int) -> None:
            async with sem:
                r = await admin.post("/api/employees", json={
                    "name": f"Person {i}", "email": f"p{i}@bench.example",
                    "mobile_phone": f"+4670{i:07d}", "password": password,
                })
                assert r.status_code == 201, r.text

        await asyncio.gather(*(add(i) for i in range(args.people)))
    analyze(os.environ.get("GALLRA_DATABASE_OWNER_URL") or os.environ.get("GALLRA_DATABASE_URL"))

    people = list(range(args.people))
    times: list[float] = []
    errors = 0
    async with pooled():
        deadline = time.perf_counter() + args.seconds

        async def client_loop() -> None:
            nonlocal errors
            while people and time.perf_counter() < deadline:
                i = people.pop()
                t0 = time.perf_counter()
                async with httpx.AsyncClient(base_url=base, timeout=30, verify=TLS) as c:
                    person = {"tenant": "bench", "email": f"p{i}@bench.example", "password": password}
                    r = await c.post("/api/auth/login", json=person)
                    if r.status_code != 202:
                        errors += 1
                        continue
                    cid = r.json()["second_factor"]["challenge_id"]
                    row = await Outbox.select(Outbox.body).where(
                        (Outbox.channel == "sms") & (Outbox.recipient == f"+4670{i:07d}")
                    ).order_by(Outbox.id, ascending=False).first()
                    code = CODE_RE.search(row["body"]).group(1)  # type: ignore[index,union-attr]
                    r = await c.post(f"/api/twofactor/challenges/{cid}/verify", json={"code": code})
                    if r.status_code != 200:
                        errors += 1
                        continue
                times.append((time.perf_counter() - t0) * 1000)

        database = DatabaseCPU(os.environ.get("GALLRA_DATABASE_URL"))
        database.start()
        server_cpu, own_cpu = process_cpu(server_pid), process_cpu(os.getpid())
        t0 = time.perf_counter()
        await asyncio.gather(*(client_loop() for _ in range(args.clients)))
        elapsed = time.perf_counter() - t0
        server_cpu = process_cpu(server_pid) - server_cpu
        own_cpu = process_cpu(os.getpid()) - own_cpu
        database_cpu = database.stop()
    per_route = route_figures(base, os.environ["GALLRA_PLATFORM_TOKEN"])
    t1 = time.perf_counter()
    for _ in range(10):
        HASHER.hash(password)
    hash_ms = (time.perf_counter() - t1) * 100
    times.sort()
    n = len(times)
    return {
        "engine": "postgresql" if os.environ.get("GALLRA_DATABASE_URL") else "sqlite",
        "load_average": os.getloadavg(),
        "clients": args.clients,
        "complete_logins": n,
        "errors": errors,
        "logins_per_s": round(n / elapsed, 1),
        "login_ms_p50": round(times[n // 2], 1) if n else None,
        "login_ms_p95": round(times[max(0, int(n * 0.95) - 1)], 1) if n else None,
        "hash_ms": round(hash_ms, 1),
        # CPU per complete login, which moves far less than the rate with the machine's load:
        # the server (the Argon2 hash included), the database's backends, this bench client
        # (HTTP and reading the code from the outbox).
        "cpu_ms_per_login": {
            "server": round(server_cpu * 1000 / n, 2) if n else None,
            "database": round(database_cpu * 1000 / n, 2) if n and database_cpu is not None else None,
            "bench_client": round(own_cpu * 1000 / n, 2) if n else None,
        },
        # New database connections per complete login (PostgreSQL): a pool reuses its
        # connections, so anything above 0 is work opening one per statement or task.
        "new_connections_per_login": (
            round(database.new_connections / n, 2) if n and database.new_connections is not None else None
        ),
        "target_logins_per_s_postgresql": 25,
        "people_left": len(people),
        "server_per_route": per_route,
    }


def route_figures(base: str, token: str) -> dict:
    """Mean statements and ms per request by route, from the server's /metrics."""
    text = httpx.get(base + "/metrics", headers={"authorization": f"Bearer {token}"}).text
    sums: dict[tuple[str, str], float] = {}
    for line in text.splitlines():
        m = re.match(r'gallra_http_request_(queries|duration_seconds)_(sum|count)\{(.*)\} (\S+)', line)
        if not m:
            continue
        route = re.search(r'route="([^"]*)"', m.group(3)).group(1)  # type: ignore[union-attr]
        key = (route, f"{m.group(1)}_{m.group(2)}")
        sums[key] = sums.get(key, 0.0) + float(m.group(4))
    out: dict = {}
    for (route, what), value in sums.items():
        out.setdefault(route, {})[what] = value

    def mean(total: float, count: float, scale: float = 1) -> float | None:
        return round(scale * total / count, 1) if count else None

    return {
        route: {
            "requests": int(v.get("queries_count", 0)),
            "statements_mean": mean(v.get("queries_sum", 0), v.get("queries_count", 0)),
            "ms_mean": mean(v.get("duration_seconds_sum", 0), v.get("duration_seconds_count", 0), 1000),
        }
        for route, v in out.items() if "login" in route or "challenges" in route
    }


if __name__ == "__main__":
    main()
