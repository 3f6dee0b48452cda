"""Recovery codes for portal people (#21.4): made on the portal's security page (shown once,
audited), then entered instead of the SMS code at portal login, each once, by one
conditional UPDATE (two parallel uses of one code: one wins). The portal reaches the codes
through the ``recovery_codes`` hook only; codes are read from the page as a person would."""

from __future__ import annotations

import asyncio
import re

import pytest

from core.db import raw
from core.eventlog import EventLog
from core.plugins import get_host
from core.testing.client import AppClient
from plugins.portal.tests.test_portal import MOBILE, active_customer, portal_login
from tests.pages.helpers import post_form
from tests.twofactor_kit import activate_sms, forget_last_send, last_code, sms_rows

CODE_RE = re.compile(r"<code>([0-9A-Z]{4}(?:-[0-9A-Z]{4}){3})</code>")


@pytest.fixture(autouse=True)
def _two_factor_installed() -> None:
    if get_host().plugin("twofactor") is None:
        pytest.skip("the two-factor plugin is not installed")


async def _verify(client, tenant, cid, **body):
    return await client.post(f"/api/twofactor/challenges/{cid}/verify", json={"tenant": tenant.slug, **body})


async def _logged_in(client: AppClient, tenant, email: str) -> None:
    """Portal login with the SMS code (the device is then remembered)."""
    await forget_last_send(tenant.id)
    r = await portal_login(client, tenant, email)
    assert r.status_code == 202, r.text
    cid = r.json()["second_factor"]["challenge_id"]
    r = await _verify(client, tenant, cid, code=await last_code(tenant.id))
    assert r.status_code == 200, r.text
    r = await portal_login(client, tenant, email, challenge_id=cid)
    assert r.status_code == 200, r.text


async def _setup(admin_client, tenant) -> str:
    await activate_sms(admin_client)
    r = await admin_client.put("/api/twofactor/contexts/portal_login", json={"enabled": True})
    assert r.status_code == 200, r.text
    await active_customer(admin_client, tenant, mobile_phone=MOBILE)
    return "per@example.org"


async def _make_codes(browser: AppClient) -> list[str]:
    r = await post_form(browser, "/portal/security/recovery-codes", {}, token_from="/portal/security")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store", r.text
    codes = CODE_RE.findall(r.text)
    assert len(codes) == 10 == len(set(codes)) and "De visas bara nu." in r.text
    return codes


async def test_codes_are_made_on_the_security_page_and_used_once_at_login(app, admin_client, tenant):
    email = await _setup(admin_client, tenant)
    async with AppClient(app=app) as browser:
        await _logged_in(browser, tenant, email)
        r = await browser.get("/portal/security")
        assert r.status_code == 200 and "Du har inga reservkoder ännu." in r.text
        assert 'href="/portal/security"' in r.text  # in the portal's menu
        codes = await _make_codes(browser)
        r = await browser.get("/portal/security")
        assert "Oanvända koder: 10 av 10" in r.text and not CODE_RE.search(r.text)
    events = await EventLog.select().where(
        (EventLog.tenant_id == tenant.id) & (EventLog.action == "portal.recovery_codes_generated")
    )
    assert len(events) == 1 and not any(c in str(events[0].values()) for c in codes)

    # A new browser: the SMS is sent, but a recovery code is entered instead.
    async with AppClient(app=app) as phone_lost:
        await forget_last_send(tenant.id)
        r = await portal_login(phone_lost, tenant, email)
        assert r.status_code == 202
        cid = r.json()["second_factor"]["challenge_id"]
        r = await _verify(phone_lost, tenant, cid, recovery_code=codes[0].lower())
        assert r.status_code == 200, r.text
        r = await portal_login(phone_lost, tenant, email, challenge_id=cid)
        assert r.status_code == 200, r.text
        assert "Oanvända koder: 9 av 10" in (await phone_lost.get("/portal/security")).text
    # The used code does not work a second time.
    async with AppClient(app=app) as again:
        await forget_last_send(tenant.id)
        cid = (await portal_login(again, tenant, email)).json()["second_factor"]["challenge_id"]
        r = await _verify(again, tenant, cid, recovery_code=codes[0])
        assert r.status_code == 400 and r.json()["code"] == "twofactor.wrong_code"
    used = await EventLog.count().where(
        (EventLog.tenant_id == tenant.id) & (EventLog.action == "twofactor.recovery_code_used")
    )
    assert used == 1


async def test_two_parallel_uses_of_one_portal_code_one_wins(app, admin_client, tenant):
    email = await _setup(admin_client, tenant)
    async with AppClient(app=app) as browser:
        await _logged_in(browser, tenant, email)
        codes = await _make_codes(browser)
    challenges = []
    clients = [AppClient(app=app), AppClient(app=app)]
    async with clients[0] as first, clients[1] as second:
        for c in (first, second):
            await forget_last_send(tenant.id)
            r = await portal_login(c, tenant, email)
            assert r.status_code == 202, r.text
            challenges.append(r.json()["second_factor"]["challenge_id"])
        results = await asyncio.gather(
            _verify(first, tenant, challenges[0], recovery_code=codes[3]),
            _verify(second, tenant, challenges[1], recovery_code=codes[3]),
        )
    assert sorted(r.status_code for r in results) == [200, 400]


async def test_a_person_without_a_phone_logs_in_with_a_code(app, admin_client, tenant):
    email = await _setup(admin_client, tenant)
    async with AppClient(app=app) as browser:
        await _logged_in(browser, tenant, email)
        codes = await _make_codes(browser)
    await raw("UPDATE customer SET mobile_phone = NULL WHERE tenant_id = {}", tenant.id)
    sent = len(await sms_rows(tenant.id))
    async with AppClient(app=app) as browser:
        r = await portal_login(browser, tenant, email)
        assert r.status_code == 202, r.text
        assert not r.json()["second_factor"]["masked_phone"] and len(await sms_rows(tenant.id)) == sent
        r = await _verify(browser, tenant, r.json()["second_factor"]["challenge_id"], recovery_code=codes[5])
        assert r.status_code == 200, r.text


async def test_the_security_page_needs_a_portal_login(app, admin_client, tenant):
    async with AppClient(app=app) as browser:
        r = await browser.get("/portal/security", follow_redirects=False)
        assert r.status_code in (302, 303) and r.headers["location"].startswith("/portal/login")
    # An employee session is no portal session: no codes are made for anyone.
    r = await post_form(admin_client, "/portal/security/recovery-codes", {}, token_from="/settings")
    assert r.status_code in (302, 303) and r.headers["location"].startswith("/portal/login")
