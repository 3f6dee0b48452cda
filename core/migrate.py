"""Applying and checking every app's migrations (the core's and each plugin's)."""

from __future__ import annotations

import contextlib
import io

from piccolo.apps.migrations.commands.check import CheckMigrationManager
from piccolo.apps.migrations.commands.forwards import run_forwards


async def pending_migrations() -> list[str]:
    """``app:migration_id`` of every migration not yet applied."""
    from core.db import as_owner

    async with as_owner():  # Piccolo creates its migration table if it is missing
        return await _pending()


async def _pending() -> list[str]:
    statuses = await CheckMigrationManager(app_name="all").get_migration_statuses()
    return [f"{s.app_name}:{s.migration_id}" for s in statuses if not s.has_ran]


async def migrate(quiet: bool = True) -> list[str]:
    """Apply all pending migrations as the tables' owner; return what was applied."""
    from core.db import as_owner
    from core.gdpr.search import ensure_index
    from core.rls import ensure_rls

    async with as_owner():
        pending = await _pending()
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer) if quiet else contextlib.nullcontext():
            result = await run_forwards(app_name="all")
        if not result.success:
            raise SystemExit(f"Migration failed: {result.message}\n{buffer.getvalue()}")
        await ensure_index()  # the search index's triggers follow the tables
        await ensure_rls()  # and so does row-level security (PostgreSQL)
    return pending
