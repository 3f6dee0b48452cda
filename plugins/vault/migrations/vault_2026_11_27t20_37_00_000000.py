"""Composite indexes of the vault tables.

Raw steps of a migration run before its tables are created, so they live in their own
migration after the one that creates the tables.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-27T20:37:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "vault indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="vault", description=DESCRIPTION)

    async def indexes():
        from piccolo.querystring import QueryString

        from core.db import get_engine

        engine = get_engine()
        for sql in (
            # Listing a form's entries grouped by customer, and a customer's entries.
            "CREATE INDEX IF NOT EXISTS vault_entry_form_customer_idx "
            "ON vault_entry (tenant_id, form_id, customer_id, id)",
            "CREATE INDEX IF NOT EXISTS vault_entry_customer_idx ON vault_entry (tenant_id, customer_id)",
            # The retention sweep: due entries of a tenant by deadline.
            "CREATE INDEX IF NOT EXISTS vault_entry_due_idx ON vault_entry (tenant_id, delete_after)",
            "CREATE INDEX IF NOT EXISTS vault_access_form_idx ON vault_access (tenant_id, form_id)",
            "CREATE INDEX IF NOT EXISTS vault_audit_entry_idx ON vault_audit (tenant_id, entry_id)",
            "CREATE INDEX IF NOT EXISTS vault_audit_at_idx ON vault_audit (tenant_id, at)",
        ):
            await engine.run_querystring(QueryString(sql))

    manager.add_raw(indexes)
    return manager
