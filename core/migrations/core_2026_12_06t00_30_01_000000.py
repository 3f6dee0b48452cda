"""Existing rows: updated_at starts at created_at, not at the migration's time (a sync
asking for changes since yesterday must not get every old row).

Raw steps of a migration run before its columns are added, so this is its own migration.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T00:30:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "updated_at backfill"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def backfill():
        from piccolo.querystring import QueryString

        from core.db import get_engine

        engine = get_engine()
        for table in ("tenant", "employee", "employee_group"):
            await engine.run_querystring(
                QueryString(f'UPDATE "{table}" SET "updated_at" = "created_at"')
            )

    manager.add_raw(backfill)
    return manager
