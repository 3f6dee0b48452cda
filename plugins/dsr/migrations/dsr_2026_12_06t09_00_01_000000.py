"""Indexes of the portal person's references (a migration runs its raw steps before its
columns, so they follow the migration that adds the columns)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T09:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "dsr request party indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="dsr", description=DESCRIPTION)

    async def indexes():
        from core.db import raw

        # The engine clears customer references by (tenant_id, column); the portal lists by them.
        for sql in (
            "CREATE INDEX IF NOT EXISTS dsr_request_customer_idx ON dsr_request (tenant_id, customer_id)",
            "CREATE INDEX IF NOT EXISTS dsr_request_contact_idx ON dsr_request (tenant_id, contact_person_id)",
        ):
            await raw(sql)

    manager.add_raw(indexes)
    return manager
