"""Activity found through its record, from the index alone (#19.3).

Person search shows the activity attached to every record it found: for a common name's
prefix at 1M values, thousands of records, each an index probe on ``activity_record_idx``.
On PostgreSQL each probe also fetched the activity row from the table, only to read its
``id``; with ``id`` in the index the lookup is an index-only scan. SQLite's indexes already
end with the row id, so it has nothing to do.

The covering index replaces the old one (same key columns, so every query that used it
can use this one).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T11:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "activity_record_idx covers the activity id (PostgreSQL)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def covering():
        from piccolo.querystring import QueryString

        from core.db import get_engine, is_sqlite

        if is_sqlite():
            return
        engine = get_engine()
        for sql in (
            "CREATE INDEX IF NOT EXISTS activity_record_cover_idx "
            "ON activity (tenant_id, plugin, record_type, record_id) INCLUDE (id)",
            "DROP INDEX IF EXISTS activity_record_idx",
        ):
            await engine.run_querystring(QueryString(sql))

    manager.add_raw(covering)
    return manager
