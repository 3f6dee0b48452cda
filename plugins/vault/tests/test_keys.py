"""The master key at run time: first start, the start-up check, rotation while running."""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest
from click.testing import CliRunner

from core.testing.client import AppClient
from plugins.vault.tests.conftest import SECRET_NOTE, SECRET_PASSWORD, build_world, reveal


async def test_startup_fails_clearly_when_the_key_is_missing(client, world, fresh_keys) -> None:
    from plugins.vault import keys
    from plugins.vault.crypto import MasterKeyError

    assert not fresh_keys.exists()
    with pytest.raises(MasterKeyError, match="master key is missing") as info:
        await keys.check_keys()
    assert str(fresh_keys) in str(info.value) and "backup" in str(info.value)
    assert not fresh_keys.exists()  # never a new key while data needs the old one


async def test_startup_fails_clearly_with_a_wrong_key(client, world, fresh_keys, vault_host) -> None:
    from core.app import create_app
    from plugins.vault.keys import VaultStartupError
    from plugins.vault.tables import VaultKeyVersion

    # A wrong key for every version the database has registered (the rotation tests add
    # version 2; whether they ran before this one depends on the order and the xdist worker).
    versions = {int(r["version"]) for r in await VaultKeyVersion.select(VaultKeyVersion.version)} or {1}
    fresh_keys.write_text(json.dumps({str(v): base64.b64encode(os.urandom(32)).decode() for v in versions}))
    fresh_keys.chmod(0o600)
    app = create_app(vault_host, check_migrations=False)
    with pytest.raises(BaseException) as info:
        async with AppClient(app=app):
            pass
    errors = list(_flatten(info.value))
    assert any(
        isinstance(e, VaultStartupError) and "not the key the stored secure data was encrypted with" in str(e)
        for e in errors
    ), errors


def _flatten(exc: BaseException):
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _flatten(inner)
    else:
        yield exc


async def test_startup_fails_with_a_malformed_key(client, world, fresh_keys, monkeypatch) -> None:
    from plugins.vault import keys
    from plugins.vault.crypto import MasterKeyError

    monkeypatch.setenv("GALLRA_MASTER_KEY", "c2hvcnQ=")
    with pytest.raises(MasterKeyError, match="32 bytes"):
        await keys.check_keys()


async def test_first_start_creates_the_key_file_0600(client, fresh_keys) -> None:
    """With no encrypted data yet (an empty vault), the first start makes the key."""
    from plugins.vault import keys
    from plugins.vault.tables import VaultEntry, VaultKeyVersion

    await VaultEntry.delete(force=True)
    ring = await keys.check_keys()
    assert fresh_keys.exists()
    assert stat.S_IMODE(fresh_keys.stat().st_mode) == 0o600
    assert list(ring.keys) == [1]
    active = await VaultKeyVersion.select().where(VaultKeyVersion.status == "active")
    assert [r["version"] for r in active] == [1]
    # A second start reads the same file and agrees with the registry.
    keys.reset_cache()
    assert (await keys.check_keys()).keys == ring.keys


