"""PostgreSQL row-level security: every tenant table shows a connection only its tenant's rows.

A *tenant table* is any table with a ``tenant_id`` column: the core's and every plugin's,
an outside plugin's included, because the policies are generated from the database's
catalog at ``gallra migrate``, not listed by hand. Each gets, with ``FORCE`` so that even
the owner is held to it::

    CREATE POLICY gallra_tenant ON <table>
        USING (<tenant_id matches gallra.tenant>) WITH CHECK (<the same>)

``gallra.tenant`` is set on every connection the application takes (:mod:`core.db`): the
tenant id of the request once it is bound to one, ``*`` for work across tenants (sweeps,
delivery, the CLI, platform administration). A connection that never set it, such as a
person's own psql session under the application's role, sees no tenant rows at all.

The protection holds only if the application's role neither owns the tables nor is a
superuser or has BYPASSRLS: run the application with ``GALLRA_DATABASE_URL`` naming such a
role and ``gallra migrate`` with ``GALLRA_DATABASE_OWNER_URL`` naming the owner;
:func:`ensure_rls` then grants the application's role what it needs. SQLite has no
row-level security; there the tenant filters in the queries are the only guard.

What the policies protect against, and what not
-----------------------------------------------

They are a second line behind the tenant filter every query writes, against the
application's own *mistakes*, not against somebody who runs SQL as the application:

* **Protected:** a request bound to one tenant (an employee's or portal person's session, a
  public link once its token is found) whose query forgets the tenant filter reads,
  updates and deletes that tenant's rows only, and cannot insert or move a row into
  another tenant (``WITH CHECK``). A connection of the application's role that never set
  the setting (a person's psql session) sees no tenant rows; a value that is neither a
  number nor ``*`` makes the statement fail rather than show rows.
* **Not protected: the application may choose "all tenants".** ``gallra.tenant`` is a
  setting any role may change (``SET gallra.tenant = '*'`` or ``set_config(...)``), and
  the application's role sets it itself: to ``*`` for the work that spans tenants
  (retention sweeps, delivery, the scheduler, the CLI, platform administration) and to
  whichever tenant a request names. So code running as the application's role (a
  compromised process, injected SQL that can run ``SET`` or ``set_config``, anybody with
  its password) can read and write every tenant; in the ``*`` paths only the queries' own
  tenant filters separate tenants. The policies do not replace those filters, nor the
  checks that a referenced row belongs to the tenant (``core.references``, ``get_scoped``).
* **Not protected:** tables without a ``tenant_id`` column (tenants, platform tables),
  roles that own the tables, superusers and roles with ``BYPASSRLS`` (:func:`check`
  reports these), and SQLite.
* **Not in scope:** which person within a tenant may see a record; that is the modules'
  access rules (for example ``RecordType.can_open`` for activity).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from core.db import as_owner, atomic, is_sqlite, raw

POLICY = "gallra_tenant_v4"
"""The policy's name; a changed condition gets a new version and replaces older ones."""

# A filter on every row a statement reads, so kept cheap. Each scalar subquery is an
# InitPlan: the setting is read and converted once per statement, and each row costs one
# comparison (bench/rls.py: v1, a pattern match per row, made a count over 50,000 rows 4.7
# times as slow; v2, the pattern inside subqueries, doubled a lookup by id; this one adds
# 0.01-0.02 ms to a lookup and 16% to the count). '*' and '' become NULL before the cast,
# which matches no row; any other value that is not a number makes the statement fail
# instead of showing rows. (No braces in the SQL: core.db.raw reads {} as placeholders.)
_SETTING = "current_setting('gallra.tenant', true)"
CONDITION = (
    f"((SELECT {_SETTING} = '*') OR tenant_id = (SELECT NULLIF(NULLIF({_SETTING}, ''), '*')::bigint))"
)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def tenant_tables() -> list[str]:
    """Every table of the current schema with a ``tenant_id`` column."""
    rows = await raw(
        "SELECT c.relname AS name FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY 1"
    )
    return [r["name"] for r in rows]


def app_role(database_url: str, owner_url: str | None) -> str | None:
    """The application's role when it differs from the owner's (None: the same, or unknown)."""
    if not owner_url or owner_url == database_url:
        return None
    user = urlsplit(database_url).username
    owner = urlsplit(owner_url).username
    if not user or user == owner:
        return None
    return unquote(user)


