"""The customer portal's tables leave this app for plugins/portal (#18.6), with their rows.

This app's history created portal_account, portal_pending and portal_approval_step; now it
drops them (Piccolo's public ``drop_table``), so a later ``--auto`` migration of this app
neither wants to create nor to drop them. Their rows are kept first: the raw step, which a
migration runs before its table steps, copies each table to a hand-over table
``<table>_handover`` with the same columns. The portal app, which runs after this one
(its ``migration_dependencies``), creates its own tables, copies the rows back with their
ids and drops the hand-over tables. Until the portal plugin is installed the rows wait in
the hand-over tables.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T05:33:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the portal's tables are handed over to plugins/portal"

TABLES = (
    ("PortalAccount", "portal_account"),
    ("PortalPending", "portal_pending"),
    ("PortalApprovalStep", "portal_approval_step"),
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="customers", description=DESCRIPTION)

    async def keep_rows():
        from piccolo.querystring import QueryString

        from core.db import get_engine

        engine = get_engine()
        for _class_name, tablename in TABLES:
            await engine.run_querystring(
                QueryString(f"CREATE TABLE {tablename}_handover AS SELECT * FROM {tablename}")
            )

    manager.add_raw(keep_rows)
    for class_name, tablename in TABLES:
        manager.drop_table(class_name=class_name, tablename=tablename, schema=None)
    return manager
