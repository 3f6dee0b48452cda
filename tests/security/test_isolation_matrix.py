"""Tenant isolation over the whole route list (issue #10, part 3).

Tenant A fills every table it can through the API; then, for every operation with an id in
its path and every assignment of A's ids to that path, an administrator of tenant B sends
the request. Each must answer 404, and afterwards not one row of A differs. The routes,
the ids and the bodies are all derived (tests/security/matrix.py), so a new endpoint is in
the matrix without a new test; a GET route whose ids the seeding cannot reach fails the
coverage test until seed.py learns to create its record.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from core.testing.client import AppClient
from tests.security import matrix
from tests.security.seed import SKIP_PREFIXES, seed
from tests.support import login

# Requests whose 404 is not about A's id: the module guard's answer would hide a leak.
MODULE_OFF = "is not enabled for this organization"
# Id assignments tried per write operation (reads: the one that reached A's record).
MAX_COMBOS = 4


def _in_matrix(op: matrix.Operation) -> bool:
    return (
        bool(op.int_params)
        and not op.public
        and op.openapi_path.startswith("/api/")
        and not op.openapi_path.startswith(SKIP_PREFIXES)
    )


@pytest.mark.slow
async def test_every_route_with_an_id_is_404_for_another_tenant(
    app: Any, client: AppClient, tenant: Any, other_tenant: Any, stub_broker: Any
) -> None:
    # No worker runs: messages stay queued, so nothing but B's requests could change A's rows.
    await _matrix(app, client, tenant, other_tenant)


async def _matrix(app: Any, client: AppClient, tenant: Any, other_tenant: Any) -> None:
    assert (await login(client, tenant)).status_code == 200
    started = time.monotonic()
    await seed(app, client, tenant)
    seeded = time.monotonic() - started
    ops = [op for op in matrix.operations(app) if _in_matrix(op)]
    # Reads first, writes after (deletes last), so a leaking write cannot hide a leaking
    # read of the same row.
    order = {"GET": 0, "PUT": 1, "PATCH": 1, "POST": 2, "DELETE": 3}
    ops.sort(key=lambda o: order.get(o.method, 2))
    plan: list[tuple[matrix.Operation, list[dict[str, Any]]]] = []
    uncovered: list[str] = []
    reached: dict[tuple[str, str], set[Any]] = {}  # ids A's own reads found, per parameter
    for op in ops:
        combos = await matrix.id_combinations(op, tenant.id)
        if op.method == "GET":
            # the ids must reach the record for A itself, or B's 404 proves nothing
            for values in combos:
                mine = await client.get(op.url(values), params=op.query_required or None)
                if mine.status_code != 404:
                    for name, value in values.items():
                        reached.setdefault((op.app_name, name), set()).add(value)
                    combos = [values]
                    break
            else:
                combos = []
        else:
            # the ids A's reads reached first; a few per operation keep the run short
            combos.sort(
                key=lambda v: -sum(x in reached.get((op.app_name, k), ()) for k, x in v.items())
            )
            combos = combos[:MAX_COMBOS]
        if not combos:
            uncovered.append(str(op))
        plan.append((op, combos))
    planned = time.monotonic()
    before_a = await matrix.snapshot(tenant.id)

    failures: list[str] = []
    sent = 0
    async with AppClient(app=app) as other:
        assert (await login(other, other_tenant)).status_code == 200
        for op, combos in plan:
            for values in combos:
                url = op.url(values)
                response = await other.request(
                    op.method, url, json=op.body, params=op.query_required or None
                )
                sent += 1
                if response.status_code != 404 or MODULE_OFF in response.text:
                    failures.append(f"{op.method} {url}: {response.status_code} {response.text[:200]}")
    assert not failures, "\n".join(failures)
    assert not uncovered, "no ids of tenant A reach: " + ", ".join(uncovered)
    assert sent > 0
    after_a = await matrix.snapshot(tenant.id)
    changed = [t for t in before_a if before_a[t] != after_a[t]]
    assert not changed, f"tenant A's rows changed in {changed}"
    print(
        f"isolation matrix: {len(ops)} operations, {sent} requests by tenant B, all 404; "
        f"seed {seeded:.1f} s, plan {planned - started - seeded:.1f} s, "
        f"requests {time.monotonic() - planned:.1f} s"
    )
