"""Indexes Piccolo's column API cannot express (composite).

Raw steps of a migration run before its tables are created, so they live in their own
migration after the one that creates the tables.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-27T20:31:43:000000"
VERSION = "1.38.0"
DESCRIPTION = "cases indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def indexes():
        from piccolo.querystring import QueryString

        from core.db import get_engine

        engine = get_engine()
        for sql in (
            # The case number is unique within a tenant (deleted cases included).
            "CREATE UNIQUE INDEX IF NOT EXISTS case_record_number_uniq "
            "ON case_record (tenant_id, number)",
            "CREATE INDEX IF NOT EXISTS case_record_customer_idx "
            "ON case_record (tenant_id, customer_id)",
            "CREATE INDEX IF NOT EXISTS case_record_contact_idx "
            "ON case_record (tenant_id, contact_person_id)",
        ):
            await engine.run_querystring(QueryString(sql))

    manager.add_raw(indexes)
    return manager
