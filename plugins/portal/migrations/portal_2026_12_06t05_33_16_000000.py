"""The rows of the customer portal's tables come over from the customer register (#18.6),
and the indexes Piccolo's column API cannot express (partial).

Until #18.6 the customer register's app held portal_account, portal_pending and
portal_approval_step. Its migration handing them over copied them to
``<table>_handover`` and dropped them; this app's first migration created them anew
(full table definitions), and this one copies the rows back, ids included (sessions and
link tokens of the core name an account by its id), then drops the hand-over tables.
The customer register's app runs first: this app's ``migration_dependencies`` name it.
On a new database the hand-over tables hold no rows; without them (the customer
register's history was never run here) there is nothing to copy.

Raw steps of a migration run before its tables are created, so this is a migration of
its own after the one that creates the tables.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T05:33:16:000000"
VERSION = "1.38.0"
DESCRIPTION = "the portal's rows from the customer register, and its partial indexes"

# The columns as the customer register's history left them (not the table classes of
# today, which may gain columns later).
COLUMNS = {
    "portal_account": (
        "id, tenant_id, person_kind, person_id, customer_id, contact_id, email, password_hash, "
        "created_at, invited_at, activated_at, disabled_at, anonymized_at"
    ),
    "portal_pending": (
        "id, token_hash, binder_hash, tenant_id, account_id, purpose, link_token_id, password_hash, "
        "uses, created_at, expires_at"
    ),
    "portal_approval_step": "id, tenant_id, account_id, challenge_hash, kind, item_id, approve, expires_at",
}

INDEXES = (
    # The login name is unique within a tenant among accounts still in use.
    "CREATE UNIQUE INDEX IF NOT EXISTS portal_account_email_uniq "
    "ON portal_account (tenant_id, email) "
    "WHERE disabled_at IS NULL AND email IS NOT NULL",
    # One account in use per person.
    "CREATE UNIQUE INDEX IF NOT EXISTS portal_account_person_uniq "
    "ON portal_account (tenant_id, person_kind, person_id) WHERE disabled_at IS NULL",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="portal", description=DESCRIPTION)

    async def take_over():
        from piccolo.querystring import QueryString

        from core.db import get_engine, is_sqlite

        engine = get_engine()

        async def run(sql: str, *args):
            return await engine.run_querystring(QueryString(sql, *args))

        for tablename, columns in COLUMNS.items():
            handover = f"{tablename}_handover"
            if is_sqlite():
                found = await run("SELECT name FROM sqlite_master WHERE type = 'table' AND name = {}", handover)
            else:
                found = await run("SELECT to_regclass({}) AS name", handover)
                found = [r for r in found if r["name"] is not None]
            if not found:
                continue
            await run(f"INSERT INTO {tablename} ({columns}) SELECT {columns} FROM {handover}")
            await run(f"DROP TABLE {handover}")
            if not is_sqlite():  # the next id follows the copied ones
                await run(
                    f"SELECT setval(pg_get_serial_sequence('{tablename}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {tablename}), 0) + 1, false)"
                )
        for sql in INDEXES:
            await run(sql)

    manager.add_raw(take_over)
    return manager
