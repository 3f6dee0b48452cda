"""The envelope encryption itself: round trips, tampering, key files. No database."""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest

from plugins.vault import crypto
from plugins.vault.crypto import KeyRing, MasterKeyError, MasterKeyMissing, VaultIntegrityError

K1 = bytes(range(32))
K2 = bytes(range(1, 33))
RING = KeyRing(keys={1: K1, 2: K2}, source="test")


def _entry(tenant: int = 7, form: int = 3, entry: int = 11, version: int = 1) -> tuple[bytes, str]:
    dek = crypto.new_data_key()
    return dek, crypto.wrap_data_key(RING, version, tenant, form, entry, dek)


def test_round_trip_and_fresh_nonce_per_value() -> None:
    dek, wrapped = _entry()
    assert crypto.unwrap_data_key(RING, 1, 7, 3, 11, wrapped) == dek
    a = crypto.encrypt_value(dek, 7, 3, 11, 5, 1, "hemligt")
    b = crypto.encrypt_value(dek, 7, 3, 11, 5, 1, "hemligt")
    assert a != b  # a fresh random nonce each time
    assert base64.b64decode(a)[:12] != base64.b64decode(b)[:12]
    assert crypto.decrypt_value(dek, 7, 3, 11, 5, 1, a) == "hemligt"
    assert "hemligt" not in a


def test_tenant_keys_differ_by_tenant_and_version() -> None:
    assert crypto.tenant_key(K1, 1, 1) != crypto.tenant_key(K1, 2, 1)
    assert crypto.tenant_key(K1, 1, 1) != crypto.tenant_key(K1, 1, 2)
    assert crypto.tenant_key(K1, 1, 1) != crypto.tenant_key(K2, 1, 1)


@pytest.mark.parametrize(
    "where",
    [
        dict(tenant=8),  # another tenant
        dict(form=4),  # another form
        dict(entry=12),  # another entry
        dict(field=6),  # another field
        dict(version=2),  # another key version
    ],
)
def test_value_moved_anywhere_fails_its_integrity_check(where: dict[str, int]) -> None:
    dek, _ = _entry()
    token = crypto.encrypt_value(dek, 7, 3, 11, 5, 1, "hemligt")
    args = dict(tenant=7, form=3, entry=11, field=5, version=1)
    args.update(where)
    with pytest.raises(VaultIntegrityError, match="integrity check"):
        crypto.decrypt_value(dek, args["tenant"], args["form"], args["entry"], args["field"], args["version"], token)


@pytest.mark.parametrize("where", [dict(tenant=8), dict(form=4), dict(entry=12), dict(version=2)])
def test_wrapped_key_moved_anywhere_fails(where: dict[str, int]) -> None:
    _, wrapped = _entry()
    args = dict(tenant=7, form=3, entry=11, version=1)
    args.update(where)
    with pytest.raises(VaultIntegrityError):
        crypto.unwrap_data_key(RING, args["version"], args["tenant"], args["form"], args["entry"], wrapped)


@pytest.mark.parametrize("position", [0, 12, -1])
def test_flipped_bit_anywhere_fails(position: int) -> None:
    dek, _ = _entry()
    raw = bytearray(base64.b64decode(crypto.encrypt_value(dek, 7, 3, 11, 5, 1, "hemligt")))
    raw[position] ^= 0x01
    with pytest.raises(VaultIntegrityError):
        crypto.decrypt_value(dek, 7, 3, 11, 5, 1, base64.b64encode(bytes(raw)).decode())


@pytest.mark.parametrize("token", ["", "not base64 !!", base64.b64encode(b"short").decode()])
def test_garbage_tokens_fail_cleanly(token: str) -> None:
    dek, _ = _entry()
    with pytest.raises(VaultIntegrityError):
        crypto.decrypt_value(dek, 7, 3, 11, 5, 1, token)


def test_wrong_master_key_fails() -> None:
    _dek, wrapped = _entry()
    other = KeyRing(keys={1: K2}, source="other")
    with pytest.raises(VaultIntegrityError):
        crypto.unwrap_data_key(other, 1, 7, 3, 11, wrapped)


def test_missing_version_names_the_version_not_the_key() -> None:
    with pytest.raises(MasterKeyMissing, match="version 9") as info:
        RING.get(9)
    assert base64.b64encode(K1).decode() not in str(info.value)
    assert "K1" not in repr(RING) and base64.b64encode(K1).decode() not in repr(RING)


def test_key_check_proves_the_key_without_revealing_it() -> None:
    check = crypto.key_check(K1, 1)
    assert crypto.check_matches(K1, 1, check)
    assert not crypto.check_matches(K2, 1, check)
    assert not crypto.check_matches(K1, 2, check)
    assert base64.b64encode(K1).decode() not in check and K1.hex() not in check


def test_key_file_is_created_0600_once_and_kept(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(crypto.ENV_KEY, raising=False)
    monkeypatch.delenv(crypto.ENV_KEY_FILE, raising=False)
    with pytest.raises(MasterKeyMissing):
        crypto.load_ring(tmp_path, create=False)
    ring = crypto.load_ring(tmp_path, create=True)
    path = tmp_path / "master.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert list(ring.keys) == [1] and len(ring.keys[1]) == 32
    again = crypto.load_ring(tmp_path, create=True)
    assert again.keys == ring.keys  # never replaced


def test_add_version_keeps_old_keys(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(crypto.ENV_KEY, raising=False)
    monkeypatch.setenv(crypto.ENV_KEY_FILE, str(tmp_path / "k.json"))
    ring = crypto.load_ring(tmp_path, create=True)
    bigger = crypto.add_key_version(ring, 2)
    assert bigger.keys[1] == ring.keys[1] and len(bigger.keys[2]) == 32
    assert stat.S_IMODE(os.stat(tmp_path / "k.json").st_mode) == 0o600
    data = json.loads((tmp_path / "k.json").read_text())
    assert sorted(data) == ["1", "2"]
    with pytest.raises(MasterKeyError, match="already exists"):
        crypto.add_key_version(bigger, 2)


def test_env_key_single_and_json(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(crypto.ENV_KEY, base64.b64encode(K1).decode())
    ring = crypto.load_ring(tmp_path)
    assert ring.keys == {1: K1} and ring.from_env
    monkeypatch.setenv(
        crypto.ENV_KEY, json.dumps({"1": base64.b64encode(K1).decode(), "3": base64.b64encode(K2).decode()})
    )
    assert crypto.load_ring(tmp_path).keys == {1: K1, 3: K2}
    with pytest.raises(MasterKeyError, match="GALLRA_MASTER_KEY"):
        crypto.add_key_version(crypto.load_ring(tmp_path), 4)


@pytest.mark.parametrize(
    "value, message",
    [
        ("not-base64!!", "not base64"),
        (base64.b64encode(b"too short").decode(), "32 bytes"),
        ('{"x": "abc"}', "whole numbers"),
        ("{broken", "not valid JSON"),
    ],
)
def test_bad_env_key_is_a_clear_error(monkeypatch, tmp_path, value: str, message: str) -> None:
    monkeypatch.setenv(crypto.ENV_KEY, value)
    with pytest.raises(MasterKeyError, match=message) as info:
        crypto.load_ring(tmp_path)
    assert value not in str(info.value) or len(value) < 12
