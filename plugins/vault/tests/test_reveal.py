"""Reveal (M13): password, throttling, two-factor, audit, tampering, and clean logs."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from plugins.vault.tests.conftest import (
    SECRET_NOTE,
    SECRET_PASSWORD,
    build_world,
    new_user,
    quick_tenant,
    reveal,
)
from tests.support import TEST_PASSWORD


async def _audit(entry_id: int) -> list[dict]:
    """The entry's reveal audit rows (of its tenant: SQLite may give a deleted entry's id
    again); changes to the entry are audited too, under their own action."""
    from plugins.vault.tables import VaultAudit, VaultEntry

    entry = await VaultEntry.select(VaultEntry.tenant_id).where(VaultEntry.id == entry_id).first()
    return (
        await VaultAudit.select()
        .where(
            (VaultAudit.entry_id == entry_id)
            & (VaultAudit.tenant_id == entry["tenant_id"])
            & (VaultAudit.action == "reveal")
        )
        .order_by(VaultAudit.id)
    )


async def test_reveal_returns_values_and_is_audited_without_them(client, world) -> None:
    r = await reveal(world.reader, world.entry["id"])
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["status"] == "revealed"
    assert {v["name"]: v["value"] for v in body["values"]} == {"Lösenord": SECRET_PASSWORD, "Anteckning": SECRET_NOTE}
    rows = await _audit(world.entry["id"])
    assert [(a["employee_id"], a["outcome"]) for a in rows] == [(world.reader.employee_id, "revealed")]
    assert json.loads(rows[0]["field_names"]) == ["Lösenord", "Anteckning"]
    assert rows[0]["ip"] and rows[0]["at"] is not None and rows[0]["form_id"] == world.form["id"]
    dump = json.dumps(rows, default=str)
    assert SECRET_PASSWORD not in dump and SECRET_NOTE not in dump and TEST_PASSWORD not in dump
    page = (await world.admin.get(f"/api/vault/audit?entry_id={world.entry['id']}")).json()
    assert page["total"] == 2 and page["items"][0]["outcome"] == "revealed"
    assert (page["items"][1]["action"], page["items"][1]["outcome"]) == ("entry", "created")
    assert page["items"][0]["field_names"] == ["Lösenord", "Anteckning"]


async def test_reveal_some_fields(client, world) -> None:
    pid = world.field_id("Lösenord")
    r = await reveal(world.reader, world.entry["id"], field_ids=[pid])
    assert [v["name"] for v in r.json()["values"]] == ["Lösenord"]
    assert json.loads((await _audit(world.entry["id"]))[-1]["field_names"]) == ["Lösenord"]
    r = await reveal(world.reader, world.entry["id"], field_ids=[world.field_id("Användarnamn")])
    assert r.status_code == 400 and r.json()["field"] == "field_ids"


async def test_refused_attempts_are_audited(client, world) -> None:
    assert (await reveal(world.writer, world.entry["id"])).status_code == 403
    assert (await reveal(world.outsider, world.entry["id"])).status_code == 404
    assert (await reveal(world.reader, world.entry["id"], password="wrong-password")).status_code == 403
    outcomes = [(a["employee_id"], a["outcome"]) for a in await _audit(world.entry["id"])]
    assert outcomes == [
        (world.writer.employee_id, "denied_not_on_list"),
        (world.outsider.employee_id, "denied_no_access"),
        (world.reader.employee_id, "wrong_password"),
    ]


async def test_bad_reveal_bodies_are_400(client, world) -> None:
    url = f"/api/vault/entries/{world.entry['id']}/reveal"
    for body in ({}, {"password": ""}, {"password": "x" * 257}, {"password": "x", "code": "123456"}):
        assert (await world.reader.post(url, json=body)).status_code == 400, body
    assert await _audit(world.entry["id"]) == []


@pytest.mark.slow
async def test_wrong_passwords_are_throttled_like_logins(client, world, settings) -> None:
    from core import throttle
    from plugins.vault.services import throttle_key

    entry = world.entry["id"]
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False):
        for _ in range(settings.login_max_failures):
            r = await reveal(world.reader, entry, password="not-my-password")
            assert r.status_code == 403 and r.json()["detail"] == "Wrong password."
        key = throttle_key(world.tenant.id, world.reader.employee_id)
        window = timedelta(minutes=settings.login_window_minutes)
        assert await throttle.taken(key, window) == settings.login_max_failures
        r = await reveal(world.reader, entry)  # even the right password now
        assert r.status_code == 429
        assert SECRET_PASSWORD not in r.text
        assert "Wait" in r.json()["detail"]
    # Another person is not affected by someone else's failures.
    other = await new_user(client, world.tenant)
    await world.admin.put(
        f"/api/vault/forms/{world.form['id']}/access",
        json={
            "plain": {"users": [world.writer.employee_id]},
            "encrypted": {"users": [other.employee_id], "groups": [world.group_id]},
        },
    )
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        assert (await reveal(other, entry)).status_code == 200
    with time_machine.travel(start + timedelta(minutes=settings.login_window_minutes, seconds=1), tick=False):
        assert (await reveal(world.reader, entry)).status_code == 200
    outcomes = [a["outcome"] for a in await _audit(entry) if a["employee_id"] == world.reader.employee_id]
    assert outcomes.count("wrong_password") == settings.login_max_failures
    assert outcomes[-2:] == ["throttled", "revealed"]


@pytest.mark.slow
async def test_a_parallel_burst_compares_no_more_passwords_than_the_limit(client, world, settings) -> None:
    """#17.6: counting, checking and recording a wrong password is one atomic step, so a
    burst of parallel requests (separate connections on PostgreSQL) cannot try more
    passwords than the limit allows."""
    import asyncio

    from core.auth import SessionUser
    from core.errors import GallraError
    from plugins.vault import services

    entry = world.entry["id"]
    user = SessionUser(0, world.tenant.id, world.tenant.slug, world.reader.employee_id, "Reader",
                       "r@example.org", "user", "sv")
    ctx = services.RevealContext(ip="127.0.0.1", user_agent="burst")

    async def attempt(n: int) -> int:
        try:
            await services.reveal(user, entry, f"guess-{n}", None, None, ctx)
        except GallraError as exc:
            return exc.status
        return 200

    burst = settings.login_max_failures * 3
    codes = await asyncio.gather(*[attempt(n) for n in range(burst)])
    assert codes.count(403) == settings.login_max_failures, codes
    assert codes.count(429) == burst - settings.login_max_failures, codes
    outcomes = [a["outcome"] for a in await _audit(entry)]
    assert outcomes.count("wrong_password") == settings.login_max_failures
    # Right after the burst even the right password is refused.
    assert (await reveal(world.reader, entry)).status_code == 429


@pytest.mark.slow
async def test_right_passwords_do_not_use_up_the_allowance(client, world, settings) -> None:
    entry = world.entry["id"]
    for _ in range(settings.login_max_failures + 2):
        assert (await reveal(world.reader, entry)).status_code == 200
    for _ in range(settings.login_max_failures - 1):
        assert (await reveal(world.reader, entry, password="nope")).status_code == 403
    assert (await reveal(world.reader, entry)).status_code == 200


# --- two-factor ---------------------------------------------------------------------------


async def test_two_factor_context_is_declared(vault_host) -> None:
    contexts = vault_host.collect("declare_two_factor_contexts")
    mine = [c for c in contexts if c.key == "vault_decrypt"]
    assert len(mine) == 1
    assert mine[0].label_sv == "Säkra uppgifter – dekryptering"
    assert mine[0].label_en == "Secure data – decryption"
    assert mine[0].module == "vault"


async def test_two_factor_on_needs_the_sms_code(client, two_factor) -> None:
    w = await build_world(client, require_two_factor=True)
    url = w.entry["id"]
    first = await reveal(w.reader, url)
    assert first.status_code == 202, first.text
    body = first.json()
    assert body["status"] == "second_factor_required" and body["values"] == []
    challenge = body["second_factor"]["challenge_id"]
    assert challenge and body["second_factor"]["masked_phone"].startswith("+46")
    asked = two_factor.requests[-1]
    assert (asked.context, asked.person_kind, asked.person_id, asked.device_token) == (
        "vault_decrypt", "employee", w.reader.employee_id, None
    )
    assert asked.tenant_id == w.tenant.id and asked.challenge_id is None
    # Re-submitting before the code was entered is refused, never values.
    early = await reveal(w.reader, url, challenge_id=challenge)
    assert early.status_code == 409 and SECRET_PASSWORD not in early.text
    assert "not been entered" in early.json()["detail"]
    # The person types the code (the two-factor plugin's verify endpoint), then re-submits.
    assert two_factor.verify(challenge, two_factor.codes[challenge])
    done = await reveal(w.reader, url, challenge_id=challenge)
    assert done.status_code == 200, done.text
    assert two_factor.requests[-1].challenge_id == challenge
    assert {v["name"]: v["value"] for v in done.json()["values"]}["Lösenord"] == SECRET_PASSWORD
    # The verified challenge was used up.
    assert (await reveal(w.reader, url, challenge_id=challenge)).status_code == 409
    # A wrong password with a verified challenge does not use the challenge up.
    fresh = (await reveal(w.reader, url)).json()["second_factor"]["challenge_id"]
    two_factor.verify(fresh, two_factor.codes[fresh])
    assert (await reveal(w.reader, url, password="wrong-password", challenge_id=fresh)).status_code == 403
    assert (await reveal(w.reader, url, challenge_id=fresh)).status_code == 200
    outcomes = [a["outcome"] for a in await _audit(url)]
    assert outcomes == [
        "second_factor_required",
        "second_factor_error",
        "revealed",
        "second_factor_error",
        "second_factor_required",
        "wrong_password",
        "revealed",
    ]


async def test_two_factor_wrong_password_sends_no_code(client, two_factor) -> None:
    w = await build_world(client, require_two_factor=True)
    r = await reveal(w.reader, w.entry["id"], password="not-my-password")
    assert r.status_code == 403
    assert two_factor.requests == []


async def test_two_factor_error_is_passed_on(client, two_factor) -> None:
    w = await build_world(client, require_two_factor=True)
    two_factor.error = "Telefonnummer saknas. Kontakta en administratör."
    r = await reveal(w.reader, w.entry["id"])
    assert r.status_code == 409
    assert r.json()["detail"] == two_factor.error
    two_factor.status = 429  # too many codes: the plugin's status is passed on
    r = await reveal(w.reader, w.entry["id"])
    assert r.status_code == 429
    assert r.json()["detail"] == two_factor.error
    assert SECRET_PASSWORD not in r.text


async def test_two_factor_off_asks_nobody(client, world, two_factor) -> None:
    assert (await reveal(world.reader, world.entry["id"])).status_code == 200
    assert two_factor.requests == []


async def test_two_factor_on_without_a_plugin_fails_closed(client, vault_host) -> None:
    """A form that asks for an SMS code is not revealed with the password alone when no
    code can be asked for (no two-factor plugin, SMS or the decryption step off)."""
    vault_host.pm.unregister(name="faketwofactor")
    vault_host.records.pop("faketwofactor", None)
    w = await build_world(client, require_two_factor=True)
    r = await reveal(w.reader, w.entry["id"])
    assert r.status_code == 409, r.text
    assert "Settings > Two-factor" in r.json()["detail"]
    assert "values" not in r.json() and SECRET_PASSWORD not in r.text
    assert (await _audit(w.entry["id"]))[-1]["outcome"] == "second_factor_unavailable"


async def test_the_code_is_bound_to_the_entry(client, two_factor) -> None:
    """#17.11: a reveal's challenge carries the entry as its subject."""
    w = await build_world(client, require_two_factor=True)
    await reveal(w.reader, w.entry["id"])
    assert two_factor.requests[-1].subject == f"vault:{w.entry['id']}:reveal"


