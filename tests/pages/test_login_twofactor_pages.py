"""The login page's SMS step with the real two-factor plugin, through the test client."""

from __future__ import annotations

import re

from tests.pages.helpers import CSRF_RE, page_login, post_form
from tests.twofactor_kit import MOBILE, activate_sms, last_code, set_phones, switch


async def _with_login_code(admin_client, tenant):  # type: ignore[no-untyped-def]
    await activate_sms(admin_client)
    await set_phones(tenant.admin_id, mobile=MOBILE)  # else switching on would lock the admin out
    await switch(admin_client, "employee_login")


async def test_new_device_gets_a_code_step_and_is_remembered(admin_client, anon_client, tenant):
    await _with_login_code(admin_client, tenant)
    r = await page_login(anon_client, tenant)
    assert r.status_code == 200
    assert "+46 70•••••67" in r.text and 'id="remember-note"' in r.text and "365" in r.text
    assert "gallra_session" not in r.cookies
    challenge = re.search(r'name="challenge_id" value="([^"]+)"', r.text).group(1)
    token = CSRF_RE.search(r.text).group(1)
    form = {"csrf_token": token, "challenge_id": challenge, "then": "/", "tenant": tenant.slug}
    r = await anon_client.post("/twofactor/code", data={**form, "code": "12"}, follow_redirects=False)
    assert r.status_code == 400 and 'id="e-code"' in r.text
    wrong = "000000" if await last_code(tenant.id) != "000000" else "111111"
    r = await anon_client.post("/twofactor/code", data={**form, "code": wrong}, follow_redirects=False)
    assert r.status_code == 400 and "Fel kod. 4 försök kvar." in r.text and 'id="e-code"' in r.text
    code = await last_code(tenant.id)
    r = await anon_client.post("/twofactor/code", data={**form, "code": code}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert r.cookies.get("gallra_session") and r.cookies.get("gallra_device")
    r = await anon_client.get("/")
    assert r.status_code == 200 and "365 dagar" in r.text  # the notice after the redirect
    r = await post_form(anon_client, "/logout", {}, token_from="/")
    # The same browser next time: remembered, no code.
    r = await page_login(anon_client, tenant)
    assert r.status_code == 303 and r.headers["location"] == "/"


async def test_missing_phone_is_said_beside_the_password(admin_client, anon_client, tenant):
    await _with_login_code(admin_client, tenant)
    await set_phones(tenant.admin_id)
    r = await page_login(anon_client, tenant)
    assert r.status_code == 409 and "Telefonnummer saknas" in r.text and 'id="e-password"' in r.text
