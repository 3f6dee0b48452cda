"""Settings > Two-factor: SMS activation first (M3), then each context on or off (M4)."""

from __future__ import annotations

import pytest

from tests.support import login
from tests.twofactor_kit import activate_sms, add_employee, make_recovery_codes, switch

EMPLOYEE_CONTEXTS = ("employee_login", "employee_reset")


async def test_settings_default_inactive_and_say_why(admin_client):
    r = await admin_client.get("/api/twofactor/settings")
    assert r.status_code == 200
    body = r.json()
    assert body["sms_active"] is False
    assert body["provider"] == "outbox"
    assert body["daily_cap"] == 500
    assert body["can_enable_contexts"] is False
    assert "SMS sending must be activated" in body["reason_en"]
    assert "SMS-utskick måste aktiveras" in body["reason_sv"]
    assert set(body["providers"]) == {"outbox", "46elks", "twilio"}

    contexts = (await admin_client.get("/api/twofactor/contexts")).json()
    assert contexts["sms_active"] is False
    assert "activated" in contexts["reason_en"]
    keys = [c["key"] for c in contexts["contexts"]]
    assert keys[:2] == list(EMPLOYEE_CONTEXTS)
    assert all(c["enabled"] is False and c["active"] is False for c in contexts["contexts"])


@pytest.mark.parametrize("key", EMPLOYEE_CONTEXTS)
async def test_context_cannot_be_switched_on_before_sms(admin_client, key):
    r = await admin_client.put(f"/api/twofactor/contexts/{key}", json={"enabled": True})
    assert r.status_code == 409
    assert "SMS sending must be activated" in r.json()["detail"]
    assert r.json()["code"] == "twofactor.sms_not_active" and "SMS-utskick" not in r.json()["detail"]
    r = await admin_client.put(
        f"/api/twofactor/contexts/{key}", json={"enabled": True}, headers={"Accept-Language": "sv"}
    )
    assert r.status_code == 409 and r.json()["detail"].startswith("SMS-utskick måste aktiveras")
    # Switching off is always allowed.
    assert (await admin_client.put(f"/api/twofactor/contexts/{key}", json={"enabled": False})).status_code == 200


@pytest.mark.parametrize("key", EMPLOYEE_CONTEXTS)
async def test_each_context_on_and_off(admin_client, key):
    await activate_sms(admin_client)
    await make_recovery_codes(admin_client)  # the only administrator has no phone
    settings = (await admin_client.get("/api/twofactor/settings")).json()
    assert settings["can_enable_contexts"] is True and settings["reason_en"] is None
    await switch(admin_client, key, True)
    by_key = {c["key"]: c for c in (await admin_client.get("/api/twofactor/contexts")).json()["contexts"]}
    assert by_key[key]["enabled"] is True and by_key[key]["active"] is True
    others = [k for k in by_key if k != key]
    assert all(by_key[k]["enabled"] is False for k in others)
    await switch(admin_client, key, False)
    by_key = {c["key"]: c for c in (await admin_client.get("/api/twofactor/contexts")).json()["contexts"]}
    assert by_key[key]["enabled"] is False


async def test_sms_cannot_be_deactivated_while_a_context_is_on(admin_client):
    await activate_sms(admin_client)
    await make_recovery_codes(admin_client)  # the only administrator has no phone
    await switch(admin_client, "employee_reset")
    r = await admin_client.put("/api/twofactor/settings", json={"sms_active": False})
    assert r.status_code == 409
    assert "Users – password reset" in r.json()["detail"]
    await switch(admin_client, "employee_reset", False)
    r = await admin_client.put("/api/twofactor/settings", json={"sms_active": False})
    assert r.status_code == 200 and r.json()["sms_active"] is False


