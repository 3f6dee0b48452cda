"""API fuzzing (issue #10, part 2): Schemathesis generates requests for every operation of
/schema/openapi.json and sends them with an administrator's session. No response may be a
server error, and every documented response must match its schema.

Bounded for CI: ``GALLRA_FUZZ_EXAMPLES`` examples per operation (default 5), derandomized so
a failure repeats. ``GALLRA_FUZZ_EXAMPLES=50 pytest tests/security/test_fuzz.py -s`` runs a
longer search and prints the figures.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.python import asgi  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

from tests.security.seed import seed  # noqa: E402

EXAMPLES = int(os.environ.get("GALLRA_FUZZ_EXAMPLES", "5"))
CHECKS = [not_a_server_error, response_schema_conformance]

# Operations that would end the fuzzing session itself, and the schema pages.
SKIP = {("POST", "/api/auth/logout")}
LAST = ("/api/modules", "/api/auth/", "/api/employees")  # may lock the session out: at the end


def _order(op: Any) -> tuple[int, str]:
    return (1 if op.path.startswith(LAST) else 0, f"{op.path} {op.method}")


@pytest.mark.slow
def test_fuzz_every_operation(app: Any, tenant: Any, stub_broker: Any) -> None:
    from core.testing.client import AppClient
    from tests.support import login

    async def prepare() -> None:
        async with AppClient(app=app) as c:
            assert (await login(c, tenant)).status_code == 200
            await seed(app, c, tenant)  # ids exist, so generated requests reach real rows

    asyncio.run(prepare())
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    operations = sorted(
        (r.ok() for r in schema.get_all_operations()),
        key=_order,
    )
    operations = [
        op
        for op in operations
        if (op.method.upper(), op.path) not in SKIP
        and op.path.startswith("/api/")
        and op.path.startswith(os.environ.get("GALLRA_FUZZ_ONLY", "/api/"))
    ]
    failures: dict[str, str] = {}
    calls = 0
    statuses: dict[int, int] = {}
    started = time.monotonic()
    with asgi.get_client(app) as client:

        def log_in() -> None:
            response = client.post(
                "/api/auth/login",
                json={"tenant": tenant.slug, "email": tenant.admin_email, "password": tenant.password},
            )
            assert response.status_code == 200, response.text

        log_in()
        for op in operations:

            @given(case=op.as_strategy())
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case: Any) -> None:
                nonlocal calls
                if case.path_parameters and tenant.admin_id in case.path_parameters.values():
                    return  # the fuzzing administrator must not demote or delete itself
                calls += 1
                response = case.call(session=client)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                case.validate_response(response, checks=CHECKS)

            try:
                run()
            except Exception as exc:  # collected: one report for all of them
                failures[f"{op.method.upper()} {op.path}"] = str(exc)[:1500]
            if client.get("/api/auth/me").status_code != 200:
                log_in()  # an operation ended or changed the session: carry on as admin
    took = time.monotonic() - started
    print(
        f"fuzz: {len(operations)} operations, {EXAMPLES} examples each at most, "
        f"{calls} requests, {len(failures)} failing, {took:.1f} s; statuses {sorted(statuses.items())}"
    )
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
