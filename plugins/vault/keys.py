"""The master key at run time: the start-up check, the per-process key ring, rotation.

The database is the source of truth about key versions (``vault_key_version``): which
version wraps new data keys, and a check value per version that proves a configured key is
the right one without storing anything that reveals it. Every process (web, worker, CLI)
reads the key material itself from ``GALLRA_MASTER_KEY`` or the key file; they must all
see the same keys.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from core.config import get_settings
from core.db import atomic, utcnow
from plugins.vault import crypto
from plugins.vault.crypto import KeyRing, MasterKeyError, MasterKeyMissing, VaultIntegrityError
from plugins.vault.tables import VaultEntry, VaultKeyVersion

log = logging.getLogger(__name__)

_ring: KeyRing | None = None


class VaultStartupError(SystemExit):
    """Raised from the start_up hook: the application must not serve with a bad key."""


def reset_cache() -> None:
    """Forget the loaded key ring (tests swap keys; a reload reads the source again)."""
    global _ring
    _ring = None


async def _versions_in_use() -> set[int]:
    rows = await VaultEntry.select(VaultEntry.key_version).distinct()
    return {int(r["key_version"]) for r in rows}


async def check_keys() -> KeyRing:
    """See :func:`_check_keys`; retried once when another process registered a version at
    the same moment (two web processes starting together on PostgreSQL)."""
    try:
        return await _check_keys()
    except MasterKeyError:
        raise
    except Exception as exc:
        log.info("vault key registration raced with another process (%s); checking again", type(exc).__name__)
        return await _check_keys()


async def _check_keys() -> KeyRing:
    """Load the master keys and prove they are the ones the stored data needs.

    * First start (nothing encrypted yet, no key configured): create the key file (0600).
    * Encrypted data exists and its key version is missing or fails its check value:
      :class:`MasterKeyError` with a message saying what to restore.
    * Registered versions no data uses that no longer match (the key file of an empty vault
      was replaced) are registered afresh: nothing can be lost.
    """
    global _ring
    data_dir = get_settings().data_dir
    in_use = await _versions_in_use()
    try:
        ring = crypto.load_ring(data_dir, create=False)
    except MasterKeyMissing as exc:
        if in_use:
            raise MasterKeyError(
                "Encrypted secure data exists but the vault's master key is missing: "
                f"{exc} Restore the key file from your backup or set GALLRA_MASTER_KEY; "
                "a new key cannot read the existing data."
            ) from exc
        ring = crypto.load_ring(data_dir, create=True)

    async with atomic():
        registered = await VaultKeyVersion.select().order_by(VaultKeyVersion.version)
        for row in registered:
            v = int(row["version"])
            key = ring.keys.get(v)
            ok = key is not None and crypto.check_matches(key, v, row["check_value"])
            if ok:
                continue
            if v in in_use:
                if key is None:
                    raise MasterKeyError(
                        f"Encrypted secure data needs master key version {v}, which is not in "
                        f"{ring.source}. Restore the key file from your backup (or add the "
                        "version to GALLRA_MASTER_KEY)."
                    )
                raise MasterKeyError(
                    f"The master key version {v} in {ring.source} is not the key the stored "
                    "secure data was encrypted with. Restore the right key file or "
                    "GALLRA_MASTER_KEY; the application will not start with a wrong key."
                )
            # No data needs this version: forget the stale registration.
            await VaultKeyVersion.delete().where(VaultKeyVersion.version == v)
            log.warning("vault key version %s did not match and no data used it; re-registered", v)
        active = (
            await VaultKeyVersion.select(VaultKeyVersion.version)
            .where(VaultKeyVersion.status == "active")
            .first()
        )
        if active is None:
            version = ring.latest
            master = ring.get(version)
            exists = await VaultKeyVersion.exists().where(VaultKeyVersion.version == version)
            if exists:
                await VaultKeyVersion.update(
                    {VaultKeyVersion.status: "active", VaultKeyVersion.retired_at: None}
                ).where(VaultKeyVersion.version == version)
            else:
                await VaultKeyVersion.insert(
                    VaultKeyVersion(
                        version=version, check_value=crypto.key_check(master, version), status="active"
                    )
                )
    _ring = ring
    return ring


async def get_ring(version: int | None = None) -> KeyRing:
    """The process's key ring; read again from its source when ``version`` is not in it
    (another process rotated the key file)."""
    global _ring
    if _ring is None:
        return await check_keys()
    if version is not None and version not in _ring.keys:
        with contextlib.suppress(MasterKeyError):
            _ring = crypto.load_ring(get_settings().data_dir, create=False)
    return _ring


async def active_version() -> int:
    """The version that wraps new data keys, read from the database (rotation changes it)."""
    row = (
        await VaultKeyVersion.select(VaultKeyVersion.version)
        .where(VaultKeyVersion.status == "active")
        .first()
    )
    if row is None:
        await check_keys()
        return await active_version()
    return int(row["version"])


@dataclass
class RotationResult:
    version: int
    rewrapped: int
    batches: int
    failed: int
    retired: list[int]


async def rotate(
    batch_size: int = 500,
    resume: bool = False,
    on_batch: Callable[[int, int], Awaitable[Any]] | None = None,
) -> RotationResult:
    """Add a master-key version and rewrap every entry's data key to it, in batches.

    Each batch is one short transaction (the application keeps serving; an entry's values
    are not touched, only its wrapped data key and key version). New entries use the new
    version as soon as it is active. Older versions are marked retired once no entry needs
    them; their keys stay in the key file. ``resume`` finishes an interrupted rotation
    without adding another version. ``on_batch(batch_number, rewrapped_so_far)`` runs
    after each committed batch.
    """
    ring = await check_keys()
    if not resume:
        registered = [int(r["version"]) for r in await VaultKeyVersion.select(VaultKeyVersion.version)]
        if ring.from_env:
            target = ring.latest
            if target <= max(registered, default=0):
                raise MasterKeyError(
                    "The master key comes from GALLRA_MASTER_KEY: add a new version there as "
                    'JSON ({"1": "<old key>", "2": "<new key>"}) on every process, restart them, '
                    "then run the rotation again."
                )
        else:
            target = max([*ring.keys, *registered]) + 1
            ring = crypto.add_key_version(ring, target)
        async with atomic():
            await VaultKeyVersion.update({VaultKeyVersion.status: "retiring"}).where(
                VaultKeyVersion.status == "active"
            )
            await VaultKeyVersion.insert(
                VaultKeyVersion(
                    version=target, check_value=crypto.key_check(ring.get(target), target), status="active"
                )
            )
        global _ring
        _ring = ring
        log.info("vault master key version %s is active; rewrapping data keys", target)
    else:
        target = await active_version()
        ring = await get_ring(target)

    rewrapped = batches = 0
    failed: set[int] = set()
    while True:
        last = 0
        while True:
            rows = (
                await VaultEntry.select(
                    VaultEntry.id,
                    VaultEntry.tenant_id,
                    VaultEntry.form_id,
                    VaultEntry.key_version,
                    VaultEntry.wrapped_key,
                )
                .where((VaultEntry.key_version != target) & (VaultEntry.id > last))
                .order_by(VaultEntry.id)
                .limit(batch_size)
            )
            if not rows:
                break
            last = int(rows[-1]["id"])
            async with atomic():
                for row in rows:
                    if row["id"] in failed:
                        continue
                    ids = (int(row["tenant_id"]), int(row["form_id"]), int(row["id"]))
                    try:
                        old = await get_ring(int(row["key_version"]))
                        data_key = crypto.unwrap_data_key(
                            old, int(row["key_version"]), *ids, row["wrapped_key"]
                        )
                    except (VaultIntegrityError, MasterKeyMissing):
                        failed.add(int(row["id"]))
                        log.error("vault entry %s: its data key could not be unwrapped; left as it is", row["id"])
                        continue
                    wrapped = crypto.wrap_data_key(ring, target, *ids, data_key)
                    done = await VaultEntry.update(
                        {VaultEntry.wrapped_key: wrapped, VaultEntry.key_version: target}
                    ).where(
                        (VaultEntry.id == row["id"]) & (VaultEntry.key_version == row["key_version"])
                    ).returning(VaultEntry.id)
                    rewrapped += len(done)
            batches += 1
            if on_batch is not None:
                await on_batch(batches, rewrapped)
        async with atomic():
            remaining = await VaultEntry.count().where(VaultEntry.key_version != target)
            if remaining - len(failed) > 0:
                continue  # entries written with the old version meanwhile: another pass
            retired: list[int] = []
            if not failed:
                rows = await VaultKeyVersion.update(
                    {VaultKeyVersion.status: "retired", VaultKeyVersion.retired_at: utcnow()}
                ).where(VaultKeyVersion.status == "retiring").returning(VaultKeyVersion.version)
                retired = sorted(int(r["version"]) for r in rows)
        return RotationResult(target, rewrapped, batches, len(failed), retired)
