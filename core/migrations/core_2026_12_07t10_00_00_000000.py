"""The session lookups as functions that set their own scope (#19.1, PostgreSQL).

A request's first statement finds its session by the cookie's token hash, before it knows the
tenant, so it ran with ``gallra.tenant = '*'``; the request's next statement, bound to its
tenant, set the connection back. On a pooled connection each change is a round trip of its
own: two per request that writes anything (10 round trips for a create customer, 2 of them
``set_config``). The function sets ``'*'`` for its own query only (``set_config(..., true)``,
put back before it returns, so inside an explicit transaction the caller's value stays), so
the lookup runs on a connection whatever tenant it was last set to, and that connection stays
set to the tenant its requests use. It reads nothing but the session the token hash names.

``gallra_session_row(kind, hash)`` does the same for any session (the customer portal's), so a
portal request's connection stays set to the portal's tenant too.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-07T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "gallra_employee_session(), gallra_session_row(): session lookups set their own scope (PostgreSQL)"

FUNCTION = """
CREATE OR REPLACE FUNCTION gallra_employee_session(wanted_hash text)
RETURNS TABLE (
    session_id integer, tenant_id integer, employee_id integer,
    expires_at timestamptz, last_seen_at timestamptz,
    found_employee integer, name text, email text, role text, employee_language text,
    deleted_at timestamptz, found_tenant integer, tenant_slug text, tenant_language text,
    permissions text, modules text
) LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
    was text := current_setting('gallra.tenant', true);
BEGIN
    PERFORM set_config('gallra.tenant', '*', true);
    RETURN QUERY
    SELECT s.id, s.tenant_id, s.employee_id, s.expires_at, s.last_seen_at,
           e.id, e.name::text, e.email::text, e.role::text, e.language::text, e.deleted_at,
           t.id, t.slug::text, t.language::text,
           (SELECT string_agg(g.permissions, ',') FROM group_member m
              JOIN employee_group g ON g.id = m.group_id AND g.tenant_id = m.tenant_id
             WHERE m.tenant_id = s.tenant_id AND m.employee_id = s.employee_id)::text,
           (SELECT string_agg(tm.module || '=' || (CASE WHEN tm.enabled THEN '1' ELSE '0' END), ',')
              FROM tenant_module tm WHERE tm.tenant_id = s.tenant_id)::text
      FROM session s
      LEFT JOIN employee e ON e.id = s.employee_id AND e.tenant_id = s.tenant_id
      LEFT JOIN tenant t ON t.id = s.tenant_id
     WHERE s.token_hash = wanted_hash AND s.kind = 'employee';
    PERFORM set_config('gallra.tenant', coalesce(was, ''), true);
END
$fn$
"""

SESSION_ROW = """
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

    async def create_functions():
        from piccolo.querystring import QueryString

        from core.db import get_engine, is_sqlite

        if is_sqlite():
            return
        for sql in (FUNCTION, SESSION_ROW):
            await get_engine().run_querystring(QueryString(sql.replace("{", "{{").replace("}", "}}")))

    manager.add_raw(create_functions)
    return manager
