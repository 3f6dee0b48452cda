"""Approving an extra cost with the two-factor hook answering, and with nobody answering.

A test-only plugin stands in for plugins/twofactor: it implements
``challenge_second_factor`` the way the contract describes (first call: a challenge;
re-submission with the verified challenge id: not required, with the masked phone).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.contracts import SecondFactorDecision, SecondFactorRequest
from core.plugins import get_host, hookimpl
from tests.support import add_party

MASKED = "+46 70•••••99"


class FakeTwoFactor:
    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.requests: list[SecondFactorRequest] = []

    @hookimpl
    def challenge_second_factor(self, request: SecondFactorRequest) -> Any:
        self.requests.append(request)
        if request.context != "extra_costs":
            return None
        if self.mode == "off":
            return None
        if self.mode == "no_phone":
            return SecondFactorDecision(
                required=True, error="The phone number is missing; contact an administrator."
            )

        async def decide() -> SecondFactorDecision:
            if request.challenge_id is None:
                return SecondFactorDecision(
                    required=True, challenge_id="ch-1", masked_phone=MASKED, message="Code sent"
                )
            if request.challenge_id == "ch-1":
                return SecondFactorDecision(required=False, masked_phone=MASKED)
            return SecondFactorDecision(required=True, error="That code has not been verified.")

        return decide()


@pytest.fixture
def two_factor(request: pytest.FixtureRequest) -> Iterator[FakeTwoFactor]:
    plugin = FakeTwoFactor(getattr(request, "param", "on"))
    host = get_host()
    host.add(plugin, name="fake2fa", distribution="gallra-tests")
    yield plugin
    host.pm.unregister(name="fake2fa")
    host.records.pop("fake2fa", None)


async def setup(client, **wo):  # type: ignore[no-untyped-def]
    order = (await client.post("/api/workorders/", json={"title": "t", **wo})).json()
    line = (
        await client.post(
            f"/api/workorders/{order['id']}/extra-costs", json={"description": "d", "amount": 10}
        )
    ).json()
    return order, line, f"/api/workorders/{order['id']}/extra-costs/{line['id']}"


async def test_sms_signing_challenges_first_and_records_after_verification(
    admin_client, tenant, two_factor
):
    customer, (contact,) = await add_party(tenant.id)
    _order, line, url = await setup(admin_client, customer_id=customer, contact_person_id=contact)
    r = await admin_client.post(
        f"{url}/approve", json={"approver_name": "Bo Ek"}, headers={"user-agent": "phone"}
    )
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "second_factor_required" and body["extra_cost"] is None
    assert body["second_factor"] == {
        "challenge_id": "ch-1",
        "masked_phone": MASKED,
        "message": "Code sent",
    }
    asked = two_factor.requests[-1]
    assert (asked.tenant_id, asked.context, asked.person_kind, asked.person_id) == (
        tenant.id,
        "extra_costs",
        "contact",
        contact,
    )
    assert asked.challenge_id is None and asked.user_agent == "phone"
    # Nothing recorded yet.
    assert (await admin_client.get(f"/api/workorders/extra-costs/{line['id']}")).json() == line

    # A challenge the plugin does not vouch for is refused, nothing recorded.
    r = await admin_client.post(
        f"{url}/approve", json={"approver_name": "Bo Ek", "challenge_id": "forged"}
    )
    assert r.status_code == 409 and "not been verified" in r.json()["detail"]
    assert (await admin_client.get(f"/api/workorders/extra-costs/{line['id']}")).json() == line

    r = await admin_client.post(
        f"{url}/approve",
        json={"approver_name": "Bo Ek", "challenge_id": "ch-1", "approver_phone": "0701234567"},
    )
    assert r.status_code == 200, r.text
    done = r.json()["extra_cost"]
    assert done["approver_name"] == "Bo Ek" and done["approved_at"] is not None
    assert done["approver_phone"] == MASKED  # the number the code went to, not the typed one


async def test_customer_signs_when_there_is_no_contact_person(admin_client, tenant, two_factor):
    customer, _ = await add_party(tenant.id, contacts=0)
    _, _, url = await setup(admin_client, customer_id=customer)
    await admin_client.post(f"{url}/approve", json={"approver_name": "Bo"})
    assert (two_factor.requests[-1].person_kind, two_factor.requests[-1].person_id) == (
        "customer",
        customer,
    )


@pytest.mark.parametrize("two_factor", ["no_phone"], indirect=True)
async def test_missing_phone_stops_with_a_message(admin_client, tenant, two_factor):
    customer, _ = await add_party(tenant.id, contacts=0)
    _, line, url = await setup(admin_client, customer_id=customer)
    r = await admin_client.post(f"{url}/approve", json={"approver_name": "Bo"})
    assert r.status_code == 409 and "contact an administrator" in r.json()["detail"]
    assert (await admin_client.get(f"/api/workorders/extra-costs/{line['id']}")).json() == line


@pytest.mark.parametrize("two_factor", ["off"], indirect=True)
async def test_context_off_records_at_once(admin_client, tenant, two_factor):
    customer, _ = await add_party(tenant.id, contacts=0)
    _, _, url = await setup(admin_client, customer_id=customer)
    r = await admin_client.post(f"{url}/approve", json={"approver_name": "Bo"})
    assert r.status_code == 200 and r.json()["extra_cost"]["approver_phone"] == ""
    assert two_factor.requests  # it was asked


async def test_extra_costs_context_is_declared():
    contexts = [c for batch in get_host().hook.declare_two_factor_contexts() for c in (batch or ())]
    mine = [c for c in contexts if c.key == "extra_costs"]
    assert (
        len(mine) == 1
        and mine[0].module == "workorders"
        and mine[0].label_sv.startswith("Extrakostnader")
    )


async def test_disabled_module_is_404(admin_client, tenant):
    from core.tenancy import set_module_enabled

    order, _line, url = await setup(admin_client)
    await set_module_enabled(get_host(), tenant.id, "workorders", False)
    assert (await admin_client.get(f"/api/workorders/{order['id']}")).status_code == 404
    assert (
        await admin_client.post(f"{url}/approve", json={"approver_name": "Bo"})
    ).status_code == 404
    assert (await admin_client.get("/api/workorders/settings")).status_code == 404
