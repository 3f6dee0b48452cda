"""The GDPR module's page: the inventory and signing it with an SMS code."""

from __future__ import annotations

import re

from tests.pages.helpers import CSRF_RE, page_login, post_form
from tests.twofactor.conftest import MOBILE, activate_sms, last_code, set_phones, switch


async def test_inventory_signed_with_sms(anon_client, admin_client, tenant):
    await activate_sms(admin_client)
    await switch(admin_client, "gdpr_inventory")
    await set_phones(tenant.admin_id, mobile=MOBILE)
    await page_login(anon_client, tenant)
    r = await anon_client.get("/privacy")
    assert r.status_code == 200 and "Kunder" in r.text and "Inte signerad ännu." in r.text
    r = await post_form(anon_client, "/privacy/sign", {"note": "Årlig genomgång"}, "/privacy")
    assert r.status_code == 409 and 'id="e-note"' in r.text  # nothing to sign yet: said beside the form
    from tests.privacy.conftest import COMPLETE

    assert (await admin_client.post("/api/privacy/activities", json=COMPLETE)).status_code == 201
    r = await post_form(anon_client, "/privacy/sign", {"note": "Årlig genomgång"}, "/privacy")
    assert r.status_code == 200 and 'name="code"' in r.text
    challenge = re.search(r'name="challenge_id" value="([^"]+)"', r.text).group(1)
    token = CSRF_RE.search(r.text).group(1)
    form = {"csrf_token": token, "challenge_id": challenge, "then": "/privacy/sign", "note": "Årlig genomgång"}
    r = await anon_client.post("/twofactor/code", data={**form, "code": await last_code(tenant.id)}, follow_redirects=False)
    assert r.status_code == 307
    r = await anon_client.post("/privacy/sign", data=form, follow_redirects=False)
    assert r.status_code == 303
    page = (await anon_client.get("/privacy")).text
    assert "Årlig genomgång" in page and "SMS till +46 70" in page


async def test_inventory_is_for_the_gdpr_permission(anon_client, tenant):
    from core.users import create_employee_with_password
    from tests.conftest import TEST_PASSWORD

    email = f"u@{tenant.slug}.example"
    await create_employee_with_password(tenant.id, "U", email, "user", TEST_PASSWORD)
    await page_login(anon_client, tenant, email=email)
    assert (await anon_client.get("/privacy")).status_code == 403
