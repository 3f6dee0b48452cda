"""The hooks two-factor adds and answers: its kind of person (employees, ``declare_kinds``),
declare_two_factor_contexts, second_factor_ready."""

from __future__ import annotations

import pytest

from core.contracts import PersonContact, PersonKind, TwoFactorContext
from core.db import utcnow
from core.plugins import PluginError, get_host, hookimpl
from core.secondfactor import describe_person
from core.tables import Employee
from tests.twofactor_kit import MOBILE, WORK, activate_sms, add_employee, set_phones, switch


async def test_describe_person_asks_the_owner_of_the_kind(tenant, other_tenant, fake_people, register_plugin):
    emp_id, _ = await add_employee(tenant, "Ann Described", mobile=None)
    await set_phones(emp_id, None, None, WORK)
    person = await describe_person(tenant.id, "employee", emp_id)
    assert person == PersonContact(
        name="Ann Described",
        mobile_phone=None,
        private_phone=None,
        work_phone=WORK,
        fix_hint_sv="Inställningar > Användare",
        fix_hint_en="Settings > Employees",
    )
    # Another tenant's employee, an unknown id, a deleted employee: no answer.
    assert await describe_person(other_tenant.id, "employee", emp_id) is None
    assert await describe_person(tenant.id, "employee", 999_999) is None
    await Employee.update({Employee.deleted_at: utcnow()}).where(Employee.id == emp_id)
    assert await describe_person(tenant.id, "employee", emp_id) is None

    # Customers and contacts are answered by the plugin that owns them.
    fake_people.people[(tenant.id, "customer", 2)] = PersonContact(name="Cia", mobile_phone=MOBILE)
    assert (await describe_person(tenant.id, "customer", 2)).name == "Cia"
    assert await describe_person(tenant.id, "contact", 2) is None

    # Only the owner of a kind is asked: another plugin claiming employees is refused
    # instead of hiding (or being hidden by) the owner.
    class Careless:
        @hookimpl
        def declare_kinds(self):
            async def nothing(tenant_id, person_id):
                return None

            return [PersonKind("employee", describe=nothing)]

    register_plugin(Careless(), "careless")
    with pytest.raises(PluginError, match="'twofactor' and 'careless' both declare the PersonKind 'employee'"):
        await describe_person(tenant.id, "employee", emp_id)


async def test_hook_declare_two_factor_contexts(admin_client, tenant, register_plugin):
    """A new module adds its own context just by declaring it; nothing here changes."""

    class Contracts:
        @hookimpl
        def declare_two_factor_contexts(self):
            return [
                TwoFactorContext("contracts_sign", "Avtal – SMS-signering", "Contracts – SMS signing", order=65),
            ]

    register_plugin(Contracts(), "contracts")
    body = (await admin_client.get("/api/twofactor/contexts")).json()
    by_key = {c["key"]: c for c in body["contexts"]}
    assert by_key["employee_login"]["purpose"] == "login"
    assert by_key["employee_login"]["label_sv"] == "Användare – inloggning från ny enhet"
    assert by_key["employee_reset"]["purpose"] == "reset"
    assert by_key["contracts_sign"] == {
        "key": "contracts_sign",
        "label_sv": "Avtal – SMS-signering",
        "label_en": "Contracts – SMS signing",
        "module": None,
        "purpose": "sign",
        "enabled": False,
        "active": False,
        "recovery_codes_remaining": None,
        "strong_required": False,
    }
    orders = [c["key"] for c in body["contexts"]]
    assert orders.index("employee_reset") < orders.index("contracts_sign")
    await activate_sms(admin_client)
    await switch(admin_client, "contracts_sign")
    by_key = {c["key"]: c for c in (await admin_client.get("/api/twofactor/contexts")).json()["contexts"]}
    assert by_key["contracts_sign"]["enabled"] is True and by_key["contracts_sign"]["active"] is True
    # The contexts installed modules declared themselves are there too (quotes, vault...).
    from core.tenancy import enabled_modules

    enabled = await enabled_modules(get_host(), tenant.id)
    declared = {
        c.key for c in get_host().collect("declare_two_factor_contexts") if c.module is None or c.module in enabled
    }
    assert declared <= set(by_key)


async def test_hook_second_factor_ready(admin_client, tenant, fake_people):
    """Whether a code would be asked for in a context now, without sending one."""
    from core.secondfactor import second_factor_ready
    from plugins.twofactor.tables import TwoFactorChallenge
    from tests.twofactor_kit import activate_sms, switch

    assert await second_factor_ready(tenant.id, "test_signing") is False  # SMS not active
    await activate_sms(admin_client)
    assert await second_factor_ready(tenant.id, "test_signing") is False  # context off
    await switch(admin_client, "test_signing")
    assert await second_factor_ready(tenant.id, "test_signing") is True
    assert await second_factor_ready(tenant.id, "no_such_context") is False
    assert await TwoFactorChallenge.count().where(TwoFactorChallenge.tenant_id == tenant.id) == 0
