"""Applying and checking every app's migrations (the core's and each plugin's)."""

from __future__ import annotations

import contextlib
import io

from piccolo.apps.migrations.commands.check import CheckMigrationManager
from piccolo.apps.migrations.commands.forwards import run_forwards


async def pending_migrations() -> list[str]:
    """``app:migration_id`` of every migration not yet applied."""
    statuses = await CheckMigrationManager(app_name="all").get_migration_statuses()
    return [f"{s.app_name}:{s.migration_id}" for s in statuses if not s.has_ran]


async def migrate(quiet: bool = True) -> list[str]:
    """Apply all pending migrations; return what was applied."""
    pending = await pending_migrations()
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer) if quiet else contextlib.nullcontext():
        result = await run_forwards(app_name="all")
    if not result.success:
        raise SystemExit(f"Migration failed: {result.message}\n{buffer.getvalue()}")
    from core.gdpr.search import ensure_index

    await ensure_index()  # the search index's triggers follow the tables
    return pending
