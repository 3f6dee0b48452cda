"""Indexes Piccolo's column API cannot express (composite, partial).

Raw steps of a migration run before its tables are created, so they live in their own
migration after the one that creates the tables.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-27T20:23:21:000000"
VERSION = "1.38.0"
DESCRIPTION = "core indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def constraints():
        # Composite and partial unique indexes Piccolo's column API cannot express.
        # Both SQLite and PostgreSQL understand this syntax.
        from piccolo.querystring import QueryString

        from core.db import get_engine

        engine = get_engine()
        for sql in (
            "CREATE UNIQUE INDEX IF NOT EXISTS tenant_module_uniq "
            "ON tenant_module (tenant_id, module)",
            "CREATE UNIQUE INDEX IF NOT EXISTS employee_email_uniq "
            "ON employee (tenant_id, email) WHERE deleted_at IS NULL",
            "CREATE INDEX IF NOT EXISTS session_employee_idx ON session (tenant_id, employee_id)",
            "CREATE INDEX IF NOT EXISTS login_failure_key_at_idx ON login_failure (account_key, at)",
        ):
            await engine.run_querystring(QueryString(sql))

    manager.add_raw(constraints)
    return manager
