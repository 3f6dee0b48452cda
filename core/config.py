"""Settings come from the environment, read once per process.

Everything that two processes would need to share lives in the database, so settings are
only about where things are and how long they last, never state.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a whole number, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    broker_url: str | None
    plugins_allow: list[str] = field(default_factory=list)
    plugins_block: list[str] = field(default_factory=list)
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    reset_token_minutes: int = 30
    login_max_failures: int = 10
    login_window_minutes: int = 15
    reset_max_per_account: int = 3
    reset_max_per_address: int = 20
    reset_window_minutes: int = 60
    platform_token: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "gallra@localhost"
    smtp_starttls: bool = True
    delivery_max_attempts: int = 5
    sweep_interval_minutes: int = 60
    trust_proxy: bool = False
    base_url: str = "http://127.0.0.1:8000"
    owner_database_url: str | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path:
        return Path(self.database_url.split("://", 1)[1])


def load_settings() -> Settings:
    data_dir = Path(os.environ.get("GALLRA_DATA_DIR") or "data").resolve()
    db_url = os.environ.get("GALLRA_DATABASE_URL") or ""
    if not db_url:
        db_url = f"sqlite://{data_dir / 'gallra.sqlite'}"
    if not (db_url.startswith("sqlite://") or db_url.startswith(("postgres://", "postgresql://"))):
        raise SystemExit(
            "GALLRA_DATABASE_URL must start with postgresql:// (or be unset for the SQLite default)"
        )
    return Settings(
        data_dir=data_dir,
        database_url=db_url,
        broker_url=os.environ.get("GALLRA_BROKER_URL") or None,
        plugins_allow=_split(os.environ.get("GALLRA_PLUGINS")),
        plugins_block=_split(os.environ.get("GALLRA_DISABLE_PLUGINS")),
        session_idle_minutes=_int("GALLRA_SESSION_IDLE_MINUTES", 30),
        session_max_hours=_int("GALLRA_SESSION_MAX_HOURS", 12),
        reset_token_minutes=_int("GALLRA_RESET_TOKEN_MINUTES", 30),
        login_max_failures=_int("GALLRA_LOGIN_MAX_FAILURES", 10),
        login_window_minutes=_int("GALLRA_LOGIN_WINDOW_MINUTES", 15),
        reset_max_per_account=_int("GALLRA_RESET_MAX_PER_ACCOUNT", 3),
        reset_max_per_address=_int("GALLRA_RESET_MAX_PER_ADDRESS", 20),
        reset_window_minutes=_int("GALLRA_RESET_WINDOW_MINUTES", 60),
        platform_token=os.environ.get("GALLRA_PLATFORM_TOKEN") or None,
        smtp_host=os.environ.get("GALLRA_SMTP_HOST") or None,
        smtp_port=_int("GALLRA_SMTP_PORT", 587),
        smtp_user=os.environ.get("GALLRA_SMTP_USER") or None,
        smtp_password=os.environ.get("GALLRA_SMTP_PASSWORD") or None,
        smtp_from=os.environ.get("GALLRA_SMTP_FROM") or "gallra@localhost",
        smtp_starttls=(os.environ.get("GALLRA_SMTP_STARTTLS", "1") not in ("0", "false", "no")),
        delivery_max_attempts=_int("GALLRA_DELIVERY_MAX_ATTEMPTS", 5),
        sweep_interval_minutes=_int("GALLRA_SWEEP_INTERVAL_MINUTES", 60),
        trust_proxy=os.environ.get("GALLRA_TRUST_PROXY", "0") in ("1", "true", "yes"),
        base_url=os.environ.get("GALLRA_BASE_URL") or "http://127.0.0.1:8000",
        # Migrations run as the tables' owner; the application's role (GALLRA_DATABASE_URL)
        # need not own them, so PostgreSQL's row-level security applies to it.
        owner_database_url=os.environ.get("GALLRA_DATABASE_OWNER_URL") or None,
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
