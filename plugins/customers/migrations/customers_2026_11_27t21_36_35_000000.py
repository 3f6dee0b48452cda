"""Customer-portal indexes Piccolo's column API cannot express (composite, partial).

Raw steps of a migration run before its tables are created, so they live in their own
migration after the one that creates the portal tables.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-27T21:36:35:000000"
VERSION = "1.38.0"
DESCRIPTION = "customer portal indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="customers", description=DESCRIPTION)

    async def indexes():
        from piccolo.querystring import QueryString

        from core.db import get_engine

        engine = get_engine()
        for sql in (
            # The login name is unique within a tenant among accounts still in use.
            "CREATE UNIQUE INDEX IF NOT EXISTS portal_account_email_uniq "
            "ON portal_account (tenant_id, email) "
            "WHERE disabled_at IS NULL AND email IS NOT NULL",
            # One account in use per person.
            "CREATE UNIQUE INDEX IF NOT EXISTS portal_account_person_uniq "
            "ON portal_account (tenant_id, person_kind, person_id) WHERE disabled_at IS NULL",
            "CREATE INDEX IF NOT EXISTS portal_login_failure_key_at_idx "
            "ON portal_login_failure (account_key, at)",
        ):
            await engine.run_querystring(QueryString(sql))

    manager.add_raw(indexes)
    return manager
