"""The conformance suite every Gallra plugin passes: switch it on by subclassing.

::

    # tests/test_conformance.py of your plugin's distribution
    from core.testing.conformance import PluginConformance

    class TestContractsConformance(PluginConformance):
        plugin = "contracts"            # the entry-point name (or a list of names)

What it checks, for each named plugin:

* **hooks** — every ``@hookimpl`` names a hook of ``core/hookspecs.py``; declaration hooks
  answer synchronously with lists of the right contract type; ``describe_module`` names the
  plugin; the Piccolo apps import; ``declare_kinds`` declares no kind another installed
  plugin owns (one owner per kind, or Gallra does not start).
* **declarations** — the core accepts them (the same check as at start-up); search sources
  and record types name real columns of tenant tables; every personal-data text column has a
  search source (person search must show every place), unless listed in ``not_searchable``
  with the reason, or of category ``other``; every text column of the plugin's tables is
  declared, as personal data or as ``core.contracts.NotPersonal`` with the reason.
* **migrations** — in a subprocess, on an empty SQLite file and (when
  ``GALLRA_TEST_DATABASE_URL`` is set) an empty PostgreSQL database, with only the core and
  the plugin installed: they apply, create every table with exactly its columns, and a
  second run applies nothing.
* **retention**, per rule — a record (and a row in each child table) holding a value in
  every field the rule declares, its clock past the cutoff, the tenant's setting switched to
  a mode that is due; one sweep; then every field is what its strategy says (the tenant's
  word, NULL, 0, ``''``, or the row is gone) and the record carries the marker.
* **person search**, per rule — each stored text value is found by
  ``core.gdpr.search.find`` at its table and column, and after the sweep is found nowhere;
  text fields without a rule are found too.
* **references** — every ``customer_ref`` / ``contact_ref`` / ``employee_ref`` column gets
  its strategy when the person it points at is anonymized (a stub people plugin of the kit
  owns customers and contact persons; employees are the core's own).

Rows are inserted by the kit itself through Piccolo: the declared values, the rule's
``where`` pairs, the clock columns, ``tenant_id`` and the parent's id; every other column
keeps its default, and columns declared ``unique=True`` get random values. When a table
needs more (a unique number across a composite index, a required link), override
:meth:`PluginConformance.make_row`. When your ``anonymize`` hook deliberately leaves a
column other than its strategy says, override :meth:`PluginConformance.expected_value`.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib
import inspect
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import pytest
import pytest_asyncio

from core.db import as_owner

# --- helpers usable without the class -------------------------------------------------------

DECLARATION_TYPES: dict[str, str | tuple[str, ...]] = {
    "declare_personal_data": ("PersonalDataField", "NotPersonal"),
    "declare_retention_rules": "RetentionRule",
    "declare_record_types": "RecordType",
    "declare_search_sources": "SearchSource",
    "declare_two_factor_contexts": "TwoFactorContext",
    "register_jobs": "ScheduledJob",
    "declare_kinds": ("PersonKind", "ApprovalKind"),
}
REFERENCE_CATEGORIES = {"customer_ref": "customer", "contact_ref": "contact", "employee_ref": "employee"}
SKIP_SEARCH = "person search (core.gdpr.search.find) is not in this Gallra yet"


def _host() -> Any:
    from core.plugins import get_host

    return get_host()


def _tablename(table: Any) -> str:
    return str(table._meta.tablename)


def _column(table: Any, name: str) -> Any:
    for c in table._meta.columns:
        if c._meta.name == name:
            return c
    raise LookupError(f"{_tablename(table)} has no column {name!r}")


def _has_column(table: Any, name: str) -> bool:
    return any(c._meta.name == name for c in table._meta.columns)


def _is_text(col: Any) -> bool:
    from core.gdpr.registry import is_text

    return bool(is_text(col))


def _is_number(col: Any) -> bool:
    from piccolo.columns import BigInt, DoublePrecision, Integer, Numeric, Real, SmallInt

    return isinstance(col, (Integer, BigInt, SmallInt, Real, DoublePrecision, Numeric))


def search_find() -> Any:
    """``core.gdpr.search.find`` when this Gallra has person search, else None."""
    try:
        module = importlib.import_module("core.gdpr.search")
    except ModuleNotFoundError:
        return None
    return getattr(module, "find", None)


def _luhn(body: str) -> str:
    total = 0
    for i, ch in enumerate(body):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return str((10 - total % 10) % 10)


def _national_id(cap: int | None) -> str:
    """A Swedish personal identity number (or, in a column too short for one, an
    organization number) with a valid check digit: person search normalizes them."""
    if cap is None or cap >= 13:
        body = f"800101{random.randint(0, 999):03d}"
        return f"19{body[:6]}-{body[6:]}{_luhn(body)}"
    body = f"55{random.randint(0, 9_999_999):07d}"
    return f"{body[:6]}-{body[6:]}{_luhn(body)}"


def sample_value(col: Any, category: str) -> Any:
    """A unique value that fits the column and looks like its category."""
    from piccolo.columns import Boolean, Date, Timestamp, Timestamptz

    from core.gdpr.registry import text_capacity

    token = "k" + secrets.token_hex(4)  # never all digits: search would read a number
    if _is_text(col):
        digits = "".join(str(random.randint(0, 9)) for _ in range(7))
        text = {
            "email": f"kit.{token}@example.se",
            "phone": f"+4670{digits}",
            "national_id": _national_id(text_capacity(col)),
            "ip": f"10.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(1, 254)}",
            "name": f"Kit Person {token}",
            "address": f"Kitgatan {token}",
        }.get(category, f"Kit text {token}")
        cap = text_capacity(col)
        if cap is not None and len(text) > cap:
            text = token[:cap]
        return text
    if _is_number(col):
        return random.randint(100_000, 2_000_000_000)
    if isinstance(col, Timestamptz):
        return datetime(1980, 1, 1, 12, tzinfo=UTC)
    if isinstance(col, Timestamp):
        return datetime(1980, 1, 1, 12)
    if isinstance(col, Date):
        return date(1980, 1, 1)
    if isinstance(col, Boolean):
        return True
    raise NotImplementedError(
        f"the kit has no sample value for a {type(col).__name__} column; override sample_value"
    )


def _moment(col: Any, moment: datetime) -> Any:
    """A clock value of the column's type."""
    from piccolo.columns import Date, Timestamp

    if isinstance(col, Date):
        return moment.date()
    if isinstance(col, Timestamp) and not _is_tz(col):
        return moment.replace(tzinfo=None)
    return moment