# --- integrity --------------------------------------------------------------------------


async def _row(entry_id: int) -> dict:
    from plugins.vault.tables import VaultEntry

    return await VaultEntry.select().where(VaultEntry.id == entry_id).first()


async def _set(entry_id: int, **values) -> None:
    from plugins.vault.tables import VaultEntry

    await VaultEntry.update({getattr(VaultEntry, k): v for k, v in values.items()}).where(VaultEntry.id == entry_id)


async def _assert_clean_409(who, entry_id: int) -> None:
    r = await reveal(who, entry_id)
    assert r.status_code == 409, r.text
    assert "failed its integrity check" in r.json()["detail"]
    assert "values" not in r.json()
    assert SECRET_PASSWORD not in r.text and SECRET_NOTE not in r.text
    assert (await _audit(entry_id))[-1]["outcome"] == "integrity_error"


async def test_tampered_ciphertext_fails_cleanly(client, world) -> None:
    eid = world.entry["id"]
    secret = json.loads((await _row(eid))["secret_values"])
    key = str(world.field_id("Lösenord"))
    raw = bytearray(base64.b64decode(secret[key]["c"]))
    raw[-5] ^= 0x40
    secret[key]["c"] = base64.b64encode(bytes(raw)).decode()
    await _set(eid, secret_values=json.dumps(secret))
    await _assert_clean_409(world.reader, eid)
    # Editing an encrypted value of a broken entry is refused the same way; a plain one works.
    r = await world.writer.patch(f"/api/vault/entries/{eid}", json={"values": world.values(Användarnamn="ok")})
    assert r.status_code == 200


