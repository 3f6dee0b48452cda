from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T21:31:19:794263"
VERSION = "1.38.0"
DESCRIPTION = "portal login failures are counted by core.throttle"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="customers", description=DESCRIPTION
    )

    manager.drop_table(
        class_name="PortalLoginFailure",
        tablename="portal_login_failure",
        schema=None,
    )

    return manager
