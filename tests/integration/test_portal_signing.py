"""#17.7 in the customer portal: the code a customer enters for an extra cost signs that
line as it stood (amount and text); a line changed after the code was verified is refused."""

from __future__ import annotations

from core.testing.client import AppClient
from plugins.portal.tests.test_portal import MOBILE, active_customer, portal_login
from plugins.workorders.tables import ExtraCost
from tests.twofactor_kit import activate_sms, last_code, switch


async def test_a_changed_line_needs_a_new_code(app, admin_client, tenant):
    await activate_sms(admin_client)
    await switch(admin_client, "extra_costs")
    customer = await active_customer(admin_client, tenant, mobile_phone=MOBILE)
    body = {"title": "Badrum", "customer_id": customer["id"]}
    order = (await admin_client.post("/api/workorders/", json=body)).json()
    base = f"/api/workorders/{order['id']}/extra-costs"
    line = (await admin_client.post(base, json={"description": "Extra kakel", "amount": "100"})).json()
    async with AppClient(app=app) as browser:
        r = await portal_login(browser, tenant, "per@example.org")
        assert r.status_code == 200, r.text
        url = f"/api/portal/approvals/extra_cost/{line['id']}/approve"
        r = await browser.post(url, json={})
        assert r.status_code == 202, r.text
        challenge = r.json()["second_factor"]["challenge_id"]
        v = await browser.post(f"/api/twofactor/challenges/{challenge}/verify",
                               json={"code": await last_code(tenant.id), "tenant": tenant.slug})
        assert v.status_code == 200, v.text
        # The line becomes 99,999 kr after the customer signed 100 kr.
        assert (await admin_client.patch(f"{base}/{line['id']}", json={"amount": 99999})).status_code == 200
        r = await browser.post(url, json={"challenge_id": challenge})
        assert r.status_code == 409, r.text
    row = await ExtraCost.select().where(ExtraCost.id == line["id"]).first()
    assert row["approved_at"] is None and row["amount_minor"] == 9999900
