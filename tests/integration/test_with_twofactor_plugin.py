"""Extra costs signed by SMS with the real two-factor plugin (M4 item 6).

A test-only plugin describes the customer (tests/stand_in.py) and answers ``look_up_party`` (as
the customers plugin does for its people); the code is read from the outbox, as an administrator without an
SMS gateway would. Skipped where the two-factor plugin is not installed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from core.contracts import PartyFound, PersonContact, PersonKind
from core.plugins import get_host, hookimpl
from core.tables import Outbox
from tests.stand_in import standing_in


async def describe_customer(tenant_id: int, person_id: int) -> PersonContact | None:
    if person_id == 77:
        return PersonContact(name="Anna Svensson", mobile_phone="+46701234567")
    if person_id == 78:
        return PersonContact(name="Bo Ek", fix_hint_sv="Kundkortet", fix_hint_en="The customer card")
    return None


class Customers:
    @hookimpl
    def look_up_party(self, tenant_id: int, customer_id: int, contact_person_id: int) -> Any:
        """Its customers 77 and 78 may be named by a work order (core.references)."""
        return PartyFound(customer=customer_id in (77, 78), contact_customer_id=None)


@pytest.fixture
def people() -> Iterator[None]:
    if get_host().plugin("twofactor") is None:
        pytest.skip("the two-factor plugin is not installed")
    host = get_host()
    host.add(Customers(), name="mod4customers", distribution="gallra-tests")
    with standing_in("mod4customers", PersonKind("customer", describe=describe_customer)):
        yield
    host.pm.unregister(name="mod4customers")
    host.records.pop("mod4customers", None)


async def last_code(tenant_id: int) -> str:
    rows = (
        await Outbox.select()
        .where((Outbox.tenant_id == tenant_id) & (Outbox.channel == "sms"))
        .order_by(Outbox.id)
    )
    match = re.search(r"\b(\d{6})\b", rows[-1]["body"])
    assert match
    return match.group(1)


async def test_approval_needs_the_sms_code_when_the_context_is_on(admin_client, tenant, people):
    r = await admin_client.put(
        "/api/twofactor/settings", json={"sms_active": True, "sender": "Gallra"}
    )
    assert r.status_code == 200, r.text
    r = await admin_client.put("/api/twofactor/contexts/extra_costs", json={"enabled": True})
    assert r.status_code == 200, r.text
    order = (
        await admin_client.post("/api/workorders/", json={"title": "t", "customer_id": 77})
    ).json()
    line = (
        await admin_client.post(
            f"/api/workorders/{order['id']}/extra-costs", json={"description": "d", "amount": 10}
        )
    ).json()
    url = f"/api/workorders/{order['id']}/extra-costs/{line['id']}/approve"

    r = await admin_client.post(url, json={"approver_name": "Typed Name"})
    assert r.status_code == 202, r.text
    challenge = r.json()["second_factor"]
    assert challenge["masked_phone"] == "+46 70•••••67"
    # Re-submitting before the code is entered records nothing.
    r = await admin_client.post(
        url, json={"approver_name": "Typed Name", "challenge_id": challenge["challenge_id"]}
    )
    assert r.status_code == 409
    assert (await admin_client.get(f"/api/workorders/extra-costs/{line['id']}")).json()[
        "approved_at"
    ] is None

    r = await admin_client.post(
        f"/api/twofactor/challenges/{challenge['challenge_id']}/verify",
        json={"code": await last_code(tenant.id)},
    )
    assert r.status_code == 200, r.text
    r = await admin_client.post(
        url, json={"approver_name": "Typed Name", "challenge_id": challenge["challenge_id"]}
    )
    assert r.status_code == 200, r.text
    signed = r.json()["extra_cost"]
    assert signed["approver_name"] == "Anna Svensson"  # who signed, as the code's owner
    assert signed["approver_phone"] == "+46 70•••••67"
    assert signed["approved_at"] is not None
    # The challenge is used up.
    other = (
        await admin_client.post(
            f"/api/workorders/{order['id']}/extra-costs", json={"description": "e", "amount": 5}
        )
    ).json()
    r = await admin_client.post(
        f"/api/workorders/{order['id']}/extra-costs/{other['id']}/approve",
        json={"approver_name": "X", "challenge_id": challenge["challenge_id"]},
    )
    assert r.status_code == 409


async def test_customer_without_phone_is_told_to_contact_an_administrator(
    admin_client, tenant, people
):
    await admin_client.put("/api/twofactor/settings", json={"sms_active": True, "sender": "Gallra"})
    await admin_client.put("/api/twofactor/contexts/extra_costs", json={"enabled": True})
    order = (
        await admin_client.post("/api/workorders/", json={"title": "t", "customer_id": 78})
    ).json()
    line = (
        await admin_client.post(
            f"/api/workorders/{order['id']}/extra-costs", json={"description": "d", "amount": 10}
        )
    ).json()
    r = await admin_client.post(
        f"/api/workorders/{order['id']}/extra-costs/{line['id']}/approve",
        json={"approver_name": "Bo"},
    )
    assert r.status_code == 409, r.text
    assert "administrator" in r.json()["detail"]
    assert (await admin_client.get(f"/api/workorders/extra-costs/{line['id']}")).json()[
        "approved_at"
    ] is None


async def _signed_code(admin_client: Any, tenant: Any, url: str) -> str:
    r = await admin_client.post(url, json={"approver_name": "Typed Name"})
    assert r.status_code == 202, r.text
    challenge = r.json()["second_factor"]["challenge_id"]
    r = await admin_client.post(
        f"/api/twofactor/challenges/{challenge}/verify", json={"code": await last_code(tenant.id)}
    )
    assert r.status_code == 200, r.text
    return challenge


async def _forget_last_send(tenant_id: int) -> None:
    from plugins.twofactor.tables import TwoFactorPerson

    await TwoFactorPerson.update({TwoFactorPerson.last_send_at: None}).where(
        TwoFactorPerson.tenant_id == tenant_id
    )


async def test_a_code_signs_only_its_own_line_and_amount(admin_client, tenant, people):
    """#17.7: a code entered for a 100 kr line does not approve a 99,999 kr line, and a line
    changed after its code was sent needs a new code."""
    await admin_client.put("/api/twofactor/settings", json={"sms_active": True, "sender": "Gallra"})
    await admin_client.put("/api/twofactor/contexts/extra_costs", json={"enabled": True})
    order = (await admin_client.post("/api/workorders/", json={"title": "t", "customer_id": 77})).json()
    base = f"/api/workorders/{order['id']}/extra-costs"
    cheap = (await admin_client.post(base, json={"description": "Skruv", "amount": 100})).json()
    dear = (await admin_client.post(base, json={"description": "Nytt tak", "amount": 99999})).json()

    challenge = await _signed_code(admin_client, tenant, f"{base}/{cheap['id']}/approve")
    r = await admin_client.post(
        f"{base}/{dear['id']}/approve", json={"approver_name": "X", "challenge_id": challenge}
    )
    assert r.status_code == 409, r.text
    assert (await admin_client.get(f"/api/workorders/extra-costs/{dear['id']}")).json()["approved_at"] is None
    # Its own line, unchanged, is approved with it.
    r = await admin_client.post(
        f"{base}/{cheap['id']}/approve", json={"approver_name": "X", "challenge_id": challenge}
    )
    assert r.status_code == 200, r.text

    # The line changes (amount, then text) after the code was verified: refused.
    await _forget_last_send(tenant.id)
    challenge = await _signed_code(admin_client, tenant, f"{base}/{dear['id']}/approve")
    r = await admin_client.patch(f"{base}/{dear['id']}", json={"amount": 199999})
    assert r.status_code == 200, r.text
    r = await admin_client.post(
        f"{base}/{dear['id']}/approve", json={"approver_name": "X", "challenge_id": challenge}
    )
    assert r.status_code == 409
    await _forget_last_send(tenant.id)
    challenge = await _signed_code(admin_client, tenant, f"{base}/{dear['id']}/approve")
    await admin_client.patch(f"{base}/{dear['id']}", json={"description": "Nytt tak och skorsten"})
    r = await admin_client.post(
        f"{base}/{dear['id']}/approve", json={"approver_name": "X", "challenge_id": challenge}
    )
    assert r.status_code == 409
    assert (await admin_client.get(f"/api/workorders/extra-costs/{dear['id']}")).json()["approved_at"] is None


async def test_wrong_codes_typed_on_the_employee_page_do_not_lock_the_customer(admin_client, tenant, people):
    """#17.8: the employee recording the approval started the step: wrong codes count
    against the employee, not against the customer (who may use the portal)."""
    from plugins.twofactor.services import MAX_ATTEMPTS
    from plugins.twofactor.tables import TwoFactorChallenge, TwoFactorPerson

    await admin_client.put("/api/twofactor/settings", json={"sms_active": True, "sender": "Gallra"})
    await admin_client.put("/api/twofactor/contexts/extra_costs", json={"enabled": True})
    order = (await admin_client.post("/api/workorders/", json={"title": "t", "customer_id": 77})).json()
    line = (await admin_client.post(f"/api/workorders/{order['id']}/extra-costs",
                                    json={"description": "d", "amount": 10})).json()
    r = await admin_client.post(f"/api/workorders/{order['id']}/extra-costs/{line['id']}/approve",
                                json={"approver_name": "X"})
    challenge = r.json()["second_factor"]["challenge_id"]
    code = await last_code(tenant.id)
    bad = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(MAX_ATTEMPTS):
        await admin_client.post(f"/api/twofactor/challenges/{challenge}/verify", json={"code": bad})
    row = await TwoFactorChallenge.select().where(TwoFactorChallenge.tenant_id == tenant.id).first()
    assert row["requested_by"] == tenant.admin_id and row["customer_id"] == 77
    counters = {
        (p["person_kind"], p["customer_id"] or p["employee_id"]): (p["failed_count"], p["others_failed_count"])
        for p in await TwoFactorPerson.select().where(TwoFactorPerson.tenant_id == tenant.id)
    }
    assert counters.get(("customer", 77), (0, 0)) == (0, 0)
    assert counters[("employee", tenant.admin_id)] == (0, MAX_ATTEMPTS)
