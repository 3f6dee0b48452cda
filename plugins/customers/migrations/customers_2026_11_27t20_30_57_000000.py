"""Indexes Piccolo's column API cannot express (composite).

Raw steps of a migration run before its tables are created, so they live in their own
migration after the one that creates the tables.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-27T20:30:57:000000"
VERSION = "1.38.0"
DESCRIPTION = "customers indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="customers", description=DESCRIPTION)

    async def indexes():
        from piccolo.querystring import QueryString

        from core.db import get_engine

        engine = get_engine()
        for sql in (
            # The customer number is unique within a tenant (deleted customers included).
            "CREATE UNIQUE INDEX IF NOT EXISTS customer_number_uniq "
            "ON customer (tenant_id, number)",
            "CREATE INDEX IF NOT EXISTS contact_person_customer_idx "
            "ON contact_person (tenant_id, customer_id)",
            "CREATE INDEX IF NOT EXISTS customer_contact_customer_idx "
            "ON customer_contact (tenant_id, customer_id, date)",
        ):
            await engine.run_querystring(QueryString(sql))

    manager.add_raw(indexes)
    return manager
