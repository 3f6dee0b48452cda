"""Fixtures shared by the module tests (cases, workorders, orders ...): another tenant's
client, the test-only people plugin, activity and settings helpers, and the record specs the
shared record tests (tests/records) run over."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from core.testing.client import AppClient
from tests.support import login


@pytest.fixture
async def other_client(app, other_tenant) -> AsyncIterator[AppClient]:  # type: ignore[no-untyped-def]
    """A client logged in as the administrator of ``other_tenant``."""
    async with AppClient(app=app) as c:
        response = await login(c, other_tenant)
        assert response.status_code == 200, response.text
        yield c


@pytest.fixture
async def people():  # type: ignore[no-untyped-def]
    """A test-only plugin owning customers and contact persons (see stub_people.py)."""
    from tests.stub_people import stub_people

    async for host in stub_people():
        yield host


KINDS = ("comment", "work_report", "note", "conversation")


async def add_activity(
    client: AppClient, plugin: str, record_type: str, record_id: int
) -> None:
    """One entry of every activity kind on the record."""
    for kind in KINDS:
        r = await client.post(
            f"/api/activity/{plugin}/{record_type}/{record_id}",
            json={"kind": kind, "body": f"{kind} om Anna"},
        )
        assert r.status_code == 201, r.text


async def activity_kinds(
    client: AppClient, plugin: str, record_type: str, record_id: int
) -> list[str]:
    r = await client.get(f"/api/activity/{plugin}/{record_type}/{record_id}")
    assert r.status_code == 200, r.text
    return sorted(i["kind"] for i in r.json()["items"])


async def set_rule(
    client: AppClient, module: str, key: str, mode: str, days: int | None = None
) -> None:
    """Set the tenant's mode (and days) of one of ``module``'s retention rules."""
    item: dict[str, Any] = {"key": key, "mode": mode}
    if days is not None:
        item["days"] = days
    r = await client.put(f"/api/{module}/settings", json=[item])
    assert r.status_code == 200, r.text


# --- a record's routes (core.routes.records) ------------------------------------------------
def record_calls(api: str, record_id: int, actions: tuple[str, ...] = ("close", "reopen")) -> list[tuple]:
    """What every record at ``api`` answers for one record: read, edit, its state actions,
    delete (``(method, url, body)``, for tests.support.each_answers)."""
    url = f"{api}/{record_id}"
    return [
        ("get", url, None), ("patch", url, {"title": "Stolen"}),
        *(("post", f"{url}/{action}", None) for action in actions), ("delete", url, None),
    ]


def list_calls(api: str, create: dict[str, Any] | None = None) -> list[tuple]:
    """The module's own calls that name no record: list, create, its retention settings."""
    return [("get", f"{api}/", None), ("post", f"{api}/", create or {"title": "x"}), ("get", f"{api}/settings", None)]


# --- the record specs -----------------------------------------------------------------------
def record_specs(keep: Callable[[Any], bool]) -> list[Any]:
    """``pytest.param(spec, id="plugin/name")`` for every installed record spec ``keep``
    accepts: a shared record test parametrized over them covers each plugin's records, and
    a new record spec the moment it is declared."""
    from core import builtin  # noqa: F401  (the core's own plugin, before the host)
    from core.plugins import get_host

    return [
        pytest.param(plugin, spec, id=f"{plugin}/{spec.name}")
        for plugin, specs in sorted(get_host().records_by_plugin().items())
        for spec in sorted(specs, key=lambda s: s.name)
        if keep(spec)
    ]
