"""core.references.check_party and the look_up_party hook (issue #17.13): what the customer
register answers, a tenant with the customer module turned off, and no register at all."""

from __future__ import annotations

import pytest

from core import plugins
from core.db import utcnow
from core.references import NO_CUSTOMER, NO_REGISTER, check_party
from core.testing.client import AppClient
from core.validation import FieldError
from tests.support import add_party, login


async def test_hook_look_up_party(tenant, other_tenant):
    """The customers plugin answers for its live customers and contact persons of the tenant
    only; check_party turns the answers into field errors."""
    from plugins.customers.tables import Customer

    hook = plugins.get_host().pm.hook.look_up_party
    mine, (contact,) = await add_party(tenant.id)
    theirs, (their_contact,) = await add_party(other_tenant.id)
    gone, _ = await add_party(tenant.id, contacts=0)
    await Customer.update({Customer.deleted_at: utcnow()}).where(Customer.id == gone)

    async def answers(customer: int, contact_person: int) -> list:
        out = []
        asked = hook(tenant_id=tenant.id, customer_id=customer, contact_person_id=contact_person)
        for answer in asked:
            answer = await plugins.await_me_maybe(answer)
            if answer is not None:
                out.append((answer.customer, answer.contact_customer_id))
        return out

    assert await answers(mine, contact) == [(True, mine)]
    assert await answers(theirs, their_contact) == [(False, None)]
    assert await answers(gone, 0) == [(False, None)]
    assert await answers(0, contact) == [(False, mine)]

    await check_party(tenant.id, mine, contact)
    await check_party(tenant.id, 0, None)
    for customer, contact_person, field in (
        (theirs, 0, "customer_id"),
        (gone, 0, "customer_id"),
        (mine, their_contact, "contact_person_id"),
        (0, contact, "contact_person_id"),
    ):
        with pytest.raises(FieldError) as refused:
            await check_party(tenant.id, customer, contact_person)
        assert refused.value.field == field
    # On update only a change is checked; a changed customer re-checks the kept contact.
    stored = {"customer_id": gone, "contact_person_id": 0}
    await check_party(tenant.id, None, None, before=stored)
    await check_party(tenant.id, gone, 0, before=stored)
    with pytest.raises(FieldError):
        stored = {"customer_id": 0, "contact_person_id": their_contact}
        await check_party(tenant.id, mine, None, before=stored)


async def test_customer_module_off_keeps_own_customers_and_refuses_others(
    app, tenant_factory, other_tenant
):
    """Turned off for the tenant, the register still answers: its stored customers exist."""
    t = await tenant_factory(modules=["cases"])
    mine, (contact,) = await add_party(t.id)
    theirs, _ = await add_party(other_tenant.id)
    async with AppClient(app=app) as c:
        assert (await login(c, t)).status_code == 200
        body = {"title": "a", "customer_id": mine, "contact_person_id": contact}
        r = await c.post("/api/cases/", json=body)
        assert r.status_code == 201, r.text
        for customer in (theirs, 2**31 - 1):
            r = await c.post("/api/cases/", json={"title": "b", "customer_id": customer})
            got = (r.status_code, r.json()["field"], r.json()["detail"])
            assert got == (400, "customer_id", NO_CUSTOMER)


async def test_no_register_installed_refuses_every_id_but_none(tenant):
    """Fail closed: with no plugin to vouch for a customer, only 0 / None passes."""
    previous = plugins.get_host()
    plugins.set_host(plugins.PluginHost(load_entry_points=False))
    try:
        await check_party(tenant.id, 0, 0)
        await check_party(tenant.id, None, None)
        for customer, contact, field in ((5, 0, "customer_id"), (0, 7, "contact_person_id")):
            with pytest.raises(FieldError) as refused:
                await check_party(tenant.id, customer, contact)
            assert (refused.value.field, refused.value.message) == (field, NO_REGISTER)
    finally:
        plugins.set_host(previous)
