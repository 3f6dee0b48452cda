"""Benchmark: person search over a large tenant, against a plain LIKE scan.

Seeds ``--values`` personal-data values (default 1,000,000) for one tenant across the
installed modules (customers with contact persons, cases, work orders, activity), plus
data for 9 other tenants, through the plugins' own tables (the index is kept by the same
triggers and commit-time flush as in production). Then it runs ``--queries`` queries of each
kind (e-mail, phone, personal identity number, name prefix), written the ways people write
them, through ``core.gdpr.search.search`` (the whole answer: lookup, rows, grouping, each
record type's ``can_open`` for a searching administrator, as the route runs it), and a
sample of the same queries as a plain per-table ``lower(col) LIKE '%…%'`` scan over every
declared place.

    python bench/search.py [--values 1000000] [--queries 1000] [--scan-sample 20] [--reuse] [--http]

``--reuse`` queries the data an earlier run seeded (same GALLRA_DATA_DIR or
GALLRA_DATABASE_URL) instead of seeding again.

``--http`` also asks the same queries over HTTP (``GET /api/gdpr/search``, #19's target): it
adds an administrator to the seeded tenant, starts ``gallra serve`` on the same database
(started and waited for as bench/http_path.py does) and logs in; each kind then reports
``http_p50_ms`` / ``http_p95_ms`` beside the in-process figures.

SQLite by default (a fresh file in a temporary folder); PostgreSQL when
GALLRA_DATABASE_URL is set (use a fresh database). Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
if not os.environ.get("GALLRA_DATABASE_URL") and not os.environ.get("GALLRA_DATA_DIR"):
    os.environ["GALLRA_DATA_DIR"] = tempfile.mkdtemp(prefix="gallra-bench-")
os.environ.setdefault("PICCOLO_CONF", "core.piccolo_conf")

FIRST = ["Anna", "Erik", "Maria", "Lars", "Karin", "Johan", "Eva", "Anders", "Åsa", "Örjan", "Sofia",
         "Mikael", "Elin", "Per", "Ingrid", "Nils", "Ebba", "Oskar", "Märta", "Gustav"]
STEMS = ["Svens", "Johans", "Anders", "Karls", "Nils", "Eriks", "Lars", "Olofs", "Pers", "Jons",
         "Bengts", "Gustafs", "Mats", "Hans", "Magnus", "Ström", "Berg", "Lund", "Sjö", "Ek",
         "Åker", "Öster", "Väster", "Norr", "Söder", "Lind", "Holm", "Dahl", "Fors", "Björk"]
ENDS = ["son", "berg", "ström", "lund", "qvist", "gren", "man", "ling", "dal", "by", "sjö", "vik"]
STREETS = ["Storgatan", "Kungsgatan", "Drottninggatan", "Skolvägen", "Ängsvägen", "Björkvägen",
           "Järnvägsgatan", "Åsgatan", "Östra Långgatan", "Parkvägen"]
CITIES = ["Västerås", "Örebro", "Umeå", "Malmö", "Göteborg", "Luleå", "Jönköping", "Linköping",
          "Gävle", "Sundsvall"]
SYLL = ["ka", "lo", "mi", "ne", "ra", "si", "tu", "va", "be", "do", "fa", "gi", "hu", "jo"]


def luhn_digit(nine: str) -> str:
    total = 0
    for i, ch in enumerate(nine):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return str((10 - total % 10) % 10)


class Person:
    __slots__ = ("city", "email", "first", "last", "phone", "pnr", "street")

    def __init__(self, rng: random.Random, i: int):
        self.first = rng.choice(FIRST)
        self.last = rng.choice(STEMS) + rng.choice(SYLL) + rng.choice(ENDS)
        self.email = f"{self.first.lower()}.{self.last.lower()}{i}@exempel{i % 97}.se"
        self.phone = f"+467{rng.choice('02369')}{i % 10_000_000:07d}"
        year = 1930 + i % 75
        nine = f"{year % 100:02d}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
        self.pnr = f"{year}{nine[2:6]}-{nine[6:]}{luhn_digit(nine)}"
        self.street = f"{rng.choice(STREETS)} {1 + i % 120}"
        self.city = rng.choice(CITIES)


async def seed_tenant(tenant_id: int, values: int, rng: random.Random, offset: int) -> list[Person]:
    """About ``values`` personal-data values: per person a customer (7 values), a contact
    person (3), a case (3) and an activity note (1): 14 values a person."""
    from core.activity.tables import Activity
    from core.db import atomic
    from plugins.cases.tables import Case
    from plugins.customers.tables import ContactPerson, Customer

    people = max(1, values // 14)
    out: list[Person] = []
    batch = 1000
    for start in range(0, people, batch):
        ps = [Person(rng, offset + i) for i in range(start, min(people, start + batch))]
        async with atomic():  # the index is written in this same transaction, as in production
            rows = await Customer.insert(
                *[
                    Customer(tenant_id=tenant_id, number=start + k + 1, kind="private",
                             name=f"{p.first} {p.last}", national_id=p.pnr, email=p.email,
                             mobile_phone=p.phone, postal_street=p.street, postal_city=p.city,
                             notes=f"Kund sedan {2000 + k % 25}, föredrar sms")
                    for k, p in enumerate(ps)
                ]
            ).returning(Customer.id)
            ids = [int(r["id"]) for r in rows]
            await ContactPerson.insert(
                *[ContactPerson(tenant_id=tenant_id, customer_id=cid, name=f"{p.first} {p.last} (kontakt)",
                                email=f"kontakt.{p.email}", mobile_phone=p.phone)
                  for cid, p in zip(ids, ps, strict=True)]
            )
            cases = await Case.insert(
                *[Case(tenant_id=tenant_id, number=start + k + 1, title="Service", customer_id=cid,
                       end_customer_name=f"{p.first} {p.last}", end_customer_email=p.email,
                       end_customer_phone=p.phone) for k, (cid, p) in enumerate(zip(ids, ps, strict=True))]
            ).returning(Case.id)
            await Activity.insert(
                *[Activity(tenant_id=tenant_id, plugin="cases", record_type="case", record_id=int(c["id"]),
                           kind="note", body=f"Ringde {p.first} {p.last} om besöket", author_name="Bench")
                  for c, p in zip(cases, ps, strict=True)]
            )
        out.extend(ps)
    return out


async def load_people(tenant_id: int) -> list[Person]:
    from core.db import raw

    out = []
    for r in await raw(
        "SELECT name, email, mobile_phone, national_id FROM customer WHERE tenant_id = {}", tenant_id
    ):
        p = Person.__new__(Person)
        p.first, _, p.last = r["name"].partition(" ")
        p.email, p.phone, p.pnr = r["email"], r["mobile_phone"], r["national_id"]
        out.append(p)
    return out


def phone_forms(e164: str, rng: random.Random) -> str:
    national = "0" + e164[3:]
    return rng.choice([
        f"{national[:3]}-{national[3:6]} {national[6:8]} {national[8:]}",
        f"+46 {e164[3:5]} {e164[5:8]} {e164[8:10]} {e164[10:]}",
        "00" + e164[1:],
        e164[1:],
    ])


def pnr_forms(pnr: str, rng: random.Random) -> str:
    digits = pnr.replace("-", "")
    return rng.choice([pnr, digits, f"{digits[2:8]}-{digits[8:]}", digits[2:]])


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return round(s[min(len(s) - 1, int(len(s) * p))] * 1000, 2)


async def like_scan(tenant_id: int, text: str) -> int:
    """The plain way: every declared place, ``lower(column) LIKE '%text%'``."""
    from core.db import raw
    from core.gdpr import search as gs

    reg = gs.registry()
    hits = 0
    needle = f"%{text.lower()}%"
    for tbl, cols in reg.tables.items():
        for col, cats in cols.items():
            if any(c in gs.REF_KINDS for c in cats.split("|")):
                continue
            rows = await raw(
                f'SELECT COUNT(*) AS n FROM "{tbl}" WHERE tenant_id = {{}} AND lower(CAST("{col}" AS TEXT)) LIKE {{}}',
                tenant_id, needle,
            )
            hits += int(rows[0]["n"])
    return hits


async def main(args: argparse.Namespace) -> dict[str, Any]:
    from core import builtin  # noqa: F401  (the core's own plugin, before the host)
    from core.auth import SessionUser
    from core.db import is_sqlite, pooled, raw
    from core.gdpr import search as gs
    from core.migrate import migrate
    from core.plugins import get_host
    from core.tenancy import create_tenant

    await migrate()
    rng = random.Random(7)
    host = get_host()
    async with pooled():
        t0 = time.perf_counter()
        seeded = await raw("SELECT id FROM tenant WHERE name = 'Bench' ORDER BY id DESC LIMIT 1")
        if args.reuse and seeded:
            main_tenant = int(seeded[0]["id"])
            people = await load_people(main_tenant)
        else:
            main_tenant = int((await create_tenant(host, f"bench-{os.getpid()}", "Bench", None, "sv"))["id"])
            people = await seed_tenant(main_tenant, args.values, rng, 0)
        for k in range(9 if not (args.reuse and seeded) else 0):
            other = int((await create_tenant(host, f"bench-{os.getpid()}-{k}", f"Other {k}", None, "sv"))["id"])
            # Other tenants hold some of the very same values (shared e-mail addresses etc.).
            await seed_tenant(other, args.values // 20, random.Random(k), 0)
        seed_s = time.perf_counter() - t0
        # Fresh statistics, as autovacuum would have them after a bulk load: without them
        # PostgreSQL's generic plans filter a whole tenant's rows instead of using the
        # (tenant_id, customer_id)-style indexes (exact searches measured 200-300 ms p50 at
        # 100k values before; 0.04 ms a lookup after ANALYZE). And the visibility map
        # autovacuum sets after a bulk load: without it an index-only scan of a name
        # prefix fetches every matching term's heap row too (16,688 heap fetches for
        # "svens" at 1M values: 96 ms against 37 ms after VACUUM, under the same load).
        await raw("VACUUM ANALYZE" if not is_sqlite() else "ANALYZE")
        terms = (await raw("SELECT COUNT(*) AS n FROM gdpr_search_term"))[0]["n"]

        # A searching administrator, as the route passes it: every record type's can_open runs.
        viewer = SessionUser(0, main_tenant, "bench", 0, "Bench", "bench@example.invalid", "admin", "sv")
        kinds = {
            "email": lambda p: p.email.upper() if rng.random() < 0.3 else p.email,
            "phone": lambda p: phone_forms(p.phone, rng),
            "national_id": lambda p: pnr_forms(p.pnr, rng),
            "name_prefix": lambda p: p.last[: rng.randint(4, 6)].lower(),
        }
        result: dict[str, Any] = {
            "engine": "sqlite" if is_sqlite() else "postgresql",
            "values": args.values,
            "people": len(people),
            "index_terms": int(terms),
            "seed_seconds": round(seed_s, 1),
            "kinds": {},
        }
        samples = {kind: [make(rng.choice(people)) for _ in range(args.queries)] for kind, make in kinds.items()}
        for kind, sample in samples.items():
            times: list[float] = []
            found = 0
            for qtext in sample:
                t = time.perf_counter()
                answer = await gs.search(main_tenant, qtext, viewer=viewer, page_size=20)
                times.append(time.perf_counter() - t)
                found += answer["total"] > 0
            scan_times: list[float] = []
            for qtext in sample[: args.scan_sample]:
                needle = qtext.lower() if kind in ("email", "name_prefix") else qtext
                t = time.perf_counter()
                await like_scan(main_tenant, needle)
                scan_times.append(time.perf_counter() - t)
            p50 = pct(times, 0.5)
            scan_p50 = pct(scan_times, 0.5)
            result["kinds"][kind] = {
                "queries": len(sample),
                "found": found,
                "p50_ms": p50,
                "p95_ms": pct(times, 0.95),
                "p99_ms": pct(times, 0.99),
                "like_scan_queries": len(scan_times),
                "like_scan_p50_ms": scan_p50,
                "like_scan_p95_ms": pct(scan_times, 0.95),
                "speedup_p50": round(scan_p50 / p50, 1) if p50 and scan_p50 else None,
            }
        slug = (await raw("SELECT slug FROM tenant WHERE id = {}", main_tenant))[0]["slug"]
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    if args.http:
        for kind, (found, times) in http_queries(slug, samples).items():
            result["kinds"][kind].update(
                {"http_found": found, "http_p50_ms": pct(times, 0.5), "http_p95_ms": pct(times, 0.95)}
            )
        result["load_average_http"] = [round(x, 2) for x in os.getloadavg()]
    return result


def http_queries(slug: str, samples: dict[str, list[str]]) -> dict[str, tuple[int, list[float]]]:
    """The same queries over HTTP against ``gallra serve`` on this database: (found, seconds)
    per kind. One client, one query at a time, after a short warm-up."""
    import subprocess

    import httpx
    from http_path import GALLRA, free_port, wait_up

    env = dict(os.environ)
    env.pop("GALLRA_BROKER_URL", None)  # the embedded worker, as `gallra serve` by default
    password = "bench-password-123"
    email = "search-admin@bench.example"
    # A second run (--reuse) finds the administrator already there: same password.
    subprocess.run(
        [GALLRA, "user", "create", slug, email, "--name", "Admin", "--role", "admin", "--password-stdin"],
        env=env, check=False, capture_output=True, input=password + "\n", text=True,
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [GALLRA, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    out: dict[str, tuple[int, list[float]]] = {}
    try:
        wait_up(base, "/health")
        with httpx.Client(base_url=base, timeout=60) as client:
            r = client.post("/api/auth/login", json={"tenant": slug, "email": email, "password": password})
            assert r.status_code == 200, r.text
            for qtext in [q for sample in samples.values() for q in sample[:20]]:  # warm-up
                client.get("/api/gdpr/search", params={"q": qtext})
            for kind, sample in samples.items():
                times: list[float] = []
                found = 0
                for qtext in sample:
                    t = time.perf_counter()
                    r = client.get("/api/gdpr/search", params={"q": qtext})
                    times.append(time.perf_counter() - t)
                    assert r.status_code == 200, r.text
                    found += r.json()["total"] > 0
                out[kind] = (found, times)
    finally:
        server.terminate()
        server.wait(timeout=20)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--values", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--scan-sample", type=int, default=20)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--http", action="store_true", help="also the same queries over HTTP")
    print(json.dumps(asyncio.run(main(parser.parse_args())), indent=2))
