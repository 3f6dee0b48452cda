"""Switching on two-factor must not lock out the only administrator (#20.1).

Turning on a context that asks employees for a code (login from a new device, password
reset) first lists the employees who could not get one (no usable phone number, no unused
recovery code): refused when that is every administrator, asked to confirm with the list
otherwise; the API and Settings > Two-factor use the same service.
"""

from __future__ import annotations

import pytest

from plugins.twofactor import services
from tests.pages.helpers import post_form
from tests.twofactor_kit import MOBILE, activate_sms, add_employee, make_recovery_codes, set_phones, switch

EMPLOYEE_CONTEXTS = ("employee_login", "employee_reset")


async def _states(client) -> dict[str, bool]:
    body = (await client.get("/api/twofactor/contexts")).json()
    return {c["key"]: c["enabled"] for c in body["contexts"]}


@pytest.mark.parametrize("key", EMPLOYEE_CONTEXTS)
async def test_refused_when_every_administrator_would_be_locked_out(admin_client, tenant, key):
    await activate_sms(admin_client)
    for confirm in (False, True):  # confirming is never enough here
        r = await admin_client.put(f"/api/twofactor/contexts/{key}", json={"enabled": True, "confirm": confirm})
        assert r.status_code == 409, r.text
        body = r.json()
        assert body["code"] == "twofactor.locks_out_admins" and body["confirmable"] is False
        assert body["locked_out"] == [{"employee_id": tenant.admin_id, "name": "Admin Person", "is_admin": True}]
        assert "lock out every administrator" in body["detail"] and "Admin Person" in body["detail"]
    assert (await _states(admin_client))[key] is False
    r = await admin_client.put(
        f"/api/twofactor/contexts/{key}", json={"enabled": True}, headers={"Accept-Language": "sv"}
    )
    assert r.status_code == 409 and r.json()["detail"].startswith("Det här skulle låsa ute alla administratörer")


async def test_a_second_administrator_with_a_phone_makes_it_a_confirmation(admin_client, tenant):
    from core.tables import Employee

    await activate_sms(admin_client)
    eva_id, _ = await add_employee(tenant, "Eva Admin", mobile=MOBILE)
    await Employee.update({Employee.role: "admin"}).where(Employee.id == eva_id)
    r = await admin_client.put("/api/twofactor/contexts/employee_login", json={"enabled": True})
    assert r.status_code == 409 and r.json()["code"] == "twofactor.confirm_lockout"
    assert [p["name"] for p in r.json()["locked_out"]] == ["Admin Person"]


async def test_others_without_phone_need_a_confirmation_with_the_list(admin_client, tenant):
    await activate_sms(admin_client)
    await set_phones(tenant.admin_id, mobile=MOBILE)
    ann_id, _ = await add_employee(tenant, "Ann Nophone", mobile=None)
    bo_id, _ = await add_employee(tenant, "Bo Badnumber", mobile=None)
    await set_phones(bo_id, mobile="123")  # saved before numbers were checked: not a phone number
    await add_employee(tenant, "Cia Phone")
    r = await admin_client.put("/api/twofactor/contexts/employee_login", json={"enabled": True})
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["code"] == "twofactor.confirm_lockout" and body["confirmable"] is True
    assert body["locked_out"] == [
        {"employee_id": ann_id, "name": "Ann Nophone", "is_admin": False},
        {"employee_id": bo_id, "name": "Bo Badnumber", "is_admin": False},
    ]
    assert body["params"] == {"names": "Ann Nophone, Bo Badnumber"}
    assert (await _states(admin_client))["employee_login"] is False
    r = await admin_client.put("/api/twofactor/contexts/employee_login", json={"enabled": True, "confirm": True})
    assert r.status_code == 200 and r.json()["enabled"] is True
    assert r.json()["recovery_codes_remaining"] == 0  # the administrator is offered codes
    assert (await _states(admin_client))["employee_login"] is True
    # Already on: switching another employee context on asks again; off never asks.
    r = await admin_client.put("/api/twofactor/contexts/employee_reset", json={"enabled": True})
    assert r.status_code == 409 and r.json()["code"] == "twofactor.confirm_lockout"
    r = await admin_client.put("/api/twofactor/contexts/employee_login", json={"enabled": False})
    assert r.status_code == 200


