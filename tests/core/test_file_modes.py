"""#17.15: the data folder, the SQLite file (with its -wal and -shm files) and the key file
are created for this user only (0700 / 0600), whatever the umask lets others read."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest


@pytest.fixture
def loose_umask():
    old = os.umask(0o022)  # the usual umask: files 0644, folders 0755
    yield
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_sqlite_file_and_data_folder_are_private(tmp_path, monkeypatch, loose_umask):
    from core.config import load_settings
    from core.db import make_engine

    data = tmp_path / "data"
    monkeypatch.setenv("GALLRA_DATA_DIR", str(data))
    monkeypatch.delenv("GALLRA_DATABASE_URL", raising=False)
    settings = load_settings()
    make_engine(settings)
    db = settings.sqlite_path
    assert db.parent == data
    assert _mode(data) == 0o700
    assert _mode(db) == 0o600
    con = sqlite3.connect(db)  # as the engine's connections do: WAL, a write
    try:
        con.execute("CREATE TABLE t (x INTEGER)")
        con.execute("INSERT INTO t VALUES (1)")
        con.commit()
        for suffix in ("-wal", "-shm"):
            side = db.with_name(db.name + suffix)
            assert side.exists(), suffix
            assert _mode(side) == 0o600, suffix
    finally:
        con.close()
    make_engine(settings)  # an existing file is opened as it is
    assert _mode(db) == 0o600


def test_key_file_folder_is_private(tmp_path, monkeypatch, loose_umask):
    from core import security
    from core.config import get_settings

    data = tmp_path / "keys"
    monkeypatch.delenv(security.SECRET_KEY_ENV, raising=False)
    monkeypatch.setattr(
        "core.config.get_settings", lambda: get_settings().__class__(
            **{**get_settings().__dict__, "data_dir": data}
        )
    )
    assert len(security.secret_key()) >= 32
    assert _mode(data) == 0o700
    assert _mode(data / security.SECRET_KEY_FILE) == 0o600
