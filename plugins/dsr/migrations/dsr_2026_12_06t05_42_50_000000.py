"""Indexes Piccolo's column API cannot express (composite).

A migration runs its raw steps before it creates its tables, so indexes on a table live in
a migration after the one that creates it.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T05:42:50:000000"
VERSION = "1.38.0"
DESCRIPTION = "dsr indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="dsr", description=DESCRIPTION)

    async def indexes():
        from core.db import raw

        for sql in (
            # Numbers are unique within a tenant (deleted requests included).
            "CREATE UNIQUE INDEX IF NOT EXISTS dsr_request_number_uniq ON dsr_request (tenant_id, number)",
            # The engine clears employee references by (tenant_id, column): index each one.
            "CREATE INDEX IF NOT EXISTS dsr_request_assignee_idx ON dsr_request (tenant_id, assignee_id)",
            "CREATE INDEX IF NOT EXISTS dsr_request_created_by_idx ON dsr_request (tenant_id, created_by)",
            # The reminder job reads the open requests by deadline.
            "CREATE INDEX IF NOT EXISTS dsr_request_due_idx ON dsr_request (status, due_on)",
            # The purge deletes expired confirmations.
            "CREATE INDEX IF NOT EXISTS dsr_pending_expires_idx ON dsr_pending (expires_at)",
        ):
            await raw(sql)

    manager.add_raw(indexes)
    return manager