async def ensure_rls() -> list[str]:
    """Enable and force the tenant policy on every tenant table, and grant the application's
    role its rights (when it is not the owner). Idempotent; PostgreSQL only. Returns the
    tables it covered."""
    if is_sqlite():
        return []
    from core.config import get_settings

    settings = get_settings()
    role = app_role(settings.database_url, settings.owner_database_url)
    async with as_owner(), atomic():
        await raw("SELECT pg_advisory_xact_lock(hashtext('gallra_rls_ensure'))")
        tables = await tenant_tables()
        policies = await raw(
            "SELECT tablename, policyname FROM pg_policies "
            "WHERE schemaname = current_schema() AND policyname LIKE 'gallra_tenant%'"
        )
        current = {r["tablename"] for r in policies if r["policyname"] == POLICY}
        for r in policies:
            if r["policyname"] != POLICY:  # an older version of the condition
                await raw(f"DROP POLICY {_quote(r['policyname'])} ON {_quote(r['tablename'])}")
        flags = {
            r["relname"]: (r["relrowsecurity"], r["relforcerowsecurity"])
            for r in await raw(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema()"
            )
        }
        for table in tables:
            q = _quote(table)
            if flags.get(table) != (True, True):
                await raw(f"ALTER TABLE {q} ENABLE ROW LEVEL SECURITY")
                await raw(f"ALTER TABLE {q} FORCE ROW LEVEL SECURITY")
            if table not in current:
                await raw(
                    f"CREATE POLICY {POLICY} ON {q} USING {CONDITION} WITH CHECK {CONDITION}"
                )
        if role:
            grantee = _quote(role)
            await raw(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {grantee}")
            await raw(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {grantee}")
            # Tables the owner creates later (a plugin installed next month) too.
            await raw(
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {grantee}"
            )
            await raw(
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {grantee}"
            )
    return tables


@dataclass
class RlsReport:
    """What :func:`check` found; ``problems`` is empty when every tenant table is guarded."""

    role: str = ""
    tables: int = 0
    problems: list[str] = field(default_factory=list)
    role_bypasses: bool = False
    """Superuser or BYPASSRLS: the policies do not apply to the connected role at all."""
    role_owns_tables: bool = False
    """Held to the policies (FORCE), but as owner it could switch them off."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "tables": self.tables,
            "problems": self.problems,
            "role_bypasses": self.role_bypasses,
            "role_owns_tables": self.role_owns_tables,
        }


def installed_tables() -> set[str]:
    """The tables of the core's and every installed plugin's Piccolo app.

    Asked through Piccolo's own finder (PICCOLO_CONF, core.piccolo_conf), the way Piccolo
    resolves it: core.piccolo_conf is a composition root above this module (#18.6).
    """
    from piccolo.conf.apps import Finder

    return {
        table._meta.tablename
        for config in Finder().get_app_registry().app_configs.values()
        for table in config.table_classes
    }


async def check() -> RlsReport:
    """Whether every tenant table of the installed apps has the policy with FORCE, and
    whether the connected role is held to it (not superuser, no BYPASSRLS) and owns no
    tenant table. (Tables made by hand, outside any app's migrations, are not checked;
    ``gallra migrate`` covers them too.)"""
    report = RlsReport()
    if is_sqlite():
        report.problems.append("SQLite has no row-level security")
        return report
    role = (await raw("SELECT current_user AS u"))[0]["u"]
    report.role = role
    installed = installed_tables()
    tables = [t for t in await tenant_tables() if t in installed]
    report.tables = len(tables)
    rows = await raw(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner) AS owner, "
        "EXISTS (SELECT 1 FROM pg_policies p WHERE p.schemaname = n.nspname "
        "AND p.tablename = c.relname AND p.policyname = {}) AS has_policy "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relname = ANY({})",
        POLICY,
        tables,
    )
    for r in rows:
        if not (r["relrowsecurity"] and r["relforcerowsecurity"]):
            report.problems.append(f"{r['relname']}: row-level security not enabled and forced")
        if not r["has_policy"]:
            report.problems.append(f"{r['relname']}: no {POLICY} policy")
        if r["owner"] == role:
            report.role_owns_tables = True
    attrs = await raw("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    if attrs and (attrs[0]["rolsuper"] or attrs[0]["rolbypassrls"]):
        report.role_bypasses = True
    return report
