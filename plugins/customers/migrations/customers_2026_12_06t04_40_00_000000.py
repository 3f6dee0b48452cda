"""The customer portal's tables go to plugins/portal (#18.6), with their rows.

This app's history stops holding portal_account, portal_pending and portal_approval_step
(so a later ``--auto`` migration of this app does not want to create or drop them), but
nothing is dropped: the tables stay where they are, and the portal app's first migration
takes them over.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T04:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the portal's tables are handed to plugins/portal"


class HandOver(MigrationManager):
    """Records the drops in the app's history and runs none of them."""

    async def _run_drop_tables(self, backwards: bool = False) -> None:
        return None


async def forwards():
    manager = HandOver(migration_id=ID, app_name="customers", description=DESCRIPTION)
    for class_name, tablename in (
        ("PortalAccount", "portal_account"),
        ("PortalPending", "portal_pending"),
        ("PortalApprovalStep", "portal_approval_step"),
    ):
        manager.drop_table(class_name=class_name, tablename=tablename, schema=None)
    return manager