async def test_recovery_codes_count_as_a_way_in(admin_client, tenant):
    await activate_sms(admin_client)
    await make_recovery_codes(admin_client)
    ann_id, _ = await add_employee(tenant, "Ann Nophone", mobile=None)
    r = await admin_client.put("/api/twofactor/contexts/employee_login", json={"enabled": True})
    assert r.status_code == 409 and [p["employee_id"] for p in r.json()["locked_out"]] == [ann_id]
    r = await admin_client.put("/api/twofactor/contexts/employee_login", json={"enabled": True, "confirm": True})
    assert r.status_code == 200 and r.json()["recovery_codes_remaining"] == 10


async def test_everyone_reachable_needs_no_confirmation(admin_client, tenant):
    await activate_sms(admin_client)
    await set_phones(tenant.admin_id, work="08-123 456 78")
    await add_employee(tenant, "Ann Phone")
    await switch(admin_client, "employee_login", confirm=False)
    assert (await _states(admin_client))["employee_login"] is True


async def test_contexts_that_do_not_ask_employees_to_log_in_are_not_checked(admin_client):
    await activate_sms(admin_client)
    keys = [k for k in await _states(admin_client) if k not in EMPLOYEE_CONTEXTS]
    assert keys, "some module declares a signing context"
    await switch(admin_client, keys[0], confirm=False)


async def test_another_tenants_people_do_not_count(admin_client, tenant, other_tenant):
    await activate_sms(admin_client)
    await set_phones(tenant.admin_id, mobile=MOBILE)
    await add_employee(other_tenant, "Olle Elsewhere", mobile=None)
    assert await services.who_would_be_locked_out(tenant.id, ["employee_login"]) == []
    await switch(admin_client, "employee_login", confirm=False)


async def test_the_check_fails_closed(admin_client, tenant, monkeypatch):
    await activate_sms(admin_client)
    await set_phones(tenant.admin_id, mobile=MOBILE)

    async def broken(*_: object) -> list:
        raise RuntimeError("database gone")

    monkeypatch.setattr(services, "who_would_be_locked_out", broken)
    r = await admin_client.put("/api/twofactor/contexts/employee_login", json={"enabled": True, "confirm": True})
    assert r.status_code == 503 and r.json()["code"] == "twofactor.lockout_check_failed"
    monkeypatch.undo()
    assert (await _states(admin_client))["employee_login"] is False


async def test_settings_page_refuses_and_lists_who(admin_client, tenant):
    await post_form(admin_client, "/twofactor/settings/sms", {"sms_active": "on", "provider": "outbox",
                                                                "sender": "Gallra", "daily_cap": "500"},
                    token_from="/twofactor/settings")
    r = await post_form(admin_client, "/twofactor/settings/contexts", {"enabled": "employee_login"},
                        token_from="/twofactor/settings")
    assert r.status_code == 409
    assert "Alla administratörer skulle bli utelåsta" in r.text and "<li>Admin Person (administratör)</li>" in r.text
    assert 'action="/twofactor/recovery/new"' in r.text  # make codes right here
    assert 'name="confirm"' not in r.text
    assert (await _states(admin_client))["employee_login"] is False


async def test_settings_page_asks_to_confirm_then_offers_codes(admin_client, tenant):
    await activate_sms(admin_client)
    await set_phones(tenant.admin_id, mobile=MOBILE)
    await add_employee(tenant, "Ann Nophone", mobile=None)
    form = {"enabled": "employee_login"}
    r = await post_form(admin_client, "/twofactor/settings/contexts", form, token_from="/twofactor/settings")
    assert r.status_code == 409 and "<li>Ann Nophone</li>" in r.text and 'name="confirm"' in r.text
    assert "Bekräfta för att slå på ändå" in r.text
    # The box stays ticked as it was submitted.
    assert 'value="employee_login" checked' in r.text
    r = await post_form(admin_client, "/twofactor/settings/contexts", {**form, "confirm": "yes"},
                        token_from="/twofactor/settings")
    assert r.status_code == 303 and r.headers["location"] == "/twofactor/recovery"
    assert (await _states(admin_client))["employee_login"] is True
