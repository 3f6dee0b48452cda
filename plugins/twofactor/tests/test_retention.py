"""Two-factor rows are personal data: fixed retention, the purge job, anonymization."""

from __future__ import annotations

from datetime import timedelta

from core.db import utcnow
from core.gdpr.registry import get_declarations
from core.plugins import get_host
from core.tables import Outbox
from plugins.twofactor import gdpr, services
from plugins.twofactor.services import REDACTED_BODY, purge_expired
from plugins.twofactor.tables import (
    TrustedDevice,
    TwoFactorApp,
    TwoFactorChallenge,
    TwoFactorPerson,
    TwoFactorRecoveryCode,
    TwoFactorSend,
)
from tests.support import login
from tests.twofactor_kit import (
    add_employee,
    forget_last_send,
    last_code,
    make_recovery_codes,
    setup_login_2fa,
    sms_rows,
)


async def _count(table, tenant_id):
    return await table.count().where(table.tenant_id == tenant_id)


async def _login_and_trust(anon_client, tenant, email):
    r = await login(anon_client, tenant, email=email, api=True)
    cid = r.json()["second_factor"]["challenge_id"]
    code = await last_code(tenant.id)
    assert (await anon_client.post(f"/api/twofactor/challenges/{cid}/verify", json={"code": code})).status_code == 200
    return code


def test_rules_are_fixed_and_declarations_check():
    decl = get_declarations()
    rules = {key: decl.rules[key] for key in (gdpr.CHALLENGES_RULE, gdpr.DEVICES_RULE, gdpr.SENDS_RULE)}
    assert all(info.owner == "twofactor" and info.rule.fixed for info in rules.values())
    assert rules[gdpr.CHALLENGES_RULE].rule.default_days == 1
    assert rules[gdpr.DEVICES_RULE].rule.default_mode == "immediately"
    fields = {
        (f.table._meta.tablename, f.field.column, f.field.category) for f in decl.fields if f.owner == "twofactor"
    }
    assert ("twofactor_challenge", "phone_masked", "phone") in fields
    assert ("twofactor_device", "label", "other") in fields
    for table in ("twofactor_challenge", "twofactor_device", "twofactor_send", "twofactor_person"):
        assert (table, "employee_id", "employee_ref") in fields
        assert (table, "customer_id", "customer_ref") in fields
        assert (table, "contact_id", "contact_ref") in fields


async def test_purge_job_deletes_expired_rows_and_removes_codes(client, anon_client, tenant, worker):
    await setup_login_2fa(client, tenant)
    _, ann = await add_employee(tenant, "Ann Purge")
    _, bo = await add_employee(tenant, "Bo Purge", mobile="+46709998877")
    code = await _login_and_trust(anon_client, tenant, ann)
    await forget_last_send(tenant.id)
    assert (await login(anon_client, tenant, email=bo, api=True)).status_code == 202  # never answered
    bo_code = await last_code(tenant.id)
    worker.drain()
    now = utcnow()

    await purge_expired(now)
    assert await _count(TwoFactorChallenge, tenant.id) == 2
    assert await _count(TrustedDevice, tenant.id) == 1
    bodies = [r["body"] for r in await sms_rows(tenant.id)]
    assert code not in bodies[0] and bodies[0] == REDACTED_BODY  # used: removed at once
    assert bo_code in bodies[1]  # still valid

    await purge_expired(now + timedelta(minutes=6))  # Bo's code expired: removed from outbox
    assert all(r["body"] == REDACTED_BODY for r in await sms_rows(tenant.id))

    await purge_expired(now + timedelta(days=1, minutes=6))
    assert await _count(TwoFactorChallenge, tenant.id) == 0
    assert await _count(TwoFactorSend, tenant.id) == 0
    assert await _count(TrustedDevice, tenant.id) == 1
    assert await _count(TwoFactorPerson, tenant.id) == 0  # nothing left to remember

    await purge_expired(now + timedelta(days=365) - timedelta(seconds=5))
    assert await _count(TrustedDevice, tenant.id) == 1
    await purge_expired(now + timedelta(days=365, seconds=5))
    assert await _count(TrustedDevice, tenant.id) == 0
    assert await Outbox.count().where((Outbox.tenant_id == tenant.id) & (Outbox.channel == "sms")) == 2


