"""Indexes Piccolo's column API cannot express (composite).

Raw steps of a migration run before its tables are created, so they live in their own
migration after the one that creates the tables.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-27T23:47:53:000000"
VERSION = "1.38.0"
DESCRIPTION = "privacy indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="privacy", description=DESCRIPTION)

    async def indexes():
        from piccolo.querystring import QueryString

        from core.db import get_engine

        engine = get_engine()
        for sql in (
            # Numbers and versions are unique within a tenant (deleted rows included).
            "CREATE UNIQUE INDEX IF NOT EXISTS privacy_activity_number_uniq "
            "ON privacy_activity (tenant_id, number)",
            "CREATE UNIQUE INDEX IF NOT EXISTS privacy_incident_number_uniq "
            "ON privacy_incident (tenant_id, number)",
            "CREATE UNIQUE INDEX IF NOT EXISTS privacy_inventory_version_uniq "
            "ON privacy_inventory_version (tenant_id, version)",
            # Employee references, cleared when that employee is anonymized (M25).
            "CREATE INDEX IF NOT EXISTS privacy_activity_created_by_idx "
            "ON privacy_activity (tenant_id, created_by)",
            "CREATE INDEX IF NOT EXISTS privacy_incident_reported_by_idx "
            "ON privacy_incident (tenant_id, reported_by)",
            "CREATE INDEX IF NOT EXISTS privacy_inventory_version_signed_by_idx "
            "ON privacy_inventory_version (tenant_id, signed_by)",
            "CREATE INDEX IF NOT EXISTS privacy_contact_employee_idx "
            "ON privacy_contact (tenant_id, employee_id)",
        ):
            await engine.run_querystring(QueryString(sql))

    manager.add_raw(indexes)
    return manager
