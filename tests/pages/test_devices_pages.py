"""A person's own remembered devices (/twofactor/devices): listed with this browser marked,
forgotten one by one or all at once, never another person's; linked beside the name."""

from __future__ import annotations

import re

from core.db import utcnow
from core.tables import Employee
from core.users import create_employee_with_password
from plugins.twofactor import services
from plugins.twofactor.tables import TrustedDevice
from tests.pages.helpers import page_login, post_form
from tests.support import TEST_PASSWORD

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
CHROME_WIN = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
)


async def _devices(tenant_id: int, employee_id: int) -> list[int]:
    rows = await TrustedDevice.select(TrustedDevice.id).where(
        (TrustedDevice.tenant_id == tenant_id) & (TrustedDevice.employee_id == employee_id)
    )
    return sorted(int(r["id"]) for r in rows)


async def test_own_devices_listed_and_forgotten(anon_client, tenant, other_tenant):
    this_token, _ = await services.create_device(tenant.id, "employee", tenant.admin_id, FIREFOX, utcnow())
    await services.create_device(tenant.id, "employee", tenant.admin_id, CHROME_WIN, utcnow())
    email = f"kollega@{tenant.slug}.example"
    await create_employee_with_password(tenant.id, "Kollega", email, "user", TEST_PASSWORD)
    colleague = (await Employee.select(Employee.id).where(Employee.email == email).first())["id"]
    await services.create_device(tenant.id, "employee", colleague, FIREFOX, utcnow())
    await services.create_device(other_tenant.id, "employee", other_tenant.admin_id, FIREFOX, utcnow())
    mine = await _devices(tenant.id, tenant.admin_id)
    colleagues = await _devices(tenant.id, colleague)
    theirs = await _devices(other_tenant.id, other_tenant.admin_id)

    anon_client.cookies.set("gallra_device", this_token)
    await page_login(anon_client, tenant)
    home = (await anon_client.get("/")).text
    assert '<a href="/twofactor/devices">Mina enheter</a>' in home  # beside the person's name
    page = (await anon_client.get("/twofactor/devices")).text
    # Two devices and "forget all" (the authenticator app's form is not a device's).
    assert "Firefox" in page and "Chrome" in page
    assert (page.count('action="/twofactor/devices/') - page.count('action="/twofactor/devices/app/')
            - page.count('action="/twofactor/devices/passkeys/')) == 3
    assert 'aria-current="page"' in page
    row = re.search(r"<tr><td>([^<]*)<span class=\"badge\" id=\"this-device\">", page)
    assert row and "Firefox" in row.group(1)
    # Without the CSRF token nothing is forgotten.
    r = await anon_client.post(f"/twofactor/devices/{mine[1]}/revoke", data={}, follow_redirects=False)
    assert r.status_code == 403 and await _devices(tenant.id, tenant.admin_id) == mine
    # A colleague's or another organization's device: 404, still there.
    for other in (colleagues[0], theirs[0]):
        r = await post_form(anon_client, f"/twofactor/devices/{other}/revoke", {}, "/twofactor/devices")
        assert r.status_code == 404
    assert await _devices(tenant.id, colleague) == colleagues
    assert await _devices(other_tenant.id, other_tenant.admin_id) == theirs
    r = await post_form(anon_client, f"/twofactor/devices/{mine[1]}/revoke", {}, "/twofactor/devices")
    assert r.status_code == 303 and await _devices(tenant.id, tenant.admin_id) == [mine[0]]
    assert "Chrome" not in (await anon_client.get("/twofactor/devices")).text
    r = await anon_client.post("/twofactor/devices/revoke-all", data={}, follow_redirects=False)
    assert r.status_code == 403
    r = await post_form(anon_client, "/twofactor/devices/revoke-all", {}, "/twofactor/devices")
    assert r.status_code == 303
    assert await _devices(tenant.id, tenant.admin_id) == []
    assert await _devices(tenant.id, colleague) == colleagues
    assert "Inga ihågkomna enheter." in (await anon_client.get("/twofactor/devices")).text


async def test_devices_page_needs_login(anon_client):
    r = await anon_client.get("/twofactor/devices", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


async def test_my_devices_lists_every_factor_in_its_own_section(anon_client, tenant):
    """#21.5: remembered devices (with last use, each removable), the app (removable) and
    the recovery codes left (made anew from there), each in a section of its own."""
    import pyotp

    from plugins.twofactor.tables import TwoFactorApp

    this_token, _ = await services.create_device(tenant.id, "employee", tenant.admin_id, FIREFOX, utcnow())
    anon_client.cookies.set("gallra_device", this_token)
    await page_login(anon_client, tenant)
    page = (await anon_client.get("/twofactor/devices")).text
    for section in ('<section id="remembered"', '<section id="app"', '<section id="recovery"'):
        assert section in page
    assert page.index('id="remembered"') < page.index('id="app"') < page.index('id="recovery"')
    assert "Ihågkomna enheter" in page and "Senast använd" in page
    assert "Du har inga reservkoder ännu." in page and 'href="/twofactor/recovery"' in page
    await services.generate_recovery_codes(tenant.id, "employee", tenant.admin_id)
    enrolment = await services.start_app_enrolment(tenant.id, "employee", tenant.admin_id)
    await services.confirm_app(tenant.id, "employee", tenant.admin_id, pyotp.TOTP(enrolment.secret).now())
    page = (await anon_client.get("/twofactor/devices")).text
    assert "Oanvända koder: 10 av 10" in page and "Skapa nya reservkoder" in page
    assert 'id="app-remove"' in page
    r = await post_form(anon_client, "/twofactor/devices/app/remove", {}, "/twofactor/devices")
    assert r.status_code == 303
    assert await TwoFactorApp.count().where(TwoFactorApp.employee_id == tenant.admin_id) == 0
    mine = await _devices(tenant.id, tenant.admin_id)
    r = await post_form(anon_client, f"/twofactor/devices/{mine[0]}/revoke", {}, "/twofactor/devices")
    assert r.status_code == 303 and await _devices(tenant.id, tenant.admin_id) == []