async def test_gdpr_sweep_applies_the_fixed_rules(client, anon_client, tenant):
    from core.gdpr.engine import sweep

    await setup_login_2fa(client, tenant)
    _, ann = await add_employee(tenant, "Ann Sweep")
    await _login_and_trust(anon_client, tenant, ann)
    now = utcnow()
    results = {r.rule: r for r in await sweep(tenant.id, "twofactor", now=now + timedelta(hours=2))}
    assert all(r.outcome == "ok" for r in results.values())
    assert await _count(TwoFactorChallenge, tenant.id) == 1
    results = {r.rule: r for r in await sweep(tenant.id, "twofactor", now=now + timedelta(days=1, minutes=10))}
    assert results[gdpr.CHALLENGES_RULE].records == 1 and results[gdpr.SENDS_RULE].records == 1
    assert await _count(TwoFactorChallenge, tenant.id) == 0
    assert await _count(TrustedDevice, tenant.id) == 1
    results = {r.rule: r for r in await sweep(tenant.id, "twofactor", now=now + timedelta(days=366))}
    assert results[gdpr.DEVICES_RULE].records == 1
    assert await _count(TrustedDevice, tenant.id) == 0


async def test_anonymizing_an_employee_deletes_their_two_factor_rows(client, anon_client, tenant):
    from core.gdpr.engine import anonymize_records

    await setup_login_2fa(client, tenant)
    ann_id, ann = await add_employee(tenant, "Ann Gone")
    bo_id, bo = await add_employee(tenant, "Bo Stays", mobile="+46709998877")
    await _login_and_trust(anon_client, tenant, ann)
    await make_recovery_codes(anon_client)
    await anon_client.post("/api/auth/logout")
    await forget_last_send(tenant.id)
    await _login_and_trust(anon_client, tenant, bo)
    await make_recovery_codes(anon_client)
    assert await TwoFactorRecoveryCode.count().where(TwoFactorRecoveryCode.employee_id == ann_id) == 10
    await services.start_app_enrolment(tenant.id, "employee", ann_id)  # her app (pending) goes too
    from plugins.twofactor import passkeys
    from plugins.twofactor.tables import TwoFactorPasskey
    from tests.passkey_kit import SoftAuthenticator

    challenge_id, options = await passkeys.start_registration(tenant.id, "employee", ann_id)  # her passkey too
    await passkeys.finish_registration(tenant.id, "employee", ann_id, challenge_id,
                                       SoftAuthenticator().create(options), "Ann's key")
    assert await anonymize_records(tenant.id, "core", "core.employees", [ann_id], "test") == 1
    for table in (TwoFactorChallenge, TrustedDevice, TwoFactorSend, TwoFactorPerson, TwoFactorRecoveryCode,
                  TwoFactorApp, TwoFactorPasskey):
        assert await table.count().where(table.employee_id == ann_id) == 0, table
    assert await TrustedDevice.count().where(TrustedDevice.employee_id == bo_id) == 1
    assert await TwoFactorRecoveryCode.count().where(TwoFactorRecoveryCode.employee_id == bo_id) == 10


def test_the_tables_are_declared_once_as_records():
    """#18.4: ``declare_records`` is the declaration; only the organization's own settings
    and counts (no records, nobody's data) stay in ``declare_personal_data``. The records
    are opened by nobody: no record type, and person search never reads a code, hash or token."""
    host = get_host()
    plugin = host.plugin("twofactor")
    for hook in ("declare_retention_rules", "declare_search_sources", "declare_record_types"):
        assert not hasattr(plugin, hook), hook
    specs = {s.name: s for s in host.records_by_plugin()["twofactor"]}
    assert set(specs) == {"challenge", "device", "send", "person", "recovery", "app", "passkey"}
    assert not any(s.path or s.opens for s in specs.values())
    own = host.collect_by_plugin("declare_personal_data")["twofactor"]
    assert {f.table._meta.tablename for f in own} >= {"twofactor_challenge", "twofactor_settings"}
    decl = get_declarations()
    assert not [key for key in decl.record_types if key[0] == "twofactor"]
    sources = host.collect_by_plugin("declare_search_sources")["twofactor"]
    searched = {(s.table._meta.tablename, s.column) for s in sources}
    assert ("twofactor_challenge", "phone_masked") in searched
    assert ("twofactor_challenge", "signer_name") in searched
    secret = {"id_hash", "code_hmac", "subject_hash", "token_hash", "code_hash", "label", "person_kind", "secret_enc"}
    assert not {column for _, column in searched} & secret
    # Recovery codes are found only through the person they belong to, never by a hash.
    assert {c for t, c in searched if t == "twofactor_recovery"} <= {"employee_id", "customer_id", "contact_id"}
    # The authenticator app likewise: never by its (encrypted) secret.
    assert {c for t, c in searched if t == "twofactor_app"} <= {"employee_id", "customer_id", "contact_id"}
    # Passkeys: found through their person only, never by key material or their name.
    assert {c for t, c in searched if t == "twofactor_passkey"} <= {"employee_id", "customer_id", "contact_id"}