@pytest.mark.parametrize(
    "body, field",
    [
        ({"sms_active": True, "sender": "TwelveChars1"}, "sender"),
        ({"sms_active": True, "sender": "Gall ra"}, "sender"),
        ({"sms_active": True, "sender": "Gällra"}, "sender"),
        ({"sms_active": True}, "sender"),
        ({"provider": "carrier-pigeon"}, "provider"),
        ({"daily_cap": 0}, "daily_cap"),
        ({"daily_cap": 100_001}, "daily_cap"),
        ({"daily_cap": 1001}, "daily_cap"),  # above the installation's default ceiling
    ],
)
async def test_bad_settings_are_400_naming_the_field(admin_client, body, field):
    r = await admin_client.put("/api/twofactor/settings", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["field"] == field
    assert (await admin_client.get("/api/twofactor/settings")).json()["sms_active"] is False


async def test_provider_needs_server_credentials(admin_client, monkeypatch):
    monkeypatch.delenv("GALLRA_46ELKS_USERNAME", raising=False)
    monkeypatch.delenv("GALLRA_46ELKS_PASSWORD", raising=False)
    r = await admin_client.put(
        "/api/twofactor/settings", json={"sms_active": True, "sender": "Gallra", "provider": "46elks"}
    )
    assert r.status_code == 400
    assert "GALLRA_46ELKS_USERNAME" in r.json()["detail"]
    monkeypatch.setenv("GALLRA_46ELKS_USERNAME", "u")
    monkeypatch.setenv("GALLRA_46ELKS_PASSWORD", "p")
    r = await admin_client.put(
        "/api/twofactor/settings",
        json={"sms_active": True, "sender": "Gallra", "provider": "46elks", "daily_cap": 20},
    )
    assert r.status_code == 200
    assert r.json()["provider"] == "46elks" and r.json()["daily_cap"] == 20 and r.json()["sender"] == "Gallra"


async def test_malformed_bodies_are_400(admin_client):
    r = await admin_client.put("/api/twofactor/settings", json={"sms_active": True, "extra": 1})
    assert r.status_code == 400
    r = await admin_client.put("/api/twofactor/contexts/employee_login", json={"enabled": "yes please"})
    assert r.status_code == 400
    r = await admin_client.put(
        "/api/twofactor/contexts/employee_login", content=b"{", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400


async def test_unknown_context_is_404(admin_client):
    await activate_sms(admin_client)
    r = await admin_client.put("/api/twofactor/contexts/no_such_context", json={"enabled": True})
    assert r.status_code == 404


async def test_settings_need_login_and_administrator(client, anon_client, tenant):
    for method, path, body in (
        ("get", "/api/twofactor/settings", None),
        ("put", "/api/twofactor/settings", {"sms_active": True, "sender": "X"}),
        ("get", "/api/twofactor/contexts", None),
        ("put", "/api/twofactor/contexts/employee_login", {"enabled": True}),
    ):
        kwargs = {"json": body} if body is not None else {}
        assert (await getattr(anon_client, method)(path, **kwargs)).status_code == 401
    _, email = await add_employee(tenant, "Plain User")
    assert (await login(client, tenant, email=email, api=True)).status_code == 200
    assert (await client.get("/api/twofactor/settings")).status_code == 403
    assert (await client.put("/api/twofactor/contexts/employee_login", json={"enabled": False})).status_code == 403


async def test_settings_are_per_tenant(client, tenant, other_tenant):
    assert (await login(client, tenant, api=True)).status_code == 200
    await activate_sms(client)
    await make_recovery_codes(client)
    await switch(client, "employee_login")
    assert (await login(client, other_tenant, api=True)).status_code == 200
    assert (await client.get("/api/twofactor/settings")).json()["sms_active"] is False
    contexts = (await client.get("/api/twofactor/contexts")).json()["contexts"]
    assert not any(c["enabled"] for c in contexts)


async def test_every_declared_context_switches_on_and_off(admin_client):
    """Whatever the installed modules declare (quotes, extra costs, the vault...)."""
    await activate_sms(admin_client)
    await make_recovery_codes(admin_client)  # the only administrator has no phone
    keys = [c["key"] for c in (await admin_client.get("/api/twofactor/contexts")).json()["contexts"]]
    assert set(EMPLOYEE_CONTEXTS) <= set(keys)
    for key in keys:
        await switch(admin_client, key, True)
    listed = (await admin_client.get("/api/twofactor/contexts")).json()["contexts"]
    assert all(c["enabled"] and c["active"] for c in listed)
    for key in keys:
        await switch(admin_client, key, False)
    listed = (await admin_client.get("/api/twofactor/contexts")).json()["contexts"]
    assert not any(c["enabled"] for c in listed)


async def test_the_operator_ceiling_bounds_every_tenant_cap(admin_client, monkeypatch):
    """No tenant setting passes GALLRA_SMS_DAILY_CAP_MAX: a higher cap is refused (400
    naming the field), and a ceiling lowered later limits a cap already saved."""
    monkeypatch.setenv("GALLRA_SMS_DAILY_CAP_MAX", "50")
    r = await admin_client.put("/api/twofactor/settings", json={"daily_cap": 100_000})
    assert r.status_code == 400 and r.json()["field"] == "daily_cap"
    assert "1-50" in r.json()["detail"]
    r = await admin_client.put("/api/twofactor/settings", json={"daily_cap": 50})
    assert r.status_code == 200 and r.json()["daily_cap"] == 50 and r.json()["daily_cap_max"] == 50
    monkeypatch.setenv("GALLRA_SMS_DAILY_CAP_MAX", "not-a-number")  # never unlimited
    assert (await admin_client.get("/api/twofactor/settings")).json()["daily_cap_max"] == 1000


async def test_effective_cap_is_the_lower_of_tenant_and_ceiling(admin_client, tenant, monkeypatch):
    from core.contracts import TwoFactorContext
    from plugins.twofactor import services
    from plugins.twofactor.tables import TwoFactorDailyCount
    from tests.twofactor_kit import MOBILE

    await admin_client.put("/api/twofactor/settings", json={"sms_active": True, "sender": "Gallra", "daily_cap": 900})
    monkeypatch.setenv("GALLRA_SMS_DAILY_CAP_MAX", "1")
    assert services.effective_daily_cap(900) == 1
    ctx = TwoFactorContext("employee_login", "x", "x", purpose="login")
    from tests.twofactor_kit import set_phones

    await set_phones(tenant.admin_id, mobile=MOBILE)
    await services.start_challenge(tenant.id, "employee", tenant.admin_id, ctx)
    # The ceiling holds even though the tenant's own cap is 900.
    from tests.twofactor_kit import forget_last_send

    await forget_last_send(tenant.id)
    try:
        await services.start_challenge(tenant.id, "employee", tenant.admin_id, ctx)
        raise AssertionError("a second SMS passed a ceiling of 1")
    except services.TwoFactorRefusal as exc:
        assert exc.status == 429 and exc.code == "twofactor.daily_limit" and "daily maximum of 1" in exc.text()
    assert (await TwoFactorDailyCount.select().where(TwoFactorDailyCount.tenant_id == tenant.id).first())["count"] == 1


async def test_sms_settings_are_read_once_per_request_and_a_save_is_seen_at_once(admin_client, tenant):
    """A login that sends a code asks for the settings several times: one read per
    request. A save in the same request is read back as saved; the next request reads
    the database again (nothing is kept across requests)."""
    from core.db import count_queries, request_scope
    from plugins.twofactor import services

    with request_scope():
        with count_queries() as counted:
            first = await services.sms_settings(tenant.id)
            again = await services.sms_settings(tenant.id)
        assert counted[0] == 1 and first == again and first.sms_active is False
        again.sender = "changed by a caller"  # a caller's copy, not the request's
        assert (await services.sms_settings(tenant.id)).sender != "changed by a caller"
        await services.save_sms_settings(tenant.id, sms_active=True, provider=None, sender="Gallra", daily_cap=7)
        saved = await services.sms_settings(tenant.id)
        assert saved.sms_active is True and saved.daily_cap == 7 and saved.sender == "Gallra"
    r = await admin_client.put("/api/twofactor/settings", json={"daily_cap": 9})
    assert r.status_code == 200, r.text
    with request_scope():
        assert (await services.sms_settings(tenant.id)).daily_cap == 9


async def test_settings_contexts_and_strong_rules_come_in_one_read_per_request(admin_client, tenant):
    """The SMS settings, the contexts switched on and the strong-factor rules are one
    statement per request, however many times a login asks for each; a change made in
    the request (a context switched, a rule set) is read back at once, and a caller's copy
    is its own."""
    from core.db import count_queries, request_scope
    from plugins.twofactor import services

    await services.save_sms_settings(tenant.id, sms_active=True, provider=None, sender="Gallra", daily_cap=50)
    with request_scope():
        with count_queries() as counted:
            settings = await services.sms_settings(tenant.id)
            states = await services.context_states(tenant.id)
            rules = await services.strong_rules(tenant.id)
            await services.active_context(tenant.id, "employee_login")
            await services.strong_required(tenant.id, "employee_login", "customer", 1)
        assert counted[0] == 1, counted[0]
        assert settings.sms_active and not states.get("employee_login") and not rules.contexts
        states["employee_login"] = True  # the caller's copy only
        rules.contexts.add("employee_login")
        assert not (await services.context_states(tenant.id)).get("employee_login")
        assert not (await services.strong_rules(tenant.id)).contexts
        await services.set_context(tenant.id, "employee_login", True)
        assert (await services.context_states(tenant.id))["employee_login"] is True
        assert await services.active_context(tenant.id, "employee_login") is not None
        # (A step no employee takes on the way in: no lock-out to confirm.)
        await services.save_strong_rules(tenant.id, contexts={"quotes": True})
        assert (await services.strong_rules(tenant.id)).contexts == {"quotes"}
        assert await services.strong_required(tenant.id, "quotes", "customer", 1)
    # The next request reads what the database holds.
    with request_scope():
        assert (await services.context_states(tenant.id))["employee_login"] is True
        assert (await services.strong_rules(tenant.id)).contexts == {"quotes"}
        assert (await services.sms_settings(tenant.id)).daily_cap == 50
