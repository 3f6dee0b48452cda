"""Indexes Piccolo's column API cannot express (composite, unique).

Raw steps of a migration run before its tables are created, so they live in their own
migration after the one that creates the tables.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-27T20:44:25:000000"
VERSION = "1.38.0"
DESCRIPTION = "twofactor indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="twofactor", description=DESCRIPTION)

    async def indexes():
        from piccolo.querystring import QueryString

        from core.db import get_engine

        engine = get_engine()
        for sql in (
            "CREATE UNIQUE INDEX IF NOT EXISTS twofactor_context_uniq "
            "ON twofactor_context (tenant_id, key)",
            "CREATE UNIQUE INDEX IF NOT EXISTS twofactor_person_uniq ON twofactor_person "
            "(tenant_id, person_kind, employee_id, customer_id, contact_id)",
            "CREATE UNIQUE INDEX IF NOT EXISTS twofactor_daily_count_uniq "
            "ON twofactor_daily_count (tenant_id, day)",
            "CREATE INDEX IF NOT EXISTS twofactor_send_person_idx ON twofactor_send "
            "(tenant_id, person_kind, employee_id, customer_id, contact_id, sent_at)",
            "CREATE INDEX IF NOT EXISTS twofactor_device_person_idx ON twofactor_device "
            "(tenant_id, person_kind, employee_id, customer_id, contact_id)",
        ):
            await engine.run_querystring(QueryString(sql))

    manager.add_raw(indexes)
    return manager