@pytest.mark.slow
async def test_rotation_round_trip_while_requests_keep_working(client) -> None:
    from plugins.vault import keys
    from plugins.vault.tables import VaultEntry, VaultKeyVersion

    w = await build_world(client)
    ids = [w.entry["id"]]
    for i in range(5):
        r = await w.writer.post(
            "/api/vault/entries",
            json={"form_id": w.form["id"], "customer_id": w.customer_id, "values": w.values(Lösenord=f"pw-{i}")},
        )
        ids.append(r.json()["id"])
    before = await keys.active_version()
    seen: list[tuple[int, int]] = []

    async def during(batch: int, done: int) -> None:
        # Mid-rotation: old and new versions side by side, everything readable and writable.
        seen.append((batch, done))
        if batch == 1:
            versions = {r["key_version"] for r in await VaultEntry.select(VaultEntry.key_version)}
            assert len(versions) == 2
        shown = await reveal(w.reader, ids[5])
        assert shown.status_code == 200 and shown.json()["values"][0]["value"] == "pw-4"
        shown = await reveal(w.reader, ids[0])
        assert shown.status_code == 200 and shown.json()["values"][0]["value"] == SECRET_PASSWORD
        r = await w.writer.post(
            "/api/vault/entries",
            json={"form_id": w.form["id"], "customer_id": w.customer_id, "values": w.values(Lösenord=f"new-{batch}")},
        )
        assert r.status_code == 201
        ids.append(r.json()["id"])
        r = await w.writer.patch(
            f"/api/vault/entries/{ids[1]}", json={"values": w.values(Anteckning=f"edited-{batch}")}
        )
        assert r.status_code == 200

    # About five batches, whatever else the session left in the table.
    batch = max(2, await VaultEntry.count() // 5)
    result = await keys.rotate(batch_size=batch, on_batch=during)
    assert result.version == before + 1 and result.failed == 0
    assert before in result.retired
    assert len(seen) >= 2
    rows = await VaultEntry.select(VaultEntry.id, VaultEntry.key_version).where(VaultEntry.id.is_in(ids))
    assert {r["key_version"] for r in rows} == {result.version}
    # Every value (written before, during and after) still decrypts.
    for eid in ids:
        assert (await reveal(w.reader, eid)).status_code == 200
    shown = {v["name"]: v["value"] for v in (await reveal(w.reader, ids[1])).json()["values"]}
    assert shown["Anteckning"].startswith("edited-")
    assert {v["name"]: v["value"] for v in (await reveal(w.reader, ids[0])).json()["values"]}[
        "Anteckning"
    ] == SECRET_NOTE
    statuses = {r["version"]: r["status"] for r in await VaultKeyVersion.select()}
    assert statuses[result.version] == "active" and statuses[before] == "retired"
    ring = await keys.get_ring()
    assert before in ring.keys and result.version in ring.keys  # the old key is kept


async def test_resume_finishes_an_interrupted_rotation(client) -> None:
    from plugins.vault import keys
    from plugins.vault.tables import VaultEntry, VaultKeyVersion

    w = await build_world(client)

    class Stop(Exception):
        pass

    async def crash(batch: int, done: int) -> None:
        raise Stop

    before = await keys.active_version()
    with pytest.raises(Stop):
        await keys.rotate(batch_size=1, on_batch=crash)
    statuses = {r["version"]: r["status"] for r in await VaultKeyVersion.select()}
    assert statuses[before + 1] == "active" and statuses[before] == "retiring"
    assert (await reveal(w.reader, w.entry["id"])).status_code == 200  # meanwhile still fine
    result = await keys.rotate(batch_size=100, resume=True)
    assert result.version == before + 1 and before in result.retired
    assert not await VaultEntry.exists().where(VaultEntry.key_version != result.version)


def test_cli_rotate_key(vault_host) -> None:
    """``gallra vault rotate-key`` comes in through the register_commands hook."""
    import asyncio

    from core.cli import cli
    from plugins.vault import keys

    for _ in vault_host.pm.hook.register_commands(cli=cli):
        pass
    assert "vault" in cli.commands
    before = asyncio.run(keys.active_version())
    keys.reset_cache()
    result = CliRunner().invoke(cli, ["vault", "rotate-key", "--batch-size", "3"])
    assert result.exit_code == 0, result.output
    assert f"Master key version {before + 1} is active" in result.output
    assert "Retired version(s)" in result.output
    keys.reset_cache()
    assert asyncio.run(keys.active_version()) == before + 1
    bad = CliRunner().invoke(cli, ["vault", "rotate-key", "--batch-size", "0"])
    assert bad.exit_code == 2


async def test_rotation_with_env_keys(client, monkeypatch) -> None:
    """With GALLRA_MASTER_KEY the operator adds the version everywhere first."""
    from core.config import get_settings
    from plugins.vault import crypto, keys
    from plugins.vault.crypto import MasterKeyError

    w = await build_world(client)
    path = crypto.key_file_path(get_settings().data_dir)
    current = json.loads(path.read_text())
    monkeypatch.setenv("GALLRA_MASTER_KEY", json.dumps(current))
    keys.reset_cache()
    with pytest.raises(MasterKeyError, match="add a new version there"):
        await keys.rotate()
    newest = max(int(v) for v in current) + 5
    current[str(newest)] = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("GALLRA_MASTER_KEY", json.dumps(current))
    keys.reset_cache()
    result = await keys.rotate(batch_size=50)
    assert result.version == newest
    assert (await reveal(w.reader, w.entry["id"])).json()["values"][0]["value"] == SECRET_PASSWORD
    # Leave the session's key file agreeing with the data for the tests that follow.
    path.write_text(json.dumps(current))
    monkeypatch.delenv("GALLRA_MASTER_KEY")
    keys.reset_cache()
    await keys.check_keys()


@pytest.mark.slow
async def test_rotation_concurrent_with_requests(client) -> None:
    """``gallra vault rotate-key`` in another thread (its own event loop, as the command
    runs in its own process) while the application serves requests: nothing fails,
    nothing is lost."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from plugins.vault import keys
    from plugins.vault.tables import VaultEntry

    w = await build_world(client)
    for i in range(6):
        await w.writer.post(
            "/api/vault/entries",
            json={"form_id": w.form["id"], "customer_id": w.customer_id, "values": w.values(Lösenord=f"c-{i}")},
        )

    async def slow(number: int, done: int) -> None:
        await asyncio.sleep(0.05)

    pool = ThreadPoolExecutor(max_workers=1)
    batch = max(1, await VaultEntry.count() // 10)
    rotation = pool.submit(lambda: asyncio.run(keys.rotate(batch_size=batch, on_batch=slow)))
    statuses: list[int] = []
    created: list[int] = []
    # (The test client blocks this loop while it serves a request, so the thread's future
    # is polled directly.)
    while not rotation.done() or not created:
        statuses.append((await reveal(w.reader, w.entry["id"])).status_code)
        r = await w.writer.post(
            "/api/vault/entries",
            json={"form_id": w.form["id"], "customer_id": w.customer_id, "values": w.values(Lösenord="during")},
        )
        statuses.append(r.status_code)
        created.append(r.json()["id"])
    result = rotation.result(timeout=60)
    pool.shutdown()
    assert set(statuses) <= {200, 201}, statuses
    assert result.failed == 0
    assert not await VaultEntry.exists().where(VaultEntry.key_version != result.version)
    for eid in created:
        assert (await reveal(w.reader, eid)).json()["values"][0]["value"] == "during"
