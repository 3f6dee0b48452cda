"""The portal app's first migration: it takes over the customer portal's tables.

Until #18.6 the customer register's app created portal_account, portal_pending and
portal_approval_step (with the partial unique index of an active account's e-mail). That
app runs first (this app depends on it) and its history still creates them, so on an
existing install and on a new one alike the tables are already here, rows and all: this
migration then does nothing. Only if they are missing (the customer register's history
was never run here) are they created from the table classes.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T04:40:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "the customer portal's tables, taken over from the customer register"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def take_over():
        from plugins.portal.tables import PORTAL_TABLES

        for table in PORTAL_TABLES:
            if not await table.table_exists():
                await table.create_table(if_not_exists=True)

    manager.add_raw(take_over)
    return manager
