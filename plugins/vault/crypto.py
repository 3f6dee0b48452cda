"""Envelope encryption for the vault: master key -> tenant key -> data key -> values.

* The **master key** (32 random bytes, one per *version*) comes from ``GALLRA_MASTER_KEY``
  or from the key file ``<GALLRA_DATA_DIR>/master.key`` (``GALLRA_MASTER_KEY_FILE``
  overrides the path). The key file is JSON, ``{"<version>": "<base64 key>", ...}``, created
  with mode 0600 on the first start of the embedded default. It is the one thing a backup of
  the database cannot replace: back it up separately.
* The **tenant key** of a master-key version is derived with HKDF-SHA256; the info string
  holds the tenant id and the version, so no two tenants (or versions) share a key.
* Every entry has a random 256-bit **data key**, stored wrapped (AES-256-GCM) by the tenant
  key. The wrap's associated data binds tenant, form, entry and key version.
* Every encrypted **value** is AES-256-GCM under the entry's data key with a fresh random
  96-bit nonce; its associated data binds tenant, form, entry, field and key version.

So a ciphertext copied to another field, entry or tenant, or a key version changed in the
database, fails GCM's tag check: :class:`VaultIntegrityError`, never garbage. Nothing here
logs or puts key material or values into messages.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import hmac
import json
import logging
import os
import secrets
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = logging.getLogger(__name__)

KEY_BYTES = 32
NONCE_BYTES = 12
ENV_KEY = "GALLRA_MASTER_KEY"
ENV_KEY_FILE = "GALLRA_MASTER_KEY_FILE"
KEY_FILE_NAME = "master.key"
_FORMAT = "gallra-vault/v1"


class VaultCryptoError(Exception):
    """Base of the vault's cryptographic errors; messages are safe to show."""


class VaultIntegrityError(VaultCryptoError):
    """A stored value or wrapped key failed authentication: tampered, moved or wrong key."""

    def __init__(self, what: str = "value"):
        self.what = what
        super().__init__(
            f"The stored {what} failed its integrity check: it was changed, copied from "
            "another place, or the master key is not the one it was encrypted with. "
            "Nothing was decrypted."
        )


class MasterKeyError(VaultCryptoError):
    """The master key is missing, malformed or not the one the data was encrypted with."""


class MasterKeyMissing(MasterKeyError):
    pass


# --- the key ring ---------------------------------------------------------------------


@dataclass(frozen=True)
class KeyRing:
    """Master keys by version, and where they came from (for messages, never the keys)."""

    keys: Mapping[int, bytes]
    source: str
    path: Path | None = None

    @property
    def from_env(self) -> bool:
        return self.path is None

    @property
    def latest(self) -> int:
        return max(self.keys)

    def get(self, version: int) -> bytes:
        key = self.keys.get(version)
        if key is None:
            raise MasterKeyMissing(
                f"Master key version {version} is not in {self.source}. Restore the key file "
                "from your backup (or add the version to GALLRA_MASTER_KEY) on every process."
            )
        return key

    def __repr__(self) -> str:  # never print the keys
        return f"KeyRing(versions={sorted(self.keys)}, source={self.source!r})"


def key_file_path(data_dir: Path) -> Path:
    override = os.environ.get(ENV_KEY_FILE)
    return Path(override) if override else data_dir / KEY_FILE_NAME


def _parse_key(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MasterKeyError(f"{where} is not base64.") from exc
    if len(key) != KEY_BYTES:
        raise MasterKeyError(f"{where} must be {KEY_BYTES} bytes (base64 of 32 random bytes).")
    return key


def _parse_ring_json(text: str, where: str) -> dict[int, bytes]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise MasterKeyError(f"{where} is not valid JSON of version -> base64 key.") from exc
    if not isinstance(data, dict) or not data:
        raise MasterKeyError(f"{where} must be a JSON object of version -> base64 key.")
    out: dict[int, bytes] = {}
    for version, value in data.items():
        try:
            v = int(version)
        except (TypeError, ValueError) as exc:
            raise MasterKeyError(f"{where}: key versions must be whole numbers.") from exc
        if v < 1 or not isinstance(value, str):
            raise MasterKeyError(f"{where}: version {version} must be >= 1 with a base64 key.")
        out[v] = _parse_key(value, f"{where} version {v}")
    return out


def _ring_from_env(value: str) -> KeyRing:
    text = value.strip()
    keys = _parse_ring_json(text, ENV_KEY) if text.startswith("{") else {1: _parse_key(text, ENV_KEY)}
    return KeyRing(keys=keys, source=ENV_KEY)


def _read_key_file(path: Path) -> KeyRing:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise MasterKeyMissing(f"The key file {path} does not exist.") from exc
    except OSError as exc:
        raise MasterKeyError(f"The key file {path} cannot be read ({type(exc).__name__}).") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("the vault key file %s is readable by others; chmod 600 it", path)
    return KeyRing(keys=_parse_ring_json(text, f"The key file {path}"), source=f"the key file {path}", path=path)


def _dump(keys: Mapping[int, bytes]) -> bytes:
    return json.dumps(
        {str(v): base64.b64encode(k).decode() for v, k in sorted(keys.items())}, indent=1
    ).encode()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Serialize key-file writers of this machine (first start, rotation)."""
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _write_new(path: Path, content: bytes) -> None:
    """Write the key file atomically with mode 0600 (a crash leaves the old file intact)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, content)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def load_ring(data_dir: Path, create: bool = False) -> KeyRing:
    """The master keys from GALLRA_MASTER_KEY, else the key file (created if ``create``)."""
    env = os.environ.get(ENV_KEY)
    if env:
        return _ring_from_env(env)
    path = key_file_path(data_dir)
    if path.exists() or not create:
        return _read_key_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(path):
        if not path.exists():  # another process of this machine may have won
            _write_new(path, _dump({1: AESGCM.generate_key(bit_length=256)}))
            log.warning(
                "created the vault master key file %s (mode 0600): back it up, without it "
                "encrypted secure data cannot be read",
                path,
            )
    return _read_key_file(path)


