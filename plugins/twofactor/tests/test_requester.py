"""#17.8 and #17.6 (two-factor part): who may ask whom for an SMS signature, whose
allowance a wrong code spends, and wrong-code counters that parallel guesses cannot pass."""

from __future__ import annotations

import asyncio

import pytest

from core.contracts import SecondFactorRequest
from core.eventlog import EventLog
from core.secondfactor import ask_second_factor
from plugins.twofactor import services
from plugins.twofactor.tables import TwoFactorChallenge, TwoFactorPerson
from tests.support import login
from tests.twofactor_kit import (
    MOBILE,
    activate_sms,
    add_employee,
    forget_last_send,
    last_code,
    set_phones,
    switch,
    wrong,
)


async def _counters(tenant_id: int, employee_id: int) -> tuple[int, int]:
    row = await TwoFactorPerson.select().where(
        (TwoFactorPerson.tenant_id == tenant_id)
        & (TwoFactorPerson.person_kind == "employee")
        & (TwoFactorPerson.employee_id == employee_id)
    ).first()
    return (int(row["failed_count"]), int(row["others_failed_count"])) if row else (0, 0)


async def test_only_oneself_or_an_administrator_with_a_reason(client, anon_client, tenant, fake_people):
    await login(client, tenant, api=True)
    await activate_sms(client)
    await switch(client, "test_signing")
    await set_phones(tenant.admin_id, mobile=MOBILE)
    plain_id, plain_email = await add_employee(tenant, "Plain Signer")
    await login(anon_client, tenant, email=plain_email, api=True)
    sign = "/api/twofactor/sign"
    # A plain employee cannot SMS the administrator, or a customer.
    r = await anon_client.post(
        sign, json={"context": "test_signing", "person_kind": "employee", "person_id": tenant.admin_id}
    )
    assert r.status_code == 403
    r = await anon_client.post(
        sign, json={"context": "test_signing", "person_kind": "customer", "person_id": 3, "reason": "x"}
    )
    assert r.status_code == 403
    assert await TwoFactorChallenge.count().where(TwoFactorChallenge.tenant_id == tenant.id) == 0
    # ...but signs for themself.
    r = await anon_client.post(sign, json={"context": "test_signing", "person_kind": "employee", "person_id": plain_id})
    assert r.status_code == 202, r.text
    # An administrator asking someone else must say why; the request is recorded.
    body = {"context": "test_signing", "person_kind": "employee", "person_id": plain_id}
    r = await client.post(sign, json=body)
    assert r.status_code == 400 and r.json()["field"] == "reason"
    await forget_last_send(tenant.id)
    r = await client.post(sign, json={**body, "reason": "Godkänn policy 2027"})
    assert r.status_code == 202, r.text
    row = await TwoFactorChallenge.select().where(TwoFactorChallenge.tenant_id == tenant.id).order_by(
        TwoFactorChallenge.id, ascending=False).first()
    assert row["requested_by"] == tenant.admin_id and row["reason"] == "Godkänn policy 2027"
    events = await EventLog.select().where(
        (EventLog.tenant_id == tenant.id) & (EventLog.action == "twofactor.signing_requested")
    )
    assert [(e["employee_id"], e["record_type"], e["record_id"]) for e in events] == [
        (tenant.admin_id, "employee", plain_id)
    ]


async def test_wrong_codes_of_someone_elses_request_do_not_lock_the_person(client, anon_client, tenant, fake_people):
    """Ten wrong codes on signings an administrator started for a colleague used to lock the
    colleague out of logging in from a new device; now they count against the one asking."""
    await login(client, tenant, api=True)
    await activate_sms(client)
    await switch(client, "test_signing")
    victim, _ = await add_employee(tenant, "Victim Person")
    body = {"context": "test_signing", "person_kind": "employee", "person_id": victim, "reason": "test"}
    typed = 0
    for _ in range(2):
        await forget_last_send(tenant.id)
        r = await client.post("/api/twofactor/sign", json=body)
        assert r.status_code == 202, r.text
        cid = r.json()["challenge_id"]
        code = await last_code(tenant.id)
        for _ in range(services.MAX_ATTEMPTS):
            r = await anon_client.post(f"/api/twofactor/challenges/{cid}/verify", json={"code": wrong(code)})
            typed += 1
            assert r.status_code in (400, 409, 423)
    assert typed == services.PERSON_MAX_FAILURES
    assert await _counters(tenant.id, victim) == (0, 0)
    assert await _counters(tenant.id, tenant.admin_id) == (0, services.PERSON_MAX_FAILURES)
    status = (await client.get(f"/api/twofactor/people/employee/{victim}/status")).json()
    assert status["locked"] is False and status["failed_attempts"] == 0
    # The one asking cannot ask again until an administrator unlocks them...
    await forget_last_send(tenant.id)
    r = await client.post("/api/twofactor/sign", json=body)
    assert r.status_code == 423
    # ...while the person still gets and uses codes of their own steps.
    mine = await ask_second_factor(SecondFactorRequest(tenant.id, "employee", victim, "test_signing", None, "t"))
    assert mine is not None and mine.required and mine.challenge_id, mine
    r = await anon_client.post(
        f"/api/twofactor/challenges/{mine.challenge_id}/verify", json={"code": await last_code(tenant.id)}
    )
    assert r.status_code == 200, r.text
    # An administrator's unlock ends the requester's count too.
    assert (await client.post(f"/api/twofactor/people/employee/{tenant.admin_id}/unlock")).status_code == 200
    assert await _counters(tenant.id, tenant.admin_id) == (0, 0)


@pytest.mark.slow
async def test_parallel_guesses_on_several_challenges_stop_at_the_person_limit(client, tenant, fake_people):
    """The person's count of wrong codes is reserved before each comparison in one
    conditional UPDATE: a burst spread over several challenges compares at most
    PERSON_MAX_FAILURES times, not MAX_ATTEMPTS per challenge."""
    await login(client, tenant, api=True)
    await activate_sms(client)
    await switch(client, "test_signing")
    person, _ = await add_employee(tenant, "Burst Target")
    ctx = await services.find_context(tenant.id, "test_signing")
    guesses = []
    for _ in range(services.SENDS_PER_HOUR):
        await forget_last_send(tenant.id)
        started = await services.start_challenge(tenant.id, "employee", person, ctx)
        guesses += [(started.challenge_id, wrong(await last_code(tenant.id)))] * services.MAX_ATTEMPTS

    async def guess(cid: str, code: str) -> int:
        try:
            await services.verify_code(tenant.id, cid, code)
        except services.TwoFactorRefusal as exc:
            return exc.status
        return 200

    answers = await asyncio.gather(*[guess(cid, code) for cid, code in guesses])
    assert 200 not in answers
    rows = await TwoFactorChallenge.select(TwoFactorChallenge.attempts).where(
        (TwoFactorChallenge.tenant_id == tenant.id) & (TwoFactorChallenge.employee_id == person)
    )
    compared = sum(int(r["attempts"]) for r in rows)
    assert compared == services.PERSON_MAX_FAILURES, answers
    assert await _counters(tenant.id, person) == (services.PERSON_MAX_FAILURES, 0)