async def test_value_copied_to_another_field_fails(client, world) -> None:
    eid = world.entry["id"]
    secret = json.loads((await _row(eid))["secret_values"])
    secret[str(world.field_id("Anteckning"))] = secret[str(world.field_id("Lösenord"))]
    await _set(eid, secret_values=json.dumps(secret))
    await _assert_clean_409(world.reader, eid)


async def test_values_and_key_copied_to_another_entry_fail(client, world) -> None:
    source = await _row(world.entry["id"])
    r = await world.writer.post(
        "/api/vault/entries", json={"form_id": world.form["id"], "customer_id": world.customer_id}
    )
    target = r.json()["id"]
    await _set(target, secret_values=source["secret_values"], wrapped_key=source["wrapped_key"])
    await _assert_clean_409(world.reader, target)
    # Only the values (the target keeps its own data key): fails too.
    r = await world.writer.post(
        "/api/vault/entries", json={"form_id": world.form["id"], "customer_id": world.customer_id}
    )
    target = r.json()["id"]
    await _set(target, secret_values=source["secret_values"])
    await _assert_clean_409(world.reader, target)


async def test_values_and_key_copied_to_another_tenant_fail(client, world) -> None:
    other = await build_world(client, await quick_tenant())
    source = await _row(world.entry["id"])
    # Put the ciphertexts under the other tenant's ids of the same fields.
    secret = json.loads(source["secret_values"])
    moved = {str(other.field_id(n)): secret[str(world.field_id(n))] for n in ("Lösenord", "Anteckning")}
    await _set(other.entry["id"], secret_values=json.dumps(moved), wrapped_key=source["wrapped_key"])
    await _assert_clean_409(other.reader, other.entry["id"])