def _is_tz(col: Any) -> bool:
    from piccolo.columns import Timestamptz

    return isinstance(col, Timestamptz)


def _same(a: Any, b: Any) -> bool:
    return a == b or (isinstance(a, (int, float)) and isinstance(b, (int, float)) and a == b)


# --- the stub people plugin (owner of customers and contact persons for reference checks) --

STUB_NAME = "gallra_kit_people"
STUB_RULES = {"customer": "gallra_kit.customers", "contact": "gallra_kit.contacts"}


_STUB: list[Any] = []


def _stub_table() -> Any:
    """The stub's table (one class per process: Piccolo tables are module-level things)."""
    if not _STUB:
        from piccolo.columns import Integer, Timestamptz, Varchar
        from piccolo.table import Table

        class KitPerson(Table, tablename="gallra_kit_person"):
            tenant_id = Integer()
            kind = Varchar(length=16)
            deleted_at = Timestamptz(null=True, default=None)
            anonymized_at = Timestamptz(null=True, default=None)

        _STUB.append(KitPerson)
    return _STUB[0]


def _stub_plugin() -> Any:
    """Owns people of kind customer and contact, so anonymizing one clears the references
    every installed plugin declared to them (the way the customers plugin does)."""
    from core.contracts import RetentionRule
    from core.plugins import hookimpl

    class StubPeople:
        @hookimpl
        def declare_retention_rules(self) -> list[RetentionRule]:
            table = _stub_table()
            return [
                RetentionRule(
                    key=key,
                    label_sv=key,
                    label_en=key,
                    clock="deleted",
                    table=table,
                    clock_columns=("deleted_at",),
                    subject=subject,  # type: ignore[arg-type]
                    where=(("kind", subject),),
                )
                for subject, key in STUB_RULES.items()
            ]

    return StubPeople()


# --- migrations in a subprocess -------------------------------------------------------------


