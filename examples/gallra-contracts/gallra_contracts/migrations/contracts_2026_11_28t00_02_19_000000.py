"""Indexes Piccolo's column API cannot express (composite).

A migration runs its raw steps before it creates its tables, so indexes on a table live in
a migration after the one that creates it.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-28T00:02:19:000000"
VERSION = "1.38.0"
DESCRIPTION = "contracts indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="contracts", description=DESCRIPTION)

    async def indexes():
        from core.db import raw

        for sql in (
            # The contract number is unique within a tenant (deleted contracts included).
            "CREATE UNIQUE INDEX IF NOT EXISTS contract_number_uniq ON contract (tenant_id, number)",
            # The engine clears references by (tenant_id, column): index each one.
            "CREATE INDEX IF NOT EXISTS contract_customer_idx ON contract (tenant_id, customer_id)",
            "CREATE INDEX IF NOT EXISTS contract_contact_idx "
            "ON contract (tenant_id, contact_person_id)",
            "CREATE INDEX IF NOT EXISTS contract_created_by_idx ON contract (tenant_id, created_by)",
        ):
            await raw(sql)

    manager.add_raw(indexes)
    return manager
