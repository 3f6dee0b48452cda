"""Fixtures of the GDPR engine tests.

Every test here runs on a host holding only the core and the test-only plugins of
tests/gdpr/plugin.py (not the entry-point plugins other modules install), so the engine
is tested against declarations these tests control. The host is the process's host for
the test (the app, the worker thread and the CLI all use it), and the plugins are
unregistered afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from core.db import as_owner
from tests.gdpr import plugin as tp


@pytest.fixture(scope="session")
def _test_tables() -> None:
    import asyncio

    async def create() -> None:
        async with as_owner():  # DDL: the tables' owner
            for table in tp.TABLES:
                await table.create_table(if_not_exists=True)

    asyncio.run(create())


@pytest.fixture(autouse=True)
async def gdpr_host(_test_tables: None, stub_broker: Any) -> AsyncIterator[Any]:
    from core import plugins

    previous = plugins._host
    host = plugins.PluginHost(load_entry_points=False)
    host.add(tp.GdprTestPlugin(), name="gdprtest", distribution="gallra-tests")
    host.add(tp.GdprLinksPlugin(), name="gdprlinks", distribution="gallra-tests")
    plugins.set_host(host)
    tp.HOOK_CALLS.clear()
    tp.FAIL_IDS.clear()
    yield host
    for name in ("gdprtest", "gdprlinks"):
        host.pm.unregister(name=name)
        host.records.pop(name, None)
    plugins.set_host(previous)
    tp.HOOK_CALLS.clear()


@pytest.fixture
def app(stub_broker: Any, gdpr_host: Any) -> Any:
    from core.app import create_app

    return create_app(gdpr_host)


async def add_customer(tenant_id: int, **values: Any) -> int:
    row = {
        "tenant_id": tenant_id,
        "name": "Kalle Anka",
        "code": "K123",
        "email": "kalle@example.org",
        "phone": "+46701234567",
        "notes": "Allergic to cats",
        "score": 42,
        "kind": "private",
    }
    row.update(values)
    rows = await tp.GTCustomer.insert(tp.GTCustomer(**row)).returning(tp.GTCustomer.id)
    return int(rows[0]["id"])


async def add_contact(tenant_id: int, customer_id: int, name: str = "Kajsa Anka") -> int:
    rows = await tp.GTContact.insert(
        tp.GTContact(
            tenant_id=tenant_id,
            customer_id=customer_id,
            name=name,
            email="kajsa@example.org",
            title="CEO",
        )
    ).returning(tp.GTContact.id)
    return int(rows[0]["id"])


async def customer(customer_id: int) -> dict[str, Any]:
    row = await tp.GTCustomer.select().where(tp.GTCustomer.id == customer_id).first()
    assert row is not None
    return row


def at(dt: datetime) -> Any:
    """Freeze time at ``dt``."""
    import time_machine

    return time_machine.travel(dt, tick=False)
