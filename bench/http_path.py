"""Benchmark: Gallra's request path over HTTP against a plain Litestar app, same run.

(#19 asked for ``bench/http.py``; a file of that name in bench/ hides the standard
library's ``http`` package from every script run there, httpx included.)

Starts, one after the other on 127.0.0.1, each the way `gallra serve` runs (one uvicorn
process, log level info, access log included):

1. the reference: a plain Litestar app with one GET and one POST (a JSON body decoded
   into a struct and echoed, 201), nothing else;
2. `gallra serve` on a fresh data directory (SQLite) or on GALLRA_DATABASE_URL
   (PostgreSQL, use a fresh database migrated by this script), with one tenant and an
   administrator logged in.

Then measures, with the same client code for both:

- ``GET /`` of the reference and ``GET /api/auth/me`` (authentication, the whole path);
- ``POST /`` of the reference and ``POST /api/customers`` (create a customer) with 1 and
  with 16 concurrent clients;
- ``GET /api/gdpr/search`` exact (an e-mail address) and by name prefix ("svens", "anna")
  over the customers created (``--seed`` more first for a larger index).

Prints JSON: requests/s, p50 and p95 in ms, and each Gallra figure's ratio to its
reference. Run by hand, never in the test suite::

    .venv/bin/python bench/http_path.py [--seconds 5] [--seed 2000]
    GALLRA_DATABASE_URL=postgresql://… GALLRA_DATABASE_OWNER_URL=… .venv/bin/python bench/http_path.py

The client shares the machine's cores with the server: read the ratios, and note the load
(``uptime``) printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu import DatabaseCPU, analyze, process_cpu  # (bench/cpu.py, beside this script)

ROOT = Path(__file__).resolve().parent.parent
GALLRA = str(Path(sys.executable).parent / "gallra")

PLAIN_APP = '''
import sys, msgspec, uvicorn
from litestar import Litestar, get, post

class CustomerIn(msgspec.Struct):
    name: str
    kind: str = "company"
    email: str | None = None

@get("/")
async def index() -> dict:
    return {"employee_id": 1, "name": "Admin", "role": "admin"}

@post("/")
async def create(data: CustomerIn) -> dict:
    return {"id": 1, "name": data.name, "kind": data.kind, "email": data.email}

uvicorn.run(Litestar([index, create]), host="127.0.0.1", port=int(sys.argv[1]), log_level="info")
'''

FIRST = ["Anna", "Erik", "Maria", "Lars", "Karin", "Johan", "Eva", "Anders", "Sofia", "Per"]
LAST = ["Svensson", "Johansson", "Andersson", "Karlsson", "Nilsson", "Eriksson", "Larsson",
        "Olofsson", "Persson", "Svensk", "Berg", "Lund"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(base: str, path: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(base + path, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{base} did not start")


def summary(times: list[float], elapsed: float, errors: int) -> dict[str, Any]:
    times = sorted(times)
    n = len(times)
    return {
        "requests": n,
        "errors": errors,
        "req_per_s": round(n / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(times[n // 2], 2) if n else None,
        "p95_ms": round(times[max(0, int(n * 0.95) - 1)], 2) if n else None,
    }


async def load(
    base: str, cookies: dict[str, str], clients: int, seconds: float,
    request: Any,
) -> dict[str, Any]:
    """``clients`` concurrent loops, each its own connection, for ``seconds``."""
    times: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def one(index: int) -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=30) as client:
            i = 0
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                r = await request(client, index, i)
                times.append((time.perf_counter() - t0) * 1000)
                if r.status_code >= 400:
                    errors += 1
                i += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(one(c) for c in range(clients)))
    return summary(times, time.perf_counter() - t0, errors)


def customer(index: int, i: int) -> dict[str, Any]:
    rnd = random.Random(index * 1_000_003 + i)
    name = f"{rnd.choice(FIRST)} {rnd.choice(LAST)}"
    return {"name": name, "kind": "private", "email": f"c{index}-{i}-{rnd.randrange(10**9)}@bench.example"}


async def measure_plain(port: int, seconds: float) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    out: dict[str, Any] = {}
    out["get"] = await load(base, {}, 1, seconds, lambda c, _x, _i: c.get("/"))
    out["post_1"] = await load(base, {}, 1, seconds, lambda c, x, i: c.post("/", json=customer(x, i)))
    out["post_16"] = await load(base, {}, 16, seconds, lambda c, x, i: c.post("/", json=customer(x, i)))
    return out


async def measure_gallra(
    port: int, seconds: float, seed: int, password: str, server_pid: int | None = None
) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base) as client:
        r = await client.post(
            "/api/auth/login",
            json={"tenant": "bench", "email": "admin@bench.example", "password": password},
        )
        assert r.status_code == 200, r.text
        cookies = dict(client.cookies)
        sem = asyncio.Semaphore(8)

        async def seed_one(i: int) -> None:
            async with sem:
                r = await client.post("/api/customers", json=customer(999, i))
                assert r.status_code == 201, r.text

        await asyncio.gather(*(seed_one(i) for i in range(seed)))
        known = customer(999, 0)["email"]
    analyze(os.environ.get("GALLRA_DATABASE_OWNER_URL") or os.environ.get("GALLRA_DATABASE_URL"))
    out: dict[str, Any] = {}
    database = DatabaseCPU(os.environ.get("GALLRA_DATABASE_URL"))

    async def measured(name: str, clients: int, request: Any) -> None:
        """``load`` with the CPU the server and the database spent per request (steadier
        than rates on a busy machine)."""
        database.start()
        before = process_cpu(server_pid) if server_pid else 0.0
        out[name] = await load(base, cookies, clients, seconds, request)
        n = out[name]["requests"] or 1
        if server_pid:
            out[name]["server_cpu_ms"] = round((process_cpu(server_pid) - before) * 1000 / n, 3)
        db = database.stop()
        if db is not None:
            out[name]["database_cpu_ms"] = round(db * 1000 / n, 3)
        if database.new_connections is not None:
            out[name]["new_connections_per_request"] = round(database.new_connections / n, 3)

    await measured("me", 1, lambda c, _x, _i: c.get("/api/auth/me"))
    await measured("create_1", 1, lambda c, x, i: c.post("/api/customers", json=customer(x, i)))
    await measured("create_16", 16, lambda c, x, i: c.post("/api/customers", json=customer(100 + x, i)))
    await measured("search_exact", 1, lambda c, _x, _i: c.get("/api/gdpr/search", params={"q": known}))
    await measured(
        "search_prefix", 1, lambda c, _x, i: c.get("/api/gdpr/search", params={"q": ("svens", "anna")[i % 2]})
    )
    return out


def route_figures(base: str, token: str) -> dict[str, Any]:
    """Mean statements and ms per request by method and route, from the server's /metrics."""
    import re

    text = httpx.get(base + "/metrics", headers={"authorization": f"Bearer {token}"}).text
    sums: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        m = re.match(r'gallra_http_request_(queries|duration_seconds)_(sum|count)\{(.*)\} (\S+)', line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(3)))
        route = f"{labels.get('method', '')} {labels.get('route', '')}".strip()
        entry = sums.setdefault(route, {})
        key = f"{m.group(1)}_{m.group(2)}"
        entry[key] = entry.get(key, 0.0) + float(m.group(4))

    def mean(v: dict[str, float], what: str, scale: float = 1) -> float | None:
        count = v.get(f"{what}_count", 0)
        return round(scale * v.get(f"{what}_sum", 0) / count, 2) if count else None

    return {
        route: {
            "requests": int(v.get("queries_count", 0)),
            "statements_mean": mean(v, "queries"),
            "ms_mean": mean(v, "duration_seconds", 1000),
        }
        for route, v in sorted(sums.items()) if route.split(" ")[-1].startswith("/api/")
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--seed", type=int, default=2000, help="customers created before measuring")
    args = parser.parse_args()
    env = dict(os.environ)
    if not env.get("GALLRA_DATABASE_URL"):
        env["GALLRA_DATA_DIR"] = tempfile.mkdtemp(prefix="gallra-bench-")
    else:
        env.setdefault("GALLRA_DATA_DIR", tempfile.mkdtemp(prefix="gallra-bench-"))
    env.pop("GALLRA_BROKER_URL", None)  # the embedded worker, as `gallra serve` by default
    env["GALLRA_PLATFORM_TOKEN"] = "bench-" + os.urandom(8).hex()  # to read /metrics
    password = "bench-password-123"

    port = free_port()
    plain = subprocess.Popen(
        [sys.executable, "-c", PLAIN_APP, str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_up(f"http://127.0.0.1:{port}", "/")
        reference = asyncio.run(measure_plain(port, args.seconds))
    finally:
        plain.terminate()
        plain.wait(timeout=10)

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
        [GALLRA, "serve", "--port", str(port)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_up(f"http://127.0.0.1:{port}", "/health")
        gallra = asyncio.run(measure_gallra(port, args.seconds, args.seed, password, server.pid))
        per_route = route_figures(f"http://127.0.0.1:{port}", env["GALLRA_PLATFORM_TOKEN"])
    finally:
        server.terminate()
        server.wait(timeout=20)

    def ratio(a: dict[str, Any], b: dict[str, Any]) -> float:
        return round(a["req_per_s"] / b["req_per_s"], 3) if b["req_per_s"] else 0.0

    print(json.dumps({
        "engine": "postgresql" if env.get("GALLRA_DATABASE_URL") else "sqlite",
        "load_average": os.getloadavg(),
        "seconds_each": args.seconds,
        "seeded_customers": args.seed,
        "reference": reference,
        "gallra": gallra,
        "server_per_route": per_route,
        "ratios": {
            "me_vs_plain_get": ratio(gallra["me"], reference["get"]),
            "create_1_vs_plain_post_1": ratio(gallra["create_1"], reference["post_1"]),
            "create_16_vs_plain_post_16": ratio(gallra["create_16"], reference["post_16"]),
        },
        "targets": {
            "me_vs_plain_get": 0.5,
            "create_vs_plain_post": {"postgresql": 0.25, "sqlite": 0.15},
            "create_16_sqlite_p95_ms": 200,
            "search_p95_ms": {"exact": 15, "prefix": 40, "note": "at 1M values (bench/search.py seeds those)"},
        },
    }, indent=2))


if __name__ == "__main__":
    main()
