"""Payment plans signed by SMS with the real two-factor plugin (M4 item 7).

A test-only plugin describes one contact person (tests/twofactor_kit.py); the code is read
from the outbox. Skipped where the two-factor plugin is not installed.
"""

from __future__ import annotations

from core.contracts import PersonContact
from plugins.projects.tests.conftest import PLAN, make_project, send_plan
from tests.support import created
from tests.twofactor_kit import activate_sms, contacts_with_real_two_factor, last_code, switch

SVEN = 900_011

real_plugins = contacts_with_real_two_factor(
    "mod5plancontacts", {SVEN: PersonContact(name="Sven Svensson", private_phone="+46701234567")}
)


async def test_plan_approval_needs_the_sms_code(admin_client, anon_client, tenant, real_plugins):
    await activate_sms(admin_client)
    # The quotes context being on does not guard payment plans.
    await switch(admin_client, "quotes", confirm=False)
    project = await make_project(admin_client, contact_person_id=SVEN)
    plan = await created(admin_client, f"/api/projects/{project['id']}/payment-plans", PLAN)
    token = await send_plan(admin_client, plan["id"])
    url = f"/api/projects/public/payment-plans/{token}/approve"
    body = {"name": "Typed", "email": "sven@example.se"}
    await switch(admin_client, "payment_plans", confirm=False)

    r = await anon_client.post(url, json=body)
    assert r.status_code == 202, r.text
    challenge = r.json()["second_factor"]
    code = await last_code(tenant.id)
    r = await anon_client.post(f"/api/twofactor/challenges/{challenge['challenge_id']}/verify", json={"code": code})
    assert r.status_code == 200, r.text
    r = await anon_client.post(url, json={**body, "challenge_id": challenge["challenge_id"]})
    assert r.status_code == 200, r.text
    got = (await admin_client.get(f"/api/projects/payment-plans/{plan['id']}")).json()
    assert got["status"] == "approved" and got["approver_name"] == "Sven Svensson"
    assert got["approver_phone"] == "+46 70•••••67"
