"""One login system (#18.6): the portal's sessions and link tokens move to the core's tables.

The core's ``session`` and ``password_reset_token`` now hold every kind of person
(``kind = 'portal'``, ``subject_id`` = the portal account). Their rows are copied there, a
pending SMS step of a first password or reset is pointed at its link's new id, and the
portal's copies of the tables go. (The core's migration adding the columns runs first: the
core's app always migrates before the plugins'.)
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-06T03:10:02:000000"
VERSION = "1.38.0"
DESCRIPTION = "portal sessions and link tokens in the core's tables"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="customers", description=DESCRIPTION)

    async def move_rows():
        from piccolo.querystring import QueryString

        from core.db import get_engine

        engine = get_engine()
        for sql in (
            "INSERT INTO session (token_hash, tenant_id, kind, subject_id, employee_id, "
            "created_at, last_seen_at, expires_at, ip, user_agent) "
            "SELECT token_hash, tenant_id, 'portal', account_id, 0, created_at, last_seen_at, "
            "expires_at, '', '' FROM portal_session",
            "INSERT INTO password_reset_token (token_hash, tenant_id, kind, subject_id, purpose, "
            "employee_id, created_at, expires_at, used_at) "
            "SELECT token_hash, tenant_id, 'portal', account_id, purpose, 0, created_at, "
            "expires_at, used_at FROM portal_token",
            "UPDATE portal_pending SET link_token_id = COALESCE(("
            "SELECT t.id FROM password_reset_token t JOIN portal_token p "
            "ON p.token_hash = t.token_hash WHERE p.id = portal_pending.link_token_id), 0) "
            "WHERE link_token_id <> 0",
        ):
            await engine.run_querystring(QueryString(sql))

    manager.add_raw(move_rows)
    manager.drop_table(class_name="PortalSession", tablename="portal_session", schema=None)
    manager.drop_table(class_name="PortalToken", tablename="portal_token", schema=None)
    return manager
