"""Indexes Piccolo's column API cannot express (composite, partial).

Raw steps of a migration run before its tables are created, so they live in their own
migration after the one that creates the tables.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-27T20:32:44:000000"
VERSION = "1.38.0"
DESCRIPTION = "quotes indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="quotes", description=DESCRIPTION)

    async def indexes():
        from piccolo.querystring import QueryString

        from core.db import get_engine

        engine = get_engine()
        for sql in (
            "CREATE UNIQUE INDEX IF NOT EXISTS quote_number_uniq ON quote (tenant_id, number)",
            "CREATE INDEX IF NOT EXISTS quote_tenant_status_idx ON quote (tenant_id, status)",
            "CREATE INDEX IF NOT EXISTS quote_line_quote_idx ON quote_line (tenant_id, quote_id)",
            "CREATE INDEX IF NOT EXISTS quote_view_quote_idx ON quote_view (tenant_id, quote_id)",
        ):
            await engine.run_querystring(QueryString(sql))

    manager.add_raw(indexes)
    return manager
