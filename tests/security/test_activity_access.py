"""Activity on a record is visible and writable exactly when the record is (issue #17.2).

Derived like the isolation matrix: tenant A is filled through the API (seed.py); then, for
every declared record type and A's records of it, three people ask the record's own route
(``RecordType.link``) and the record's activity route: A's administrator, a plain employee
of A (no group, no permission) and B's administrator. The record's route decides:

* it reads (200): the activity reads (200);
* it refuses (403 or 404): the activity answers exactly what it answers for an id that does
  not exist (404, the same text), to reading and to adding, and nothing is written;
* its PATCH refuses (403 or 404) a person who may read it: adding an entry is refused (403);
  a PATCH that does not refuse (it changes nothing, or the route has none): the entry is added.

A record type whose plugin does not say who may open it is refused to everybody (fail closed).
Every record type gets at least one refused case (B's administrator, at least), and the
plain employee's refusals include records other people of the tenant can open.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from core.activity import Activity
from core.gdpr.registry import get_declarations
from core.tenancy import get_scoped
from core.testing.client import AppClient
from plugins.vault.tests.conftest import add_employee
from tests.security import matrix
from tests.security.seed import seed
from tests.support import login

MISSING = 2**31 - 1  # a valid id no record has
PER_TYPE = 2  # records tried per record type


def _path(plugin: str, key: str, record_id: int) -> str:
    return f"/api/activity/{plugin}/{key}/{record_id}"


def _answer(response: Any, record_id: int) -> tuple[int, str]:
    """Status and text, the id in the text made neutral (a word of its own: 4 not in 404)."""
    return response.status_code, re.sub(rf"\b{record_id}\b", "<id>", response.text)


@pytest.mark.slow
async def test_activity_follows_the_record(
    app: Any, client: AppClient, tenant: Any, other_tenant: Any, stub_broker: Any
) -> None:
    assert (await login(client, tenant)).status_code == 200
    await seed(app, client, tenant)
    _, email = await add_employee(tenant.id, "Plain Employee")
    people: dict[str, AppClient] = {"A's administrator": client}
    async with AppClient(app=app) as plain, AppClient(app=app) as other:
        assert (await login(plain, tenant, email=email)).status_code == 200
        assert (await login(other, other_tenant)).status_code == 200
        people["A's plain employee"] = plain
        people["B's administrator"] = other
        failures, refused = await _check_all(tenant.id, people)
    assert not failures, "\n".join(failures)
    types = set(get_declarations().record_types)
    assert types and {t for t, _ in refused} >= {
        t for t in types if t[0] != "gdprtest"
    }, "a record type without a refused case"
    plain_refused = {t for t, who in refused if who == "A's plain employee"}
    # the records the plain employee may not open, among them GDPR paperwork and the vault
    assert {("privacy", "incident"), ("vault", "vault_entry"), ("core", "employee")} <= (
        plain_refused
    ), plain_refused
    written = await Activity.select(Activity.body).where(Activity.body.like("refused:%"))
    assert written == [], "a refused request wrote activity"


async def _check_all(
    tenant_id: int, people: dict[str, AppClient]
) -> tuple[list[str], set[tuple[tuple[str, str], str]]]:
    failures: list[str] = []
    refused: set[tuple[tuple[str, str], str]] = set()
    for (plugin, key), rt in get_declarations().record_types.items():
        ids = (await matrix.ids_of(tenant_id, [rt.table]))[:PER_TYPE]
        if not ids and rt.link is not None and plugin != "gdprtest":
            failures.append(f"{plugin}/{key}: the seed made no record of this type")
        for who, c in people.items():
            missing_get = _answer(await c.get(_path(plugin, key, MISSING)), MISSING)
            missing_post = _answer(
                await c.post(_path(plugin, key, MISSING), json={"kind": "note", "body": "x"}),
                MISSING,
            )
            assert missing_get[0] == 404 and missing_post[0] == 404, (plugin, key, who)
            for rid in ids:
                where = f"{who}: {plugin}/{key}/{rid}"
                if rt.link is None:
                    if rt.can_open is not None:
                        continue  # no route of its own to compare with
                    readable = writable = False  # nobody said who may open it: fail closed
                else:
                    readable = (await c.get(rt.link(rid))).status_code == 200
                    patched = await c.patch(rt.link(rid), json={})
                    writable = patched.status_code not in (403, 404)
                body = {"kind": "note", "body": f"refused: {where}"}
                got = await c.get(_path(plugin, key, rid))
                if readable:
                    if got.status_code != 200:
                        failures.append(f"{where}: the record reads, activity {got.status_code}")
                        continue
                else:
                    refused.add(((plugin, key), who))
                    if _answer(got, rid) != missing_get:
                        failures.append(f"{where}: read {_answer(got, rid)} != {missing_get}")
                    added = await c.post(_path(plugin, key, rid), json=body)
                    if _answer(added, rid) != missing_post:
                        failures.append(f"{where}: add {_answer(added, rid)} != {missing_post}")
                    continue
                if writable:
                    added = await c.post(
                        _path(plugin, key, rid), json={"kind": "note", "body": f"ok: {where}"}
                    )
                    row = await get_scoped(rt.table, tenant_id, rid)
                    expected = 409 if row.get("anonymized_at") is not None else 201
                    if added.status_code != expected:
                        failures.append(f"{where}: may change it, adding {added.status_code}")
                else:
                    refused.add(((plugin, key), who))
                    added = await c.post(_path(plugin, key, rid), json=body)
                    if added.status_code != 403:
                        failures.append(f"{where}: may not change it, adding {added.status_code}")
    return failures, refused
