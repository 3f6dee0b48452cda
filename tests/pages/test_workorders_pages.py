"""Work order pages through the test client, with the customer's SMS approval of an extra cost."""

from __future__ import annotations

import re

from tests.pages.helpers import CSRF_RE, page_login, post_form
from tests.twofactor_kit import activate_sms, last_code, switch


async def test_work_order_with_extra_cost_approved_by_sms(anon_client, admin_client, tenant):
    await activate_sms(admin_client)
    await switch(admin_client, "extra_costs")
    r = await admin_client.post(
        "/api/customers", json={"name": "Bo Kund", "kind": "private", "mobile_phone": "0701234567"}
    )
    customer_id = r.json()["id"]
    await page_login(anon_client, tenant)
    r = await post_form(anon_client, "/workorders/new", {"title": ""}, "/workorders/new")
    assert r.status_code == 400 and 'id="e-title"' in r.text
    r = await post_form(
        anon_client, "/workorders/new", {"title": "Byta tak", "customer_id": str(customer_id)}, "/workorders/new"
    )
    assert r.status_code == 303
    path = r.headers["location"]
    assert path in (await anon_client.get("/workorders?q=tak")).text
    assert path not in (await anon_client.get("/workorders?q=golv")).text
    r = await post_form(anon_client, path + "/extra-costs", {"description": "Extra plåt", "amount": "tusen"}, path)
    assert r.status_code == 400 and 'id="e-amount"' in r.text
    r = await post_form(anon_client, path + "/extra-costs", {"description": "Extra plåt", "amount": "1250,50"}, path)
    assert r.status_code == 303
    page = (await anon_client.get(path)).text
    assert "1\u00a0250,50\u00a0kr" in page and "Bo Kund" in page
    action = re.search(r'action="(/workorders/\d+/extra-costs/\d+/approve)"', page).group(1)
    r = await post_form(anon_client, action, {"approver_name": ""}, path)
    assert r.status_code == 400 and 'id="e-an-' in r.text
    r = await post_form(anon_client, action, {"approver_name": "Bo Kund"}, path)
    assert r.status_code == 200 and 'name="code"' in r.text
    challenge = re.search(r'name="challenge_id" value="([^"]+)"', r.text).group(1)
    token = CSRF_RE.search(r.text).group(1)
    form = {"csrf_token": token, "challenge_id": challenge, "then": action, "approver_name": "Bo Kund"}
    r = await anon_client.post(
        "/twofactor/code", data={**form, "code": await last_code(tenant.id)}, follow_redirects=False
    )
    assert r.status_code == 307
    r = await anon_client.post(action, data=form, follow_redirects=False)
    assert r.status_code == 303
    page = (await anon_client.get(path)).text
    assert "Godkänd av Bo Kund" in page and "SMS till +46 70" in page
    r = await post_form(anon_client, path + "/close", {}, path)
    assert r.status_code == 303 and 'id="wo-status">Stängd<' in (await anon_client.get(path)).text
    r = await anon_client.get(path + "/delete")
    assert 'id="anonymization-notice"' in r.text
    r = await post_form(anon_client, path + "/delete", {}, path)
    assert r.status_code == 303 and path not in (await anon_client.get("/workorders")).text
