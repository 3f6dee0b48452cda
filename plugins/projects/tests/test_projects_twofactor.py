"""Payment plans signed by SMS with the real two-factor plugin (M4 item 7).

A test-only plugin describes one contact person (tests/stand_in.py); the code is read
from the outbox. Skipped where the two-factor plugin is not installed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from core.contracts import PartyFound, PersonContact, PersonKind
from core.plugins import get_host, hookimpl
from core.tables import Outbox
from plugins.projects.tests.conftest import PLAN, make_project, post_ok, send_plan
from tests.stand_in import standing_in

SVEN = 900_011


async def describe_contact(tenant_id: int, person_id: int) -> PersonContact | None:
    if person_id != SVEN:
        return None  # the customers plugin's contact persons
    return PersonContact(name="Sven Svensson", private_phone="+46701234567")


class Contacts:
    @hookimpl
    def look_up_party(self, tenant_id: int, customer_id: int, contact_person_id: int) -> Any:
        """Its contact person may be named with any customer (core.references)."""
        ours = contact_person_id == SVEN
        return PartyFound(customer=False, contact_customer_id=customer_id if ours else None)


@pytest.fixture
def real_plugins() -> Iterator[None]:
    if get_host().plugin("twofactor") is None:
        pytest.skip("the two-factor plugin is not installed")
    host = get_host()
    host.add(Contacts(), name="mod5plancontacts", distribution="gallra-tests")
    with standing_in("mod5plancontacts", PersonKind("contact", describe=describe_contact)):
        yield
    host.pm.unregister(name="mod5plancontacts")
    host.records.pop("mod5plancontacts", None)


async def test_plan_approval_needs_the_sms_code(admin_client, anon_client, tenant, real_plugins):
    assert (
        await admin_client.put("/api/twofactor/settings", json={"sms_active": True, "sender": "Gallra"})
    ).status_code == 200
    # The quotes context being on does not guard payment plans.
    assert (await admin_client.put("/api/twofactor/contexts/quotes", json={"enabled": True})).status_code == 200
    project = await make_project(admin_client, contact_person_id=SVEN)
    plan = await post_ok(admin_client, f"/api/projects/{project['id']}/payment-plans", PLAN)
    token = await send_plan(admin_client, plan["id"])
    url = f"/api/projects/public/payment-plans/{token}/approve"
    body = {"name": "Typed", "email": "sven@example.se"}
    assert (await admin_client.put("/api/twofactor/contexts/payment_plans", json={"enabled": True})).status_code == 200

    r = await anon_client.post(url, json=body)
    assert r.status_code == 202, r.text
    challenge = r.json()["second_factor"]
    rows = await Outbox.select().where((Outbox.tenant_id == tenant.id) & (Outbox.channel == "sms")).order_by(Outbox.id)
    code = re.search(r"\b(\d{6})\b", rows[-1]["body"]).group(1)  # type: ignore[union-attr]
    r = await anon_client.post(f"/api/twofactor/challenges/{challenge['challenge_id']}/verify", json={"code": code})
    assert r.status_code == 200, r.text
    r = await anon_client.post(url, json={**body, "challenge_id": challenge["challenge_id"]})
    assert r.status_code == 200, r.text
    got = (await admin_client.get(f"/api/projects/payment-plans/{plan['id']}")).json()
    assert got["status"] == "approved" and got["approver_name"] == "Sven Svensson"
    assert got["approver_phone"] == "+46 70•••••67"
