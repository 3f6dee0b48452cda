"""A second factor another plugin provides (#21.6): a "hardware_token" plugin declares a
``SecondFactor`` (``declare_kinds``) and checks the answer; the two-factor plugin keeps the
challenge, the attempt counters, remembered devices and completion. Wrong answers count
and lock like SMS codes, a used challenge is not completed twice, another organization's
challenge is not found, a failing factor plugin refuses the step, and a factor is strong
only when its declaration says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from core.contracts import FactorAnswer, SecondFactor
from core.plugins import hookimpl
from core.secondfactor import second_factor, strong_second_factors
from core.tables import Session
from plugins.twofactor import services
from plugins.twofactor.tables import TwoFactorChallenge, TwoFactorPerson
from tests.support import login
from tests.twofactor_kit import add_employee, forget_last_send, setup_login_2fa, sms_rows

TOKEN = "HW-4711-OK"


class HardwareTokens:
    """A third party's factor: a token service answering whether a token's answer is right."""

    name = "hardwaretokens"

    def __init__(self, strong: bool = False) -> None:
        self.strong = strong
        self.tokens: dict[tuple[int, str, int], str] = {}
        self.asked: list[FactorAnswer] = []
        self.broken = False

    @hookimpl
    def declare_kinds(self) -> list[SecondFactor]:
        return [SecondFactor("hardware_token", check=self.check, strong=self.strong)]

    @hookimpl
    def second_factors_of(self, tenant_id: int, person_kind: str, person_id: int) -> list[str]:
        return ["hardware_token"] if (tenant_id, person_kind, person_id) in self.tokens else []

    async def check(self, answer: FactorAnswer) -> bool:
        self.asked.append(answer)
        if self.broken:
            raise RuntimeError("the token service is down")
        expected = self.tokens.get((answer.tenant_id, answer.person_kind, answer.person_id))
        return expected is not None and answer.answer == expected


async def answer(client, challenge_id: str, given: str, factor: str = "hardware_token", **extra):
    return await client.post(
        f"/api/twofactor/challenges/{challenge_id}/verify", json={"factor": factor, "answer": given, **extra}
    )


async def _challenge(cid: str) -> dict:
    row = await TwoFactorChallenge.select().where(TwoFactorChallenge.id_hash == services.token_hash(cid)).first()
    assert row is not None
    return row


async def _setup(client, anon_client, tenant, register_plugin, strong: bool = False):
    tokens = HardwareTokens(strong=strong)
    register_plugin(tokens, tokens.name)
    await setup_login_2fa(client, tenant)
    bo_id, bo = await add_employee(tenant, "Bo Token")
    tokens.tokens[(tenant.id, "employee", bo_id)] = TOKEN
    r = await login(anon_client, tenant, email=bo, api=True)
    assert r.status_code == 202, r.text
    return tokens, bo_id, bo, r.json()["second_factor"]["challenge_id"]


async def test_hook_declare_kinds_second_factor(tenant, register_plugin):
    """The core finds the one declaration of a factor by name; strong only when declared."""
    weak = HardwareTokens()
    register_plugin(weak, weak.name)
    found = await second_factor(tenant.id, "hardware_token")
    assert found is not None and found.kind == "hardware_token" and found.strong is False
    assert await second_factor(tenant.id, "yubikey") is None
    assert await strong_second_factors(tenant.id) == set()
    assert services.strong_factors(["hardware_token", "sms", "recovery", "app"]) == ["app"]
    assert services.strong_factors(["hardware_token", "sms"], {"hardware_token", "sms"}) == ["hardware_token"]


async def test_a_hardware_token_logs_a_person_in_once(client, anon_client, tenant, register_plugin):
    tokens, bo_id, _, cid = await _setup(client, anon_client, tenant, register_plugin)
    r = await answer(anon_client, cid, TOKEN)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["logged_in"] is True and out["employee_id"] == bo_id and out["device_remembered_days"] == 365
    assert (await anon_client.get("/api/auth/me")).json()["employee_id"] == bo_id
    # The factor was asked once, bound to this challenge (its hash, never the id itself).
    row = await _challenge(cid)
    asked = tokens.asked[-1]
    assert (asked.tenant_id, asked.person_kind, asked.person_id) == (tenant.id, "employee", bo_id)
    assert asked.context == "employee_login" and asked.purpose == "login"
    assert asked.challenge == row["id_hash"] and cid not in repr(asked)
    assert row["status"] == "used" and row["attempts"] == 1
    # Replayed: the challenge is used, the factor is not asked again.
    r = await answer(anon_client, cid, TOKEN)
    assert r.status_code == 409 and r.json()["code"] == "twofactor.code_used", r.text
    assert len(tokens.asked) == 1


async def test_wrong_answers_count_and_lock_like_sms_codes(client, anon_client, tenant, register_plugin):
    _tokens, bo_id, bo, cid = await _setup(client, anon_client, tenant, register_plugin)
    for attempt in range(1, 5):
        r = await answer(anon_client, cid, "HW-0000-NO")
        assert r.status_code == 400, r.text
        assert r.json()["code"] == "twofactor.factor_wrong" and str(5 - attempt) in r.json()["detail"]
    r = await answer(anon_client, cid, "HW-0000-NO")
    assert r.status_code == 409 and r.json()["code"] == "twofactor.code_failed"
    # The right answer no longer completes a failed challenge.
    r = await answer(anon_client, cid, TOKEN)
    assert r.status_code == 409 and (await _challenge(cid))["status"] == "failed"
    start = datetime.now(UTC)
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        await forget_last_send(tenant.id)
        r = await login(anon_client, tenant, email=bo, api=True)
        assert r.status_code == 202, r.text
        second = r.json()["second_factor"]["challenge_id"]
        for _ in range(5):
            r = await answer(anon_client, second, "HW-0000-NO")
        assert r.status_code == 423 and r.json()["code"] == "twofactor.locked"
        r = await answer(anon_client, second, TOKEN)
        assert r.status_code in (409, 423)
    state = await TwoFactorPerson.select().where(TwoFactorPerson.employee_id == bo_id).first()
    assert state["failed_count"] == 10
    assert await Session.count().where(Session.employee_id == bo_id) == 0


async def test_unknown_or_own_factor_names_are_refused_uncounted(client, anon_client, tenant, register_plugin):
    tokens, _, _, cid = await _setup(client, anon_client, tenant, register_plugin)
    for factor in ("yubikey", "sms", "app", "passkey", "recovery"):
        r = await answer(anon_client, cid, TOKEN, factor=factor)
        assert r.status_code == 400 and r.json()["code"] == "twofactor.unknown_factor", r.text
    for body in ({"factor": "hardware_token"}, {"answer": TOKEN}, {"factor": "hardware_token", "answer": ""},
                 {"factor": "Hardware-Token", "answer": TOKEN}, {"factor": "hardware_token", "answer": TOKEN,
                                                                "code": "123456"}):
        r = await anon_client.post(f"/api/twofactor/challenges/{cid}/verify", json=body)
        assert r.status_code == 400, (body, r.text)
    row = await _challenge(cid)
    assert row["attempts"] == 0 and row["status"] == "pending" and tokens.asked == []


async def test_another_organizations_challenge_is_not_found(
    client, anon_client, tenant, other_tenant, register_plugin
):
    tokens, _, _, cid = await _setup(client, anon_client, tenant, register_plugin)
    r = await answer(anon_client, cid, TOKEN, tenant=other_tenant.slug)
    assert r.status_code == 404 and r.json()["code"] == "twofactor.challenge_not_found", r.text
    assert tokens.asked == [] and (await _challenge(cid))["attempts"] == 0
    # A token of the same person number in the other organization does not answer here.
    tokens.tokens = {(other_tenant.id, "employee", k[2]): v for k, v in tokens.tokens.items()}
    r = await answer(anon_client, cid, TOKEN)
    assert r.status_code == 400 and r.json()["code"] == "twofactor.factor_wrong"


async def test_a_failing_factor_plugin_refuses_and_completes_nothing(
    client, anon_client, tenant, register_plugin, caplog
):
    tokens, bo_id, _, cid = await _setup(client, anon_client, tenant, register_plugin)
    tokens.broken = True
    r = await answer(anon_client, cid, TOKEN)
    assert r.status_code == 409 and r.json()["code"] == "twofactor.factor_failed", r.text
    row = await _challenge(cid)
    assert row["status"] == "pending" and row["attempts"] == 1
    assert "set-cookie" not in r.headers and (await anon_client.get("/api/auth/me")).status_code == 401
    assert TOKEN not in caplog.text
    # Once the service answers again, the same challenge can still be completed.
    tokens.broken = False
    r = await answer(anon_client, cid, TOKEN)
    assert r.status_code == 200 and r.json()["employee_id"] == bo_id


async def test_a_factor_is_strong_only_when_declared(client, anon_client, tenant, register_plugin):
    tokens, _, bo, cid = await _setup(client, anon_client, tenant, register_plugin)
    r = await client.put("/api/twofactor/strong", json={"contexts": {"employee_login": True}, "confirm": True})
    assert r.status_code == 200, r.text
    # Not declared strong: refused where an app or passkey is required, nothing counted.
    r = await answer(anon_client, cid, TOKEN)
    assert r.status_code == 409 and r.json()["code"] == "twofactor.factor_not_strong", r.text
    assert (await _challenge(cid))["attempts"] == 0 and tokens.asked == []
    # Nor does having it let the person start the step (no SMS either).
    sent = len(await sms_rows(tenant.id))
    await forget_last_send(tenant.id)
    r = await login(anon_client, tenant, email=bo, api=True)
    assert r.status_code == 409 and r.json()["code"] == "twofactor.strong_required", r.text
    assert len(await sms_rows(tenant.id)) == sent


async def test_a_factor_declared_strong_passes_a_strong_rule(client, anon_client, tenant, register_plugin):
    _tokens, bo_id, bo, _ = await _setup(client, anon_client, tenant, register_plugin, strong=True)
    r = await client.put("/api/twofactor/strong", json={"contexts": {"employee_login": True}})
    assert r.status_code == 200, r.text  # Bo has a strong factor: nobody is locked out
    sent = len(await sms_rows(tenant.id))
    await forget_last_send(tenant.id)
    r = await login(anon_client, tenant, email=bo, api=True)
    assert r.status_code == 202, r.text
    cid = r.json()["second_factor"]["challenge_id"]
    assert cid.startswith(services.STRONG_PREFIX) and len(await sms_rows(tenant.id)) == sent
    r = await answer(anon_client, cid, TOKEN)
    assert r.status_code == 200 and r.json()["employee_id"] == bo_id, r.text


async def test_a_person_without_phone_answers_with_the_factor(client, anon_client, tenant, register_plugin):
    """No phone, no recovery codes, but another plugin's factor: the step asks for it (no
    SMS); without the factor the same person is refused as before."""
    tokens = HardwareTokens()
    register_plugin(tokens, tokens.name)
    await setup_login_2fa(client, tenant)
    bo_id, bo = await add_employee(tenant, "Bo Nophone", mobile=None)
    r = await login(anon_client, tenant, email=bo, api=True)
    assert r.status_code == 409 and r.json()["code"] == "twofactor.no_phone", r.text
    tokens.tokens[(tenant.id, "employee", bo_id)] = TOKEN
    r = await login(anon_client, tenant, email=bo, api=True)
    assert r.status_code == 202, r.text
    step = r.json()["second_factor"]
    assert step["masked_phone"] == "" and "hardware_token" in step["message"]
    assert await sms_rows(tenant.id) == []
    r = await answer(anon_client, step["challenge_id"], "HW-0000-NO")
    assert r.status_code == 400 and r.json()["code"] == "twofactor.factor_wrong"
    r = await answer(anon_client, step["challenge_id"], TOKEN)
    assert r.status_code == 200 and r.json()["employee_id"] == bo_id, r.text
