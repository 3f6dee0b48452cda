"""One authenticator app per person: a unique index (Piccolo's column API cannot say it;
raw steps run before a migration's tables exist, hence a migration of its own)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T06:40:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "twofactor app index"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="twofactor", description=DESCRIPTION)

    async def indexes():
        from piccolo.querystring import QueryString

        from core.db import get_engine

        await get_engine().run_querystring(QueryString(
            "CREATE UNIQUE INDEX IF NOT EXISTS twofactor_app_uniq ON twofactor_app "
            "(tenant_id, person_kind, employee_id, customer_id, contact_id)"
        ))

    manager.add_raw(indexes)
    return manager
