"""Small cryptographic helpers shared by auth, two-factor and the vault."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any


def new_token(nbytes: int = 32) -> str:
    """A random URL-safe token (256 bits by default)."""
    return secrets.token_urlsafe(nbytes)


def token_hash(token: str) -> str:
    """Tokens are stored only as their SHA-256, so a database leak reveals no session."""
    return hashlib.sha256(token.encode()).hexdigest()


def constant_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


# --- files only this user may read ---------------------------------------------------------


def private_dir(path: Any) -> None:
    """Create the folder ``path`` (and missing parents) if it is missing; the folder itself
    gets mode 0700, so other local users cannot list or read the data, keys and database in
    it. An existing folder is left as it is (its owner chose its mode)."""
    from pathlib import Path

    Path(path).mkdir(mode=0o700, parents=True, exist_ok=True)


def private_file(path: Any) -> bool:
    """Create the empty file ``path`` with mode 0600 if it is missing (True if it made it).
    An empty file is a valid empty SQLite database, and SQLite gives its ``-wal``,
    ``-shm`` and journal files the database file's mode."""
    import os

    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    os.close(fd)
    return True


# --- the installation's secret key (HMAC of one-time codes) -------------------------------

SECRET_KEY_ENV = "GALLRA_SECRET_KEY"
SECRET_KEY_FILE = "secret.key"
_key_cache: dict[str, bytes] = {}


def secret_key() -> bytes:
    """The installation's secret: ``GALLRA_SECRET_KEY``, else ``<GALLRA_DATA_DIR>/secret.key``.

    The file is created (mode 0600, 256 random bits) on first use. Every web and worker
    process of an installation must see the same key: set the variable, or share the data
    directory. The key never goes into the database, so a database leak alone does not let
    anyone test guesses of a code offline.
    """
    import os

    env = os.environ.get(SECRET_KEY_ENV, "")
    if env:
        if len(env) < 32:
            raise SystemExit(f"{SECRET_KEY_ENV} must be at least 32 characters long")
        return env.encode()
    from core.config import get_settings

    path = get_settings().data_dir / SECRET_KEY_FILE
    cached = _key_cache.get(str(path))
    if cached is not None:
        return cached
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = b""
        for _ in range(50):  # another process may be writing it this very moment
            key = path.read_text().strip().encode()
            if key:
                break
            import time

            time.sleep(0.01)
    else:
        # O_EXCL: of two processes starting at once, exactly one writes the key.
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        key = path.read_text().strip().encode()
    if len(key) < 32:
        raise SystemExit(f"{path} holds no usable key; delete it to have a new one made")
    _key_cache[str(path)] = key
    return key


def keyed_hash(message: str) -> str:
    """HMAC-SHA256 of ``message`` under the installation's secret key (hex)."""
    return hmac.new(secret_key(), message.encode(), hashlib.sha256).hexdigest()
