"""An administrator resets another person's second factors (#21.4): the app, recovery
codes, remembered devices and every other plugin's factors (``remove_second_factors``), in
one transaction with the event-log row and an e-mail to the person (no code in it).
Another organization's person, or an unknown one, is not found."""

from __future__ import annotations

import pytest

from core.contracts import RecoveryCodes
from core.eventlog import EventLog
from core.plugins import hookimpl
from core.tables import Outbox
from plugins.twofactor import services
from plugins.twofactor.tables import TrustedDevice, TwoFactorApp, TwoFactorRecoveryCode
from plugins.twofactor.tests.test_app import code_at
from plugins.twofactor.tests.test_devices import trust
from tests.pages.helpers import post_form
from tests.support import login
from tests.twofactor_kit import add_employee, setup_login_2fa


async def _give_factors(tenant, employee_id: int) -> list[str]:
    enrolment = await services.start_app_enrolment(tenant.id, "employee", employee_id)
    await services.confirm_app(tenant.id, "employee", employee_id, code_at(enrolment.secret))
    return await services.generate_recovery_codes(tenant.id, "employee", employee_id)


async def _count(table, employee_id: int) -> int:
    return await table.count().where(table.employee_id == employee_id)


async def _emails(tenant_id: int) -> list[dict]:
    return await Outbox.select().where((Outbox.tenant_id == tenant_id) & (Outbox.channel == "email"))


async def test_reset_removes_every_factor_audits_and_tells_the_person(client, anon_client, tenant):
    await setup_login_2fa(client, tenant)
    bo_id, bo = await add_employee(tenant, "Bo Reset")
    await trust(anon_client, tenant, bo)
    codes = await _give_factors(tenant, bo_id)
    assert await _count(TrustedDevice, bo_id) == 1 and await _count(TwoFactorApp, bo_id) == 1
    mails_before = len(await _emails(tenant.id))

    r = await client.post(f"/api/twofactor/people/employee/{bo_id}/reset-factors")
    assert r.status_code == 200, r.text
    assert r.json() == {"removed": 12, "notified": True}  # 1 app + 10 codes + 1 device
    for table in (TrustedDevice, TwoFactorApp, TwoFactorRecoveryCode):
        assert await _count(table, bo_id) == 0
    events = await EventLog.select().where(
        (EventLog.tenant_id == tenant.id) & (EventLog.action == "twofactor.factors_reset")
    )
    assert len(events) == 1
    assert events[0]["employee_id"] == tenant.admin_id and events[0]["record_id"] == bo_id
    mails = await _emails(tenant.id)
    assert len(mails) == mails_before + 1
    mail = mails[-1]
    assert mail["recipient"] == bo and "Bo Reset" in mail["body"] and "Mina enheter" in mail["body"]
    assert not any(c in mail["body"] or c.replace("-", "") in mail["body"] for c in codes)
    # The remembered browser no longer skips the code.
    assert await services.factors_of(tenant.id, "employee", bo_id) == ["sms"]


async def test_reset_of_another_organizations_or_unknown_person_is_not_found(client, tenant, other_tenant):
    await login(client, tenant, api=True)
    other_id = other_tenant.admin_id
    await services.generate_recovery_codes(other_tenant.id, "employee", other_id)
    for path in (f"employee/{other_id}", "employee/999999", "customer/999999"):
        r = await client.post(f"/api/twofactor/people/{path}/reset-factors")
        assert r.status_code == 404 and r.json()["code"] == "twofactor.person_not_found", r.text
    r = await client.post(f"/api/twofactor/people/robot/{tenant.admin_id}/reset-factors")
    assert r.status_code == 400
    assert await TwoFactorRecoveryCode.count().where(TwoFactorRecoveryCode.tenant_id == other_tenant.id) == 10
    assert await _emails(tenant.id) == [] and await _emails(other_tenant.id) == []
    resets = EventLog.count().where((EventLog.tenant_id == tenant.id) & (EventLog.action == "twofactor.factors_reset"))
    assert await resets == 0


async def test_only_administrators_reset(client, anon_client, tenant):
    await login(client, tenant, api=True)
    _, bo = await add_employee(tenant, "Bo User")
    await services.generate_recovery_codes(tenant.id, "employee", tenant.admin_id)
    await login(anon_client, tenant, email=bo, api=True)
    r = await anon_client.post(f"/api/twofactor/people/employee/{tenant.admin_id}/reset-factors")
    assert r.status_code == 403
    assert await _count(TwoFactorRecoveryCode, tenant.admin_id) == 10