def run_migration_check(
    name: str, module: str | None, database_url: str, requires: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``core.testing.migcheck`` in a fresh process against ``database_url``; the installed
    plugins it ``requires`` (its ModuleInfo) are loaded with it, as they run beside it."""
    data_dir = tempfile.mkdtemp(prefix="gallra-kit-mig-")
    env = dict(os.environ)
    env.update(
        GALLRA_DATA_DIR=data_dir,
        GALLRA_DATABASE_URL=database_url,
        GALLRA_PLUGINS=",".join([name, *requires]),
        PICCOLO_CONF="core.piccolo_conf",
        PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
    )
    env.pop("GALLRA_DISABLE_PLUGINS", None)
    env.pop("GALLRA_DATABASE_OWNER_URL", None)  # the fresh database's URL is its owner's
    args = [sys.executable, "-m", "core.testing.migcheck", name] + ([module] if module else [])
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    for line in proc.stdout.splitlines():
        if line.startswith("GALLRA-MIGCHECK "):
            return dict(json.loads(line.split(" ", 1)[1]))
    raise AssertionError(
        f"the migration check of {name!r} failed (exit {proc.returncode}):\n"
        f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )


async def _pg_admin(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def postgres_url() -> str | None:
    """A PostgreSQL URL that may create and drop databases: the owner's when one is given."""
    url = os.environ.get("GALLRA_TEST_DATABASE_OWNER_URL") or os.environ.get("GALLRA_TEST_DATABASE_URL") or ""
    if url.startswith(("postgres://", "postgresql://")):
        return url
    url = os.environ.get("GALLRA_DATABASE_URL") or ""
    return url if url.startswith(("postgres://", "postgresql://")) else None


def _pg_url(base: str, database: str) -> str:
    return urlunsplit(urlsplit(base)._replace(path=f"/{database}"))


# The core's migrations are the same for every plugin and take most of the time, so they
# are applied once per process to a template (a SQLite file copied, a PostgreSQL database
# used as TEMPLATE); each plugin's check starts from a copy. The core's migrations always
# run before a plugin's, so this is the state a plugin's first migration meets anyway.
_templates: dict[str, str] = {}


def _drop_pg_template(base: str, name: str) -> None:
    with contextlib.suppress(Exception):  # best effort at exit
        asyncio.run(_pg_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def fresh_sqlite(path: Path) -> str:
    """A SQLite file at ``path`` holding the core's tables only; returns its URL."""
    if "sqlite" not in _templates:
        template = Path(tempfile.mkdtemp(prefix="gallra-kit-tpl-")) / "core.sqlite"
        result = run_migration_check("core", None, f"sqlite://{template}")
        assert not result["problems"], result["problems"]
        _templates["sqlite"] = str(template)
    shutil.copyfile(_templates["sqlite"], path)
    return f"sqlite://{path}"


def fresh_postgres(base: str) -> tuple[str, str]:
    """A new PostgreSQL database holding the core's tables only: (URL, name)."""
    if "postgresql" not in _templates:
        name = f"gallra_kit_tpl_{uuid.uuid4().hex[:12]}"
        asyncio.run(_pg_admin(base, f'CREATE DATABASE "{name}"'))
        atexit.register(_drop_pg_template, base, name)
        result = run_migration_check("core", None, _pg_url(base, name))
        assert not result["problems"], result["problems"]
        _templates["postgresql"] = name
    name = f"gallra_kit_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(base, f'CREATE DATABASE "{name}" TEMPLATE "{_templates["postgresql"]}"'))
    return _pg_url(base, name), name


# --- the suite ------------------------------------------------------------------------------


class PluginConformance:
    """Subclass in a test module and set ``plugin``; pytest then runs every check below."""

    #: Entry-point name of the plugin under test, or several names.
    plugin: ClassVar[str | Sequence[str]] = ()
    #: "table.column" -> why person search does not look there (an encrypted column, say).
    not_searchable: ClassVar[Mapping[str, str]] = {}
    #: Module to register a plugin from when it is not installed: {"name": "package"}.
    modules: ClassVar[Mapping[str, str]] = {}

    # -- parametrization --------------------------------------------------------------------
    @classmethod
    def plugin_names(cls) -> list[str]:
        names = [cls.plugin] if isinstance(cls.plugin, str) else list(cls.plugin)
        return [n for n in names if n]

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        names = self.plugin_names()
        if "gallra_rule" in metafunc.fixturenames:
            from core.gdpr.registry import get_declarations

            decl = get_declarations(_host())
            pairs = [
                (name, info.key)
                for name in names
                for info in sorted(decl.rules_of(name), key=lambda i: i.key)
            ]
            metafunc.parametrize(
                ("gallra_plugin_name", "gallra_rule"), pairs, ids=[f"{p}:{r}" for p, r in pairs]
            )
        elif "gallra_plugin_name" in metafunc.fixturenames:
            metafunc.parametrize("gallra_plugin_name", names)

    @pytest_asyncio.fixture(autouse=True)
    async def _gallra_kit_cleanup(self) -> Any:
        """Delete what the kit inserted and the sweep left, after each test.

        Tenants keep tests apart, but some plugins look at every tenant's rows at start-up
        (the vault refuses to start when rows claim to be encrypted with a key it lacks), so
        the kit's made-up rows must not outlive the test that made them.
        """
        self._created: list[tuple[Any, int]] = []
        yield
        for table, row_id in reversed(self._created):
            await table.delete().where(table._meta.primary_key == row_id)

    # -- overridable pieces -----------------------------------------------------------------
    async def make_row(self, table: Any, values: dict[str, Any]) -> int:
        """Insert one row with ``values`` (column name -> value) and return its id.

        Override it for a table whose constraints need more than the declared values (call
        ``self.created(table, id)`` for rows you insert, so they are deleted afterwards).
        """
        from piccolo.columns import Varchar

        for col in table._meta.columns:
            name = col._meta.name
            if name in values or not col._meta.unique or col is table._meta.primary_key:
                continue
            if isinstance(col, Varchar):
                values[name] = secrets.token_hex(min(16, max(1, (col.length or 32) // 2)))
            elif _is_number(col):
                values[name] = random.randint(1_000_000, 2_000_000_000)
        pk = table._meta.primary_key
        rows = await table.insert(table(**values)).returning(pk)
        row_id = int(rows[0][pk._meta.name])
        self.created(table, row_id)
        return row_id

    def created(self, table: Any, row_id: int) -> None:
        """Note a row the test inserted; it is deleted when the test ends."""
        getattr(self, "_created", []).append((table, row_id))

    def sample_value(self, table: Any, column: str, category: str) -> Any:
        """The value stored in a declared field before the sweep."""
        return sample_value(_column(table, column), category)

    def expected_value(self, table: Any, column: str, strategy: str, word: str) -> Any:
        """What a field holds after its strategy ran (``delete_row`` is checked apart)."""
        from core.gdpr.registry import text_capacity

        if strategy == "null":
            return None
        if strategy == "zero":
            return 0
        if strategy == "empty":
            return ""
        if strategy == "replace":
            cap = text_capacity(_column(table, column))
            return word if cap is None or cap >= len(word) else ""
        raise ValueError(strategy)

    # -- 1. hooks ---------------------------------------------------------------------------
    def test_hook_implementations(self, gallra_plugin_name: str) -> None:
        from core import contracts
        from core.hookspecs import HOOK_NAMES

        host = _host()
        plugin = host.plugin(gallra_plugin_name)
        assert plugin is not None, (
            f"plugin {gallra_plugin_name!r} is not installed: declare it under "
            "[project.entry-points.\"gallra.plugins\"] and pip install your distribution"
        )
        problems: list[str] = []
        implemented: dict[str, Any] = {}
        for attr in dir(plugin):
            opts = host.pm.parse_hookimpl_opts(plugin, attr)
            if opts is None:
                continue
            if attr not in HOOK_NAMES:
                problems.append(f"@hookimpl {attr!r} is not a Gallra hook (known: core/hookspecs.py)")
                continue
            implemented[attr] = getattr(plugin, attr)
        if not implemented:
            problems.append("the plugin implements no hook")
        for hook, type_name in DECLARATION_TYPES.items():
            fn = implemented.get(hook)
            if fn is None:
                continue
            if inspect.iscoroutinefunction(fn):
                problems.append(f"{hook} must answer synchronously (the core reads it at start-up)")
                continue
            result = fn()
            if result is None:
                continue
            if not isinstance(result, (list, tuple)):
                problems.append(f"{hook} must return a list, not {type(result).__name__}")
                continue
            names = (type_name,) if isinstance(type_name, str) else type_name
            kinds = tuple(getattr(contracts, n) for n in names)
            wrong = [type(x).__name__ for x in result if not isinstance(x, kinds)]
            if wrong:
                belongs = " or ".join(f"core.contracts.{n}" for n in names)
                problems.append(f"{hook} returned {wrong} where {belongs} belongs")
        describe = implemented.get("describe_module")
        if describe is not None:
            info = describe()
            if info is not None:
                if not isinstance(info, contracts.ModuleInfo):
                    problems.append("describe_module must return a core.contracts.ModuleInfo or None")
                elif info.name != gallra_plugin_name:
                    problems.append(
                        f"describe_module names the module {info.name!r} but the plugin is "
                        f"registered as {gallra_plugin_name!r}; use the entry-point name"
                    )
                elif not (info.label_sv and info.label_en):
                    problems.append("describe_module needs label_sv and label_en")
        apps = implemented.get("register_piccolo_apps")
        for path in (apps() or []) if apps is not None else []:
            try:
                config = importlib.import_module(path).APP_CONFIG
            except Exception as exc:  # reported below
                problems.append(f"Piccolo app {path!r} does not import: {type(exc).__name__}: {exc}")
                continue
            if not os.path.isdir(config.migrations_folder_path):
                problems.append(f"Piccolo app {path!r} has no migrations folder")
        routes = implemented.get("register_routes")
        if routes is not None:
            if inspect.iscoroutinefunction(routes):
                problems.append("register_routes must answer synchronously")
            elif not list(routes() or []):
                problems.append("register_routes returned no handler (return None instead)")
        commands = implemented.get("register_commands")
        if commands is not None:
            import click

            group = click.Group("gallra")
            try:
                commands(cli=group)
            except Exception as exc:  # reported below
                problems.append(f"register_commands failed: {type(exc).__name__}: {exc}")
        declare_kinds = implemented.get("declare_kinds")
        if declare_kinds is not None and not inspect.iscoroutinefunction(declare_kinds):
            others: dict[tuple[type, Any], str] = {
                (type(d), d.kind): name
                for name, declared in host.collect_by_plugin("declare_kinds").items()
                if name != gallra_plugin_name
                for d in declared
                if isinstance(d, contracts.KIND_DECLARATIONS)
            }
            for decl in declare_kinds() or []:
                owner = others.get((type(decl), getattr(decl, "kind", None)))
                if owner is not None:
                    problems.append(
                        f"declare_kinds declares the {type(decl).__name__} {decl.kind!r}, which "
                        f"plugin {owner!r} owns: one plugin per kind, or Gallra does not start"
                    )
        assert not problems, f"plugin {gallra_plugin_name!r}:\n  " + "\n  ".join(problems)

    # -- 2. declarations --------------------------------------------------------------------
    def test_declarations(self, gallra_plugin_name: str) -> None:
        from core.gdpr.registry import DeclarationError, build

        host = _host()
        try:
            decl = build(host)
        except DeclarationError as exc:
            pytest.fail(f"the core refuses the declarations: {exc}")
        problems: list[str] = []
        sources = host.collect_by_plugin("declare_search_sources").get(gallra_plugin_name, [])
        record_types = {
            key for (owner, key) in decl.record_types if owner == gallra_plugin_name
        }
        for s in sources:
            where = f"search source {_tablename(s.table)}.{s.column}"
            if not _has_column(s.table, "tenant_id"):
                problems.append(f"{where}: the table has no tenant_id column")
            if not _has_column(s.table, s.column):
                problems.append(f"{where}: no such column")
            for column, _ in s.where:
                if not _has_column(s.table, column):
                    problems.append(f"{where}: where column {column!r} does not exist")
            if not (s.place_sv and s.place_en):
                problems.append(f"{where}: place_sv and place_en are needed (shown with each hit)")
            if s.record_type and s.record_type not in record_types:
                problems.append(f"{where}: record type {s.record_type!r} is not declared by the plugin")
            if s.link is not None and not str(s.link(1)).startswith("/"):
                problems.append(f"{where}: link(id) must return a path starting with '/'")
        for (owner, key), rt in decl.record_types.items():
            if owner != gallra_plugin_name:
                continue
            if not _has_column(rt.table, "tenant_id"):
                problems.append(f"record type {key!r}: the table has no tenant_id column")
            if rt.number_column and not _has_column(rt.table, rt.number_column):
                problems.append(f"record type {key!r}: number_column {rt.number_column!r} does not exist")
            if rt.can_open is None:
                problems.append(
                    f"record type {key!r}: no can_open, so its activity is refused to everybody "
                    "(say who may open it: core.contracts.any_employee, or the plugin's own check)"
                )
        for info in decl.rules_of(gallra_plugin_name):
            if not (info.rule.label_sv and info.rule.label_en):
                problems.append(f"rule {info.key!r}: label_sv and label_en are needed")
        searched = {(_tablename(s.table), s.column) for s in sources}
        for f in decl.fields:
            if f.owner != gallra_plugin_name or f.field.category == "other":
                continue
            place = (_tablename(f.table), f.field.column)
            if not _is_text(_column(f.table, f.field.column)):
                continue
            if place not in searched and ".".join(place) not in self.not_searchable:
                problems.append(
                    f"personal-data field {'.'.join(place)} ({f.field.category}) has no search "
                    "source: person search would not show it (declare one, or list it in "
                    "not_searchable with the reason)"
                )
        assert not problems, f"plugin {gallra_plugin_name!r}:\n  " + "\n  ".join(problems)

    def test_text_columns_declared(self, gallra_plugin_name: str) -> None:
        """Every text column of the plugin's tables is declared: as personal data (erasure
        redacts and verifies it) or as ``NotPersonal`` with the reason."""
        from core.gdpr.registry import build, plugin_tables, undeclared_text_columns

        host = _host()
        missing = undeclared_text_columns(build(host), plugin_tables(host, gallra_plugin_name))
        assert not missing, (
            f"plugin {gallra_plugin_name!r}: text columns declared neither as personal data nor "
            "as core.contracts.NotPersonal (an erasure could not tell whether a person's "
            "identifiers are left in them): " + ", ".join(missing)
        )

    # -- 3. migrations ----------------------------------------------------------------------
    def _requires(self, name: str) -> tuple[str, ...]:
        record = _host().records.get(name)
        return record.module.requires if record is not None and record.module is not None else ()

    def _module_of(self, name: str) -> str | None:
        if name in self.modules:
            return self.modules[name]
        record = _host().records.get(name)
        if record is not None and record.distribution == "local":
            plugin = _host().plugin(name)
            return getattr(plugin, "__name__", None)
        return None

    def test_migrations_sqlite(self, gallra_plugin_name: str, tmp_path: Path) -> None:
        url = fresh_sqlite(tmp_path / "fresh.sqlite")
        result = run_migration_check(
            gallra_plugin_name, self._module_of(gallra_plugin_name), url, self._requires(gallra_plugin_name)
        )
        assert not result["problems"], "\n".join(result["problems"])

    def test_migrations_postgresql(self, gallra_plugin_name: str) -> None:
        base = postgres_url()
        if base is None:
            pytest.skip("set GALLRA_TEST_DATABASE_URL to a PostgreSQL database to check it too")
        url, name = fresh_postgres(base)
        try:
            result = run_migration_check(
                gallra_plugin_name, self._module_of(gallra_plugin_name), url, self._requires(gallra_plugin_name)
            )
        finally:
            asyncio.run(_pg_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        assert not result["problems"], "\n".join(result["problems"])

    # -- 4. and 5. retention and person search ------------------------------------------------
    async def _due_records(self, tenant_id: int, plugin: str, rule_key: str) -> dict[str, Any]:
        """Store a record of the rule (and its children) holding a value in every field,
        make it due, and return what was stored."""
        from core.gdpr.engine import _child_groups
        from core.gdpr.registry import get_declarations
        from core.gdpr.settings import RuleSetting, save_settings

        decl = get_declarations(_host())
        info = decl.rules[rule_key]
        rule = info.rule
        if rule.fixed:
            days = rule.default_days if rule.default_mode == "days" else 0
        elif "days" in rule.allowed_modes:
            days = 1
            await save_settings(tenant_id, {rule_key: RuleSetting("days", 1)})
        elif "immediately" in rule.allowed_modes:
            days = 0
            await save_settings(tenant_id, {rule_key: RuleSetting("immediately", rule.default_days)})
        else:
            pytest.skip(f"rule {rule_key!r} can only be off")
        past = datetime.now(UTC) - timedelta(days=days + 1, hours=1)
        table = info.table
        values: dict[str, Any] = {"tenant_id": tenant_id}
        for column, value in rule.where:
            values[column] = value
        for column in rule.clock_columns:
            values[column] = _moment(_column(table, column), past)
        own: list[tuple[Any, str, str, Any]] = []  # (table, column, strategy, value)
        for f in decl.fields_of_rule(rule_key):
            if f.field.parent_column is None and f.table is table:
                value = self.sample_value(table, f.field.column, f.field.category)
                values[f.field.column] = value
                own.append((table, f.field.column, f.field.strategy, value))
        record_id = await self.make_row(table, values)
        children: list[tuple[Any, int, list[tuple[str, str, Any]]]] = []
        for (child, parent_column), fields in _child_groups(decl, info).items():
            child_values: dict[str, Any] = {"tenant_id": tenant_id, parent_column: record_id}
            stored: list[tuple[str, str, Any]] = []
            for f in fields:
                if f.field.column == parent_column:
                    stored.append((f.field.column, f.field.strategy, record_id))
                    continue
                value = self.sample_value(child, f.field.column, f.field.category)
                child_values[f.field.column] = value
                stored.append((f.field.column, f.field.strategy, value))
            children.append((child, await self.make_row(child, child_values), stored))
        return {"info": info, "id": record_id, "own": own, "children": children}

    async def _sweep(self, tenant_id: int, plugin: str, rule_key: str) -> None:
        from core.gdpr.engine import sweep

        results = await sweep(tenant_id, plugin, rules=[rule_key])
        assert [r.rule for r in results] == [rule_key]
        result = results[0]
        assert result.outcome == "ok", f"the sweep of {rule_key!r} ended {result.outcome}: {result.error}"
        assert result.records >= 1, (
            f"the sweep of {rule_key!r} found nothing due: a record whose clock columns are past "
            "the cutoff and that matches the rule's where pairs should be anonymized"
        )

    @staticmethod
    async def _row(table: Any, record_id: int) -> dict[str, Any] | None:
        pk = table._meta.primary_key
        return await table.select().where(pk == record_id).first()

    @pytest.mark.asyncio
    async def test_retention(self, gallra_plugin_name: str, gallra_rule: str, gallra_tenant: Any) -> None:
        from core.gdpr.engine import anonymization_word
        from core.gdpr.registry import deletes_rows, get_declarations

        stored = await self._due_records(gallra_tenant.id, gallra_plugin_name, gallra_rule)
        word = await anonymization_word(gallra_tenant.id)
        await self._sweep(gallra_tenant.id, gallra_plugin_name, gallra_rule)
        info = stored["info"]
        problems: list[str] = []
        row = await self._row(info.table, stored["id"])
        if deletes_rows(get_declarations(_host()), info):
            if row is not None:
                problems.append(f"{_tablename(info.table)} {stored['id']} should have been deleted")
        elif row is None:
            problems.append(f"{_tablename(info.table)} {stored['id']} disappeared")
        else:
            if row.get(info.rule.marker_column) is None:
                problems.append(f"{_tablename(info.table)}.{info.rule.marker_column} was not set")
            for table, column, strategy, _value in stored["own"]:
                if strategy == "delete_row":
                    continue
                expected = self.expected_value(table, column, strategy, word)
                if not _same(row[column], expected):
                    problems.append(
                        f"{_tablename(table)}.{column} ({strategy}) holds {row[column]!r}, "
                        f"expected {expected!r}"
                    )
        for child, child_id, fields in stored["children"]:
            child_row = await self._row(child, child_id)
            if any(strategy == "delete_row" for _, strategy, _ in fields):
                if child_row is not None:
                    problems.append(f"child {_tablename(child)} {child_id} should have been deleted")
                continue
            if child_row is None:
                problems.append(f"child {_tablename(child)} {child_id} disappeared")
                continue
            for column, strategy, _ in fields:
                expected = self.expected_value(child, column, strategy, word)
                if not _same(child_row[column], expected):
                    problems.append(
                        f"child {_tablename(child)}.{column} ({strategy}) holds "
                        f"{child_row[column]!r}, expected {expected!r}"
                    )
        assert not problems, f"rule {gallra_rule!r}:\n  " + "\n  ".join(problems)

    def _searchable(self, plugin: str) -> set[tuple[str, str]]:
        sources = _host().collect_by_plugin("declare_search_sources").get(plugin, [])
        return {(_tablename(s.table), s.column) for s in sources}

    @pytest.mark.asyncio
    async def test_person_search(
        self, gallra_plugin_name: str, gallra_rule: str, gallra_tenant: Any
    ) -> None:
        find = search_find()
        if find is None:
            pytest.skip(SKIP_SEARCH)
        stored = await self._due_records(gallra_tenant.id, gallra_plugin_name, gallra_rule)
        searchable = self._searchable(gallra_plugin_name)
        values: list[tuple[str, str, Any]] = []
        for table, column, _, value in stored["own"]:
            values.append((_tablename(table), column, value))
        for child, _, fields in stored["children"]:
            for column, _, value in fields:
                values.append((_tablename(child), column, value))
        values = [v for v in values if isinstance(v[2], str) and (v[0], v[1]) in searchable]
        if not values:
            pytest.skip(f"rule {gallra_rule!r} stores no searchable text")
        problems: list[str] = []
        for tablename, column, value in values:
            hits = await find(gallra_tenant.id, value)
            if not any(h.table == tablename and h.column == column for h in hits):
                problems.append(f"before the sweep, {tablename}.{column} = {value!r} was not found")
        await self._sweep(gallra_tenant.id, gallra_plugin_name, gallra_rule)
        for tablename, column, value in values:
            hits = await find(gallra_tenant.id, value)
            if hits:
                where = ", ".join(sorted({f"{h.table}.{h.column}" for h in hits}))
                problems.append(f"after the sweep, {value!r} of {tablename}.{column} is still found in {where}")
        assert not problems, f"rule {gallra_rule!r}:\n  " + "\n  ".join(problems)

    @pytest.mark.asyncio
    async def test_person_search_without_rule(self, gallra_plugin_name: str, gallra_tenant: Any) -> None:
        """Text fields no rule anonymizes (kept by retention, known to search) are found."""
        find = search_find()
        if find is None:
            pytest.skip(SKIP_SEARCH)
        from core.gdpr.registry import get_declarations

        decl = get_declarations(_host())
        sources = _host().collect_by_plugin("declare_search_sources").get(gallra_plugin_name, [])
        where_of = {(_tablename(s.table), s.column): s.where for s in reversed(sources)}
        by_table: dict[Any, list[Any]] = defaultdict(list)
        for f in decl.fields:
            if f.owner != gallra_plugin_name or f.field.rule is not None:
                continue
            key = (_tablename(f.table), f.field.column)
            if key in where_of and _is_text(_column(f.table, f.field.column)):
                by_table[f.table].append(f)
        if not by_table:
            pytest.skip("every searchable field of the plugin has a rule")
        problems: list[str] = []
        for table, fields in by_table.items():
            first = (_tablename(table), fields[0].field.column)
            values: dict[str, Any] = {"tenant_id": gallra_tenant.id, **dict(where_of[first])}
            for f in fields:
                values[f.field.column] = self.sample_value(table, f.field.column, f.field.category)
            stored = dict(values)
            await self.make_row(table, values)
            for f in fields:
                value = stored[f.field.column]
                hits = await find(gallra_tenant.id, value)
                if not any(h.table == _tablename(table) and h.column == f.field.column for h in hits):
                    problems.append(f"{_tablename(table)}.{f.field.column} = {value!r} was not found")
        assert not problems, "\n  ".join(problems)

    # -- 6. references ----------------------------------------------------------------------
    @pytest.mark.asyncio
    async def test_references(self, gallra_plugin_name: str, gallra_tenant: Any) -> None:
        from core.gdpr.engine import anonymization_word, anonymize_records
        from core.gdpr.registry import get_declarations
        from core.tables import Employee

        host = _host()
        decl = get_declarations(host)
        refs = [
            f for f in decl.fields
            if f.owner == gallra_plugin_name and f.field.category in REFERENCE_CATEGORIES
        ]
        # One column may be declared for several rules; its reference behaviour is one.
        unique: dict[tuple[str, str], Any] = {}
        for f in refs:
            unique.setdefault((_tablename(f.table), f.field.column), f)
        if not unique:
            pytest.skip("the plugin declares no customer_ref, contact_ref or employee_ref column")
        table = _stub_table()
        async with as_owner():  # DDL: the tables' owner
            await table.create_table(if_not_exists=True)
        tenant_id = gallra_tenant.id
        people: dict[str, int] = {}
        for kind in ("customer", "contact"):
            people[kind] = await self.make_row(table, {"tenant_id": tenant_id, "kind": kind})
        emp = await Employee.insert(
            Employee(
                tenant_id=tenant_id, name="Kit Employee", email=f"kit-{uuid.uuid4().hex[:8]}@example.se", role="user"
            )
        ).returning(Employee.id)
        people["employee"] = int(emp[0]["id"])
        self.created(Employee, people["employee"])
        # One row per table for the columns that are set to a value, holding all of them
        # (tables may have unique indexes that a second row of default values would break),
        # and one row per column whose person's anonymization deletes the row.
        by_table: dict[tuple[str, str], list[Any]] = defaultdict(list)
        for (tablename, column), f in sorted(unique.items()):
            deletes = f.field.strategy == "delete_row"
            by_table[(tablename, column if deletes else "")].append(f)
        rows: list[tuple[Any, str, str, int]] = []
        for fields in by_table.values():
            values: dict[str, Any] = {"tenant_id": tenant_id}
            for f in fields:
                values[f.field.column] = people[REFERENCE_CATEGORIES[f.field.category]]
            row_id = await self.make_row(fields[0].table, values)
            rows.extend((f.table, f.field.column, f.field.strategy, row_id) for f in fields)
        host.add(_stub_plugin(), name=STUB_NAME, distribution="gallra-kit")
        try:
            for kind, key in STUB_RULES.items():
                await anonymize_records(tenant_id, STUB_NAME, key, [people[kind]], reason="conformance")
            await anonymize_records(tenant_id, "core", "core.employees", [people["employee"]], reason="conformance")
        finally:
            host.pm.unregister(name=STUB_NAME)
            host.records.pop(STUB_NAME, None)
        word = await anonymization_word(tenant_id)
        problems: list[str] = []
        for ref_table, column, strategy, row_id in rows:
            row = await self._row(ref_table, row_id)
            if strategy == "delete_row":
                if row is not None:
                    problems.append(f"{_tablename(ref_table)} {row_id} should have been deleted")
                continue
            if row is None:
                problems.append(f"{_tablename(ref_table)} {row_id} disappeared")
                continue
            expected = self.expected_value(ref_table, column, strategy, word)
            if not _same(row[column], expected):
                problems.append(
                    f"{_tablename(ref_table)}.{column} ({strategy}) holds {row[column]!r} after the "
                    f"person was anonymized, expected {expected!r}"
                )
        assert not problems, f"plugin {gallra_plugin_name!r}:\n  " + "\n  ".join(problems)
