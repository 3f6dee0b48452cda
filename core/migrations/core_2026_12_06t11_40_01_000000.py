"""record_number is unique per (tenant, numbering): ``take_number``'s ON CONFLICT needs it.

Raw steps of a migration run before its tables are added, so this is its own migration.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T11:40:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "record_number unique per tenant and numbering"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def unique():
        from piccolo.querystring import QueryString

        from core.db import get_engine

        await get_engine().run_querystring(QueryString(
            "CREATE UNIQUE INDEX IF NOT EXISTS record_number_uniq ON record_number (tenant_id, numbering)"
        ))

    manager.add_raw(unique)
    return manager
