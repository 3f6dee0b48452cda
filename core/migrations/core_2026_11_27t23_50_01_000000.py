"""Indexes of the person-search index and the subject exports.

Raw steps of a migration run before its tables are created, so they live in their own
migration after the one that creates the tables.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-27T23:50:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "search index indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def indexes():
        from piccolo.querystring import QueryString

        from core.db import get_engine, is_sqlite

        engine = get_engine()
        # PostgreSQL compares text by the database's collation; the C collation makes the
        # prefix range (term >= 'svens' AND term < 'svent') use the index in byte order.
        collate = "" if is_sqlite() else ' COLLATE "C"'
        for sql in (
            "CREATE UNIQUE INDEX IF NOT EXISTS gdpr_search_field_uniq ON gdpr_search_field (tbl, col)",
            # Covering: counts and pages per field are answered from the index alone.
            f"CREATE INDEX IF NOT EXISTS gdpr_search_term_cover_idx "
            f"ON gdpr_search_term (tenant_id, kind, term{collate}, field_id, record_id)",
            "CREATE INDEX IF NOT EXISTS gdpr_search_term_record_idx "
            "ON gdpr_search_term (record_id, field_id)",
            "CREATE INDEX IF NOT EXISTS gdpr_subject_export_created_idx "
            "ON gdpr_subject_export (created_at)",
        ):
            await engine.run_querystring(QueryString(sql))

    manager.add_raw(indexes)
    return manager
