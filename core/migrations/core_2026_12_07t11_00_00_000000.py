"""Every kind of session looked up by one function that sets its own scope (#19.1, PostgreSQL).

As ``gallra_employee_session`` (the migration before this one) does for the employees' pages
and API, ``gallra_session_row(kind, hash)`` finds any session by its token hash with
``gallra.tenant = '*'`` for its own query only, put back before it returns: a customer portal
request's connection stays set to the portal's tenant instead of being switched to ``*`` for
the lookup and back for the request's next statement (two round trips each request).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-07T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "gallra_session_row(): any session's lookup sets its own scope (PostgreSQL)"

FUNCTION = """
CREATE OR REPLACE FUNCTION gallra_session_row(wanted_kind text, wanted_hash text)
RETURNS SETOF session LANGUAGE plpgsql AS $fn$
DECLARE
    was text := current_setting('gallra.tenant', true);
BEGIN
    PERFORM set_config('gallra.tenant', '*', true);
    RETURN QUERY SELECT * FROM session s WHERE s.token_hash = wanted_hash AND s.kind = wanted_kind;
    PERFORM set_config('gallra.tenant', coalesce(was, ''), true);
END
$fn$
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    async def create_function():
        from piccolo.querystring import QueryString

        from core.db import get_engine, is_sqlite

        if is_sqlite():
            return
        await get_engine().run_querystring(QueryString(FUNCTION))

    manager.add_raw(create_function)
    return manager