async def test_the_settings_page_resets_an_employee(client, tenant, other_tenant):
    await login(client, tenant, api=True)
    bo_id, _ = await add_employee(tenant, "Bo Page")
    await _give_factors(tenant, bo_id)
    r = await client.get("/twofactor/settings")
    assert f'<option value="{bo_id}">Bo Page</option>' in r.text and 'id="reset-factors"' in r.text
    r = await post_form(client, "/twofactor/settings/reset", {"employee_id": str(bo_id)},
                        token_from="/twofactor/settings")
    assert r.status_code == 303, r.text
    assert await _count(TwoFactorApp, bo_id) == 0 and len(await _emails(tenant.id)) == 1
    r = await post_form(client, "/twofactor/settings/reset", {"employee_id": "x"}, token_from="/twofactor/settings")
    assert r.status_code == 400 and "Välj en person." in r.text
    r = await post_form(client, "/twofactor/settings/reset", {"employee_id": str(other_tenant.admin_id)},
                        token_from="/twofactor/settings")
    assert r.status_code == 404


class FakePasskeys:
    """A passkey plugin: its factor is removed by the reset, and it reports it."""

    name = "fakepasskeys"

    def __init__(self) -> None:
        self.keys: dict[tuple[int, str, int], int] = {}
        self.calls: list[tuple[int, str, int]] = []

    @hookimpl
    def second_factors_of(self, tenant_id: int, person_kind: str, person_id: int) -> list[str]:
        return ["passkey"] if self.keys.get((tenant_id, person_kind, person_id)) else []

    @hookimpl
    def remove_second_factors(self, tenant_id: int, person_kind: str, person_id: int):
        self.calls.append((tenant_id, person_kind, person_id))

        async def remove() -> int:
            return self.keys.pop((tenant_id, person_kind, person_id), 0)

        return remove()


async def test_hook_remove_second_factors(client, tenant, register_plugin):
    """Every plugin keeping a factor removes the person's (each answer awaited, summed)."""
    from core.secondfactor import remove_second_factors, second_factors_of

    await login(client, tenant, api=True)
    passkeys = FakePasskeys()
    register_plugin(passkeys, passkeys.name)
    bo_id, _ = await add_employee(tenant, "Bo Keys")
    passkeys.keys[(tenant.id, "employee", bo_id)] = 2
    await services.generate_recovery_codes(tenant.id, "employee", bo_id)
    assert await second_factors_of(tenant.id, "employee", bo_id) == ["passkey", "recovery"]
    assert await remove_second_factors(tenant.id, "employee", bo_id) == 12
    assert passkeys.calls == [(tenant.id, "employee", bo_id)]
    assert await second_factors_of(tenant.id, "employee", bo_id) == []
    assert await remove_second_factors(tenant.id, "employee", bo_id) == 0
    assert await remove_second_factors(tenant.id, "robot", bo_id) == 0


async def test_a_passkey_counts_as_strong(client, anon_client, tenant, register_plugin):
    """A person whose only strong factor is another plugin's passkey is not refused where a
    strong factor is required, and is sent no SMS."""
    from tests.twofactor_kit import MOBILE, sms_rows

    passkeys = FakePasskeys()
    register_plugin(passkeys, passkeys.name)
    await setup_login_2fa(client, tenant)
    bo_id, bo = await add_employee(tenant, "Bo Passkey", mobile=MOBILE)
    passkeys.keys[(tenant.id, "employee", bo_id)] = 1
    r = await client.put("/api/twofactor/strong", json={"contexts": {"employee_login": True}})
    assert r.status_code == 200, r.text
    r = await login(anon_client, tenant, email=bo, api=True)
    assert r.status_code == 202, r.text
    assert r.json()["second_factor"]["challenge_id"].startswith(services.STRONG_PREFIX)
    assert await sms_rows(tenant.id) == []


@pytest.mark.parametrize("kind", ["employee"])
async def test_hook_recovery_codes(client, tenant, other_tenant, kind):
    """The codes of any kind of person through core: the state, a new set shown once (only
    in that answer), the old set gone; None for a kind no plugin keeps codes for."""
    from core.secondfactor import recovery_codes

    await login(client, tenant, api=True)
    pid = tenant.admin_id
    assert await recovery_codes(tenant.id, kind, pid) == RecoveryCodes(remaining=0, total=0, created_at=None, codes=[])
    made = await recovery_codes(tenant.id, kind, pid, renew=True)
    assert made is not None and len(made.codes) == 10 and made.remaining == 10 and made.created_at
    state = await recovery_codes(tenant.id, kind, pid)
    assert state is not None and state.codes == [] and state.remaining == 10
    again = await recovery_codes(tenant.id, kind, pid, renew=True)
    assert again is not None and not set(again.codes) & set(made.codes)
    assert await TwoFactorRecoveryCode.count().where(TwoFactorRecoveryCode.employee_id == pid) == 10
    assert await recovery_codes(tenant.id, "robot", pid) is None
    # Another organization's person: not found, nothing made.
    with pytest.raises(services.TwoFactorRefusal):
        await recovery_codes(other_tenant.id, kind, pid, renew=True)
