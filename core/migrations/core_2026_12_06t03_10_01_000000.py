"""Existing employee sessions and reset links: their subject is their employee.

Raw steps of a migration run before its columns are added, so this is its own migration.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T03:10:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "subject_id backfill"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def backfill():
        from piccolo.querystring import QueryString

        from core.db import get_engine

        engine = get_engine()
        for table in ("session", "password_reset_token"):
            await engine.run_querystring(
                QueryString(
                    f"UPDATE \"{table}\" SET \"subject_id\" = \"employee_id\" WHERE \"kind\" = 'employee'"
                )
            )

    manager.add_raw(backfill)
    return manager