async def test_wrong_key_version_fails(client, world) -> None:
    from plugins.vault import keys

    eid = world.entry["id"]
    old = (await _row(eid))["key_version"]
    result = await keys.rotate(batch_size=50)
    assert (await _row(eid))["key_version"] == result.version != old
    assert (await reveal(world.reader, eid)).status_code == 200
    # The data key is wrapped by the new version; claiming the old one fails.
    await _set(eid, key_version=old)
    await _assert_clean_409(world.reader, eid)
    await _set(eid, key_version=result.version)
    assert (await reveal(world.reader, eid)).status_code == 200
    # A value's own version is bound too.
    row = await _row(eid)
    secret = json.loads(row["secret_values"])
    secret[str(world.field_id("Lösenord"))]["v"] = result.version
    await _set(eid, secret_values=json.dumps(secret))
    await _assert_clean_409(world.reader, eid)


async def test_unknown_key_version_is_503_with_a_clear_message(client, world) -> None:
    eid = world.entry["id"]
    await _set(eid, key_version=999)
    r = await reveal(world.reader, eid)
    assert r.status_code == 503
    assert "master key" in r.json()["detail"]
    assert SECRET_PASSWORD not in r.text
    assert (await _audit(eid))[-1]["outcome"] == "key_missing"


# --- logs ---------------------------------------------------------------------------------


