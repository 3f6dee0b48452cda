"""The module retention tests' frozen clock and what they check after a sweep.

The rule is "30 days" and the sweep runs at NOW (time frozen): a record whose clock is one
second before the cutoff is anonymized, one second after it is left exactly as it was.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from core.testing.client import AppClient
from tests.support import add_party

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
CUTOFF = NOW - timedelta(days=30)
OUTSIDE = CUTOFF - timedelta(seconds=1)  # older than the cutoff: due
INSIDE = CUTOFF + timedelta(seconds=1)  # younger: not yet
WORD = "Anonymiserad"  # the default anonymization word


async def run_sweep(tenant_id: int, plugin: str, at: datetime = NOW) -> dict[str, int]:
    """Sweep the plugin's rules for the tenant at ``at``: records anonymized per rule."""
    from core.gdpr.engine import sweep

    with time_machine.travel(at, tick=False):
        results = await sweep(tenant_id, plugin)
    return {r.rule: r.records for r in results}


async def act_at(client: AppClient, url: str, action: str, moment: datetime) -> dict:
    """Take the record at ``url`` through ``action`` ("delete", or a state action such as
    "close" or "invoice") at ``moment``, the clock its retention rule starts from; the record."""
    with time_machine.travel(moment, tick=False):
        if action == "delete":
            r = await client.delete(url)
        else:
            r = await client.post(f"{url}/{action}")
    assert r.status_code == 200, r.text
    return r.json()


# What the module rules leave of what a record names of its customer and end customer
# (core.records.columns: party_fields, end_customer_fields): the customer and contact person
# become 0, the end customer's name and address the tenant's word, phone and e-mail (fixed
# formats) null.
PARTY_GONE = {"customer_id": 0, "contact_person_id": 0}
END_CUSTOMER_GONE = {"end_customer_name": WORD, "end_customer_address": WORD} | dict.fromkeys(
    ("end_customer_phone", "end_customer_email")
)


def assert_swept(before: dict, after: dict, gone: dict[str, Any], kept: tuple[str, ...]) -> None:
    """The sweep at NOW anonymized the record: every ``gone`` column holds what its strategy
    leaves (the word, None, 0, ""), every ``kept`` column is as it was ``before``, and the
    record carries the marker."""
    for column, value in gone.items():
        assert after[column] == value, column
    for column in kept:
        assert after[column] == before[column], column
    assert datetime.fromisoformat(after["anonymized_at"]) == NOW


async def around_the_cutoff(
    make: Callable[[str, datetime], Awaitable[Any]], due: tuple[str, ...], young: str, at_cutoff: str
) -> tuple[list[Any], list[Any]]:
    """The records a retention test sweeps, each made by ``make(action, moment)``: one per
    action in ``due`` taken just outside the cutoff (due), and, not due yet, one ``young``
    taken just inside it and one ``at_cutoff`` taken exactly at it. (due, not due)."""
    old = [await make(action, OUTSIDE) for action in due]
    return old, [await make(young, INSIDE), await make(at_cutoff, CUTOFF)]


def real_party(personal: dict[str, Any]) -> Callable[..., Any]:
    """An autouse fixture for a module's test file: before each test, ``personal`` names a
    real customer and contact person of the test's tenant (a record may name only those:
    core.references.check_party). ``_real_party = real_party(PERSONAL)``."""

    @pytest.fixture(autouse=True)
    async def _real_party(tenant):  # type: ignore[no-untyped-def]
        customer, (contact,) = await add_party(tenant.id)
        personal.update(customer_id=customer, contact_person_id=contact)

    return _real_party
