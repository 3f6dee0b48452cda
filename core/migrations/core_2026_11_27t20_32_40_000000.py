"""Indexes of the GDPR engine, activity and log tables.

Raw steps of a migration run before its tables are created, so they live in their own
migration after the one that creates the tables.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-27T20:32:40:000000"
VERSION = "1.38.0"
DESCRIPTION = "gdpr indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def indexes():
        from piccolo.querystring import QueryString

        from core.db import get_engine

        engine = get_engine()
        for sql in (
            "CREATE UNIQUE INDEX IF NOT EXISTS gdpr_retention_setting_uniq "
            "ON gdpr_retention_setting (tenant_id, rule_key)",
            "CREATE INDEX IF NOT EXISTS gdpr_run_tenant_started_idx "
            "ON gdpr_run (tenant_id, started_at)",
            "CREATE INDEX IF NOT EXISTS activity_record_idx "
            "ON activity (tenant_id, plugin, record_type, record_id)",
            "CREATE INDEX IF NOT EXISTS activity_author_idx "
            "ON activity (tenant_id, author_id) WHERE author_id IS NOT NULL",
            "CREATE INDEX IF NOT EXISTS event_log_tenant_at_idx "
            "ON event_log (tenant_id, at) WHERE anonymized_at IS NULL",
            "CREATE INDEX IF NOT EXISTS event_log_employee_idx "
            "ON event_log (tenant_id, employee_id) WHERE employee_id IS NOT NULL",
            "CREATE INDEX IF NOT EXISTS system_log_tenant_at_idx ON system_log (tenant_id, at)",
            "CREATE INDEX IF NOT EXISTS system_log_employee_idx "
            "ON system_log (tenant_id, employee_id) WHERE employee_id IS NOT NULL",
        ):
            await engine.run_querystring(QueryString(sql))

    manager.add_raw(indexes)
    return manager