async def test_logs_never_hold_values_passwords_or_codes(client, two_factor, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    w = await build_world(client, require_two_factor=True)
    eid = w.entry["id"]
    await reveal(w.reader, eid, password="Wrong-Password-123")
    first = (await reveal(w.reader, eid)).json()["second_factor"]["challenge_id"]
    code = two_factor.codes[first]
    two_factor.verify(first, code)
    done = await reveal(w.reader, eid, challenge_id=first)
    assert done.status_code == 200
    await w.writer.patch(f"/api/vault/entries/{eid}", json={"values": w.values(Lösenord="Second-Secret-42")})
    assert (await reveal(w.reader, eid)).status_code == 202
    await w.admin.patch(f"/api/vault/forms/{w.form['id']}", json={"require_two_factor": False})
    assert "Second-Secret-42" in (await reveal(w.reader, eid)).text
    from plugins.vault import keys

    await keys.rotate(batch_size=10)
    assert "Second-Secret-42" in (await reveal(w.reader, eid)).text
    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert "vault reveal" in text  # the audit log line is there...
    for secret in (SECRET_PASSWORD, SECRET_NOTE, "Second-Secret-42", TEST_PASSWORD, "Wrong-Password-123", code):
        assert secret not in text  # ...but never a value, a password or a code


async def test_audit_of_an_entry_never_shows_a_previous_holder_of_its_id(client, world) -> None:
    """SQLite reuses the id of a deleted newest row; the audit filter does not mix them up."""
    first = world.entry["id"]
    assert (await reveal(world.reader, first)).status_code == 200
    assert (await world.writer.delete(f"/api/vault/entries/{first}")).status_code == 200
    page = (await world.admin.get(f"/api/vault/audit?entry_id={first}")).json()
    # A deleted entry's history stays (newest first).
    assert [(i["action"], i["outcome"]) for i in page["items"]] == [
        ("entry", "deleted"), ("reveal", "revealed"), ("entry", "created")
    ]
    r = await world.writer.post(
        "/api/vault/entries", json={"form_id": world.form["id"], "customer_id": world.customer_id}
    )
    second = r.json()["id"]
    page = (await world.admin.get(f"/api/vault/audit?entry_id={second}")).json()
    assert [(i["action"], i["outcome"]) for i in page["items"]] == [("entry", "created")]


async def test_refusals_are_problem_details_with_codes_in_the_asked_language(client, world) -> None:
    """#18.2: a refusal carries its stable code; the detail is in the request's language."""
    entry = world.entry["id"]
    url = f"/api/vault/entries/{entry}/reveal"
    body = {"password": TEST_PASSWORD}
    r = await world.writer.post(url, json=body, headers={"Accept-Language": "sv"})
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "vault_entry.not_on_encrypted_list"
    assert r.json()["detail"] == "Du står inte på formulärets lista för krypterade uppgifter."
    r = await world.outsider.post(url, json=body, headers={"Accept-Language": "sv"})
    assert r.status_code == 404 and r.json()["code"] == "vault_entry.not_found"
    assert r.json()["detail"] == f"Säkra uppgifter {entry} finns inte i organisationen."
    r = await world.reader.post(url, json={"password": "wrong-password"})
    assert (r.status_code, r.json()["code"]) == (403, "vault_entry.wrong_password")
    assert r.json()["detail"] == "Wrong password."
    r = await world.writer.patch(f"/api/vault/forms/{world.form['id']}", json={"name": "X"})
    assert r.status_code == 403 and r.json()["code"] == "vault.managers_only"
    r = await world.admin.delete(f"/api/vault/forms/{world.form['id']}", headers={"Accept-Language": "sv"})
    assert r.status_code == 409 and r.json()["code"] == "vault_form.has_entries"
    assert "?delete_entries=true" in r.json()["detail"] and r.json()["detail"].startswith("Formuläret har 1 uppgifter")