def add_key_version(ring: KeyRing, version: int) -> KeyRing:
    """Append a new random master key ``version`` to the key file; the old ones stay."""
    if ring.path is None:
        raise MasterKeyError(
            "The master key comes from GALLRA_MASTER_KEY: add the new version there as JSON "
            '({"1": "<old>", "2": "<new>"}) on every process, restart them, then run the '
            "rotation again."
        )
    with _file_lock(ring.path):
        current = _read_key_file(ring.path)
        if version in current.keys:
            raise MasterKeyError(f"Master key version {version} already exists in {current.source}.")
        keys = dict(current.keys)
        keys[version] = AESGCM.generate_key(bit_length=256)
        _write_new(ring.path, _dump(keys))
    return _read_key_file(ring.path)


# --- derivations ----------------------------------------------------------------------


def _hkdf(master: bytes, info: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info.encode()).derive(
        master
    )


def tenant_key(master: bytes, tenant_id: int, version: int) -> bytes:
    return _hkdf(master, f"{_FORMAT}|tenant-key|tenant={int(tenant_id)}|version={int(version)}")


def key_check(master: bytes, version: int) -> str:
    """A value stored in the database that proves a key is the right one, revealing nothing."""
    check_key = _hkdf(master, f"{_FORMAT}|key-check|version={int(version)}")
    return hmac.new(check_key, f"{_FORMAT}|check|{int(version)}".encode(), hashlib.sha256).hexdigest()


def check_matches(master: bytes, version: int, stored: str) -> bool:
    return hmac.compare_digest(key_check(master, version), stored)


def wrap_ad(tenant_id: int, form_id: int, entry_id: int, version: int) -> bytes:
    return (
        f"{_FORMAT}|data-key|tenant={int(tenant_id)}|form={int(form_id)}"
        f"|entry={int(entry_id)}|version={int(version)}"
    ).encode()


def value_ad(tenant_id: int, form_id: int, entry_id: int, field_id: int, version: int) -> bytes:
    return (
        f"{_FORMAT}|value|tenant={int(tenant_id)}|form={int(form_id)}|entry={int(entry_id)}"
        f"|field={int(field_id)}|version={int(version)}"
    ).encode()


# --- sealing ---------------------------------------------------------------------------


def _seal(key: bytes, plaintext: bytes, ad: bytes) -> str:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, plaintext, ad)).decode()


def _open(key: bytes, token: str, ad: bytes, what: str) -> bytes:
    try:
        raw = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise VaultIntegrityError(what) from exc
    if len(raw) < NONCE_BYTES + 16:
        raise VaultIntegrityError(what)
    try:
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], ad)
    except InvalidTag as exc:
        raise VaultIntegrityError(what) from exc


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def wrap_data_key(
    ring: KeyRing, version: int, tenant_id: int, form_id: int, entry_id: int, data_key: bytes
) -> str:
    kek = tenant_key(ring.get(version), tenant_id, version)
    return _seal(kek, data_key, wrap_ad(tenant_id, form_id, entry_id, version))


def unwrap_data_key(
    ring: KeyRing, version: int, tenant_id: int, form_id: int, entry_id: int, wrapped: str
) -> bytes:
    kek = tenant_key(ring.get(version), tenant_id, version)
    key = _open(kek, wrapped, wrap_ad(tenant_id, form_id, entry_id, version), "data key")
    if len(key) != KEY_BYTES:
        raise VaultIntegrityError("data key")
    return key


def encrypt_value(
    data_key: bytes, tenant_id: int, form_id: int, entry_id: int, field_id: int, version: int, plaintext: str
) -> str:
    return _seal(data_key, plaintext.encode("utf-8"), value_ad(tenant_id, form_id, entry_id, field_id, version))


def decrypt_value(
    data_key: bytes, tenant_id: int, form_id: int, entry_id: int, field_id: int, version: int, token: str
) -> str:
    raw = _open(data_key, token, value_ad(tenant_id, form_id, entry_id, field_id, version), "value")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:  # authenticated, so only if we wrote bytes that were not text
        raise VaultIntegrityError("value") from exc
