"""SMS signing (extra costs, payment plans, quotes, GDPR inventory...) through the hook.

A module never imports this plugin: it asks ``challenge_second_factor`` (here through
``core.secondfactor.ask_second_factor``), gets a challenge, the person enters the code at
``/api/twofactor/challenges/{id}/verify``, and the module asks again with the challenge id
to get "not required" with the signature.
"""

from __future__ import annotations

from core.contracts import PersonContact, SecondFactorRequest
from core.secondfactor import ask_second_factor
from plugins.twofactor.tables import TwoFactorChallenge
from tests.twofactor_kit import MOBILE, MOBILE_MASKED, activate_sms, forget_last_send, last_code, switch


def ask(tenant_id: int, kind: str, person_id: int, challenge_id: str | None = None, context: str = "test_signing"):
    return ask_second_factor(
        SecondFactorRequest(
            tenant_id=tenant_id,
            person_kind=kind,  # type: ignore[arg-type]
            person_id=person_id,
            context=context,
            device_token=None,
            user_agent="test",
            challenge_id=challenge_id,
        )
    )


async def test_context_off_means_no_answer(admin_client, tenant, fake_people):
    fake_people.people[(tenant.id, "customer", 1)] = PersonContact(name="Cia", mobile_phone=MOBILE)
    assert await ask(tenant.id, "customer", 1) is None
    await activate_sms(admin_client)
    assert await ask(tenant.id, "customer", 1) is None  # SMS active, context still off
    r = await admin_client.post(
        "/api/twofactor/sign",
        json={"context": "test_signing", "person_kind": "customer", "person_id": 1, "reason": "Avtal"},
    )
    assert r.status_code == 200 and r.json()["required"] is False


async def test_module_flow_through_the_hook(anon_client, admin_client, tenant, fake_people):
    fake_people.people[(tenant.id, "contact", 3)] = PersonContact(name="Cia Kontakt", mobile_phone=MOBILE)
    await activate_sms(admin_client)
    await switch(admin_client, "test_signing")

    first = await ask(tenant.id, "contact", 3)
    assert first is not None and first.required and first.error is None
    assert first.masked_phone == MOBILE_MASKED and first.challenge_id

    # Re-submitted before the code was entered: refused with a message to show.
    early = await ask(tenant.id, "contact", 3, first.challenge_id)
    assert early.required and early.error and early.status == 409

    r = await anon_client.post(
        f"/api/twofactor/challenges/{first.challenge_id}/verify", json={"code": await last_code(tenant.id)}
    )
    assert r.status_code == 200, r.text
    signature = r.json()["signature"]
    assert signature["name"] == "Cia Kontakt" and signature["masked_phone"] == MOBILE_MASKED
    assert r.json()["logged_in"] is False and "gallra_device" not in r.headers.get("set-cookie", "")

    # Another person or another step cannot use it.
    assert (await ask(tenant.id, "contact", 4, first.challenge_id)).error
    assert (await ask(tenant.id, "customer", 3, first.challenge_id)).error

    done = await ask(tenant.id, "contact", 3, first.challenge_id)
    assert done.required is False and done.error is None
    assert done.signer_name == "Cia Kontakt" and done.masked_phone == MOBILE_MASKED
    assert done.signed_at is not None
    # Single use.
    again = await ask(tenant.id, "contact", 3, first.challenge_id)
    assert again.required and again.error


async def test_sign_endpoint_starts_a_challenge(admin_client, anon_client, tenant, other_tenant, fake_people):
    fake_people.people[(tenant.id, "customer", 5)] = PersonContact(name="Dan Kund", mobile_phone=MOBILE)
    await activate_sms(admin_client)
    await switch(admin_client, "test_signing")
    body = {"context": "test_signing", "person_kind": "customer", "person_id": 5, "reason": "Avtal 12"}
    r = await admin_client.post("/api/twofactor/sign", json=body)
    assert r.status_code == 202 and r.json()["required"] is True
    cid = r.json()["challenge_id"]
    # Customer 5 of this tenant: other tests' tenants have a customer 5 too.
    rows = await TwoFactorChallenge.select().where(
        (TwoFactorChallenge.customer_id == 5) & (TwoFactorChallenge.tenant_id == tenant.id)
    )
    assert len(rows) == 1
    assert rows[0]["purpose"] == "sign" and rows[0]["person_kind"] == "customer" and rows[0]["employee_id"] == 0

    r = await anon_client.post(
        f"/api/twofactor/challenges/{cid}/verify", json={"code": await last_code(tenant.id), "tenant": tenant.slug}
    )
    assert r.status_code == 200 and r.json()["signature"]["name"] == "Dan Kund"
    assert (await ask(tenant.id, "customer", 5, cid)).required is False

    # Bad requests.
    await forget_last_send(tenant.id)
    assert (await admin_client.post("/api/twofactor/sign", json={**body, "person_id": 6})).status_code == 404
    r = await admin_client.post("/api/twofactor/sign", json={**body, "context": "employee_login"})
    assert r.status_code == 400 and r.json()["field"] == "context"
    assert (await admin_client.post("/api/twofactor/sign", json={**body, "context": "nope"})).status_code == 404
    assert (await admin_client.post("/api/twofactor/sign", json={**body, "person_kind": "robot"})).status_code == 400
    assert (await admin_client.post("/api/twofactor/sign", json={**body, "extra": True})).status_code == 400
    assert (await anon_client.post("/api/twofactor/sign", json=body)).status_code == 401


async def test_sign_needs_login_and_stays_in_the_tenant(client, anon_client, tenant, other_tenant, fake_people):
    from tests.support import login

    fake_people.people[(tenant.id, "customer", 8)] = PersonContact(name="Eva Kund", mobile_phone=MOBILE)
    body = {"context": "test_signing", "person_kind": "customer", "person_id": 8, "reason": "Avtal"}
    anon = await anon_client.post("/api/twofactor/sign", json=body)
    assert anon.status_code == 401
    # The other organization's administrator cannot reach our customer.
    await login(client, other_tenant, api=True)
    await activate_sms(client)
    await switch(client, "test_signing")
    assert (await client.post("/api/twofactor/sign", json=body)).status_code == 404


async def test_module_disabled_hides_its_context(admin_client, tenant, fake_people):
    await activate_sms(admin_client)
    await switch(admin_client, "test_signing")
    fake_people.people[(tenant.id, "customer", 9)] = PersonContact(name="Fia", mobile_phone=MOBILE)
    r = await admin_client.put(f"/api/modules/{fake_people.name}", json={"enabled": False})
    assert r.status_code == 200
    keys = [c["key"] for c in (await admin_client.get("/api/twofactor/contexts")).json()["contexts"]]
    assert "test_signing" not in keys
    assert (await admin_client.put("/api/twofactor/contexts/test_signing", json={"enabled": True})).status_code == 404
    assert await ask(tenant.id, "customer", 9) is None  # hidden means off
    await admin_client.put(f"/api/modules/{fake_people.name}", json={"enabled": True})
    assert (await ask(tenant.id, "customer", 9)).required is True  # the stored choice is back
