"""Collecting and checking every plugin's GDPR declarations.

Declarations are read through hooks once per set of registered plugins and checked
loudly: a duplicate rule key, a rule table without ``tenant_id`` or its marker column, a
field on a column that does not exist or that cannot take its strategy, a column declared
both personal and not personal all raise :class:`DeclarationError` when the application
starts, instead of failing in a sweep at three in the morning.

:func:`undeclared_text_columns` lists the text columns of a plugin's tables that are
declared neither way (the conformance kit fails on them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from piccolo.columns import (
    BigInt,
    DoublePrecision,
    ForeignKey,
    Integer,
    Numeric,
    Real,
    SmallInt,
    Text,
    Varchar,
)
from piccolo.table import Table

from core.contracts import NotPersonal, PersonalDataField, RecordType, RetentionRule, SearchSource

MODES = ("immediately", "days", "off")
STRATEGIES = ("replace", "null", "zero", "empty", "delete_row")
SUBJECT_CATEGORY = {
    "customer": "customer_ref",
    "contact": "contact_ref",
    "employee": "employee_ref",
}
# What person search may look in: identifiers a person is looked up by, and references to
# a person. Never "other" (machine text, device labels, hashes): a search source must be a
# value somebody would type to find a person.
SEARCH_CATEGORIES = (
    "name", "email", "phone", "national_id", "address", "free_text", "ip",
    "customer_ref", "contact_ref", "employee_ref",
)
# Words of a column name that mark a secret, whatever category it is declared as: a search
# source named so is refused (as is a column declared ``secret=True``, e.g. the outbox's
# message body and subject, which carry reset links and one-time codes).
SECRET_NAME_PARTS = frozenset(
    {"hash", "token", "secret", "password", "passwd", "cipher", "ciphertext", "salt", "nonce",
     "otp", "totp", "wrapped", "signature"}
)
MIN_DAYS = 1
MAX_DAYS = 3650


class DeclarationError(RuntimeError):
    """A plugin declared something the engine cannot run. The message names the plugin."""


@dataclass(frozen=True)
class RuleInfo:
    """A declared rule and the plugin that declared it (its owner)."""

    rule: RetentionRule
    owner: str

    @property
    def key(self) -> str:
        return self.rule.key

    @property
    def module(self) -> str:
        return self.rule.module or self.owner

    @property
    def table(self) -> type[Table]:
        assert self.rule.table is not None
        return self.rule.table

    @property
    def clocks(self) -> list[str]:
        clock = self.rule.clock
        return [clock] if isinstance(clock, str) else list(clock)

    def has_marker(self) -> bool:
        return _has_column(self.table, self.rule.marker_column)


@dataclass(frozen=True)
class FieldInfo:
    field: PersonalDataField
    owner: str

    @property
    def table(self) -> type[Table]:
        return self.field.table


@dataclass
class Declarations:
    rules: dict[str, RuleInfo] = field(default_factory=dict)
    fields: list[FieldInfo] = field(default_factory=list)
    record_types: dict[tuple[str, str], RecordType] = field(default_factory=dict)
    # (tablename, column) -> (owner, reason): text columns declared as holding no personal data
    not_personal: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)

    def personal_text_columns(self) -> dict[str, tuple[type[Table], dict[str, list[FieldInfo]]]]:
        """tablename -> (table, {text column: its declarations}) of every declared
        personal-data text column: where an erasure redacts and verifies."""
        out: dict[str, tuple[type[Table], dict[str, list[FieldInfo]]]] = {}
        for f in self.fields:
            if not is_text(_column(f.table, f.field.column)):
                continue
            entry = out.setdefault(f.table._meta.tablename, (f.table, {}))
            entry[1].setdefault(f.field.column, []).append(f)
        return out

    def rules_of(self, plugin: str) -> list[RuleInfo]:
        return [r for r in self.rules.values() if r.owner == plugin]

    def rules_of_module(self, module: str) -> list[RuleInfo]:
        return [r for r in self.rules.values() if r.module == module]

    def plugins_with_rules(self) -> list[str]:
        return sorted({r.owner for r in self.rules.values()})

    def fields_of_rule(self, key: str) -> list[FieldInfo]:
        return [f for f in self.fields if f.field.rule == key]

    def reference_fields(self, category: str) -> list[FieldInfo]:
        return [f for f in self.fields if f.field.category == category]


def _has_column(table: type[Table], name: str) -> bool:
    return any(c._meta.name == name for c in table._meta.columns)


def _column(table: type[Table], name: str) -> Any:
    for c in table._meta.columns:
        if c._meta.name == name:
            return c
    return None


def is_text(col: Any) -> bool:
    return isinstance(col, (Varchar, Text))


def text_capacity(col: Any) -> int | None:
    """How many characters a text column holds (None: unlimited)."""
    if isinstance(col, Varchar):
        return int(col.length) if col.length else None
    return None


def _is_number(col: Any) -> bool:
    return isinstance(
        col, (Integer, BigInt, SmallInt, Real, DoublePrecision, Numeric)
    ) and not isinstance(col, ForeignKey)


def _check_rule(owner: str, rule: RetentionRule) -> None:
    where = f"plugin {owner!r}, retention rule {rule.key!r}"
    if not rule.key or len(rule.key) > 120:
        raise DeclarationError(f"{where}: the key must be 1-120 characters")
    if rule.table is None:
        raise DeclarationError(f"{where}: it names no table")
    table = rule.table
    if not _has_column(table, "tenant_id"):
        raise DeclarationError(f"{where}: table {table._meta.tablename} has no tenant_id column")
    if not rule.clock_columns:
        raise DeclarationError(f"{where}: it names no clock_columns")
    for c in rule.clock_columns:
        if not _has_column(table, c):
            raise DeclarationError(f"{where}: clock column {c!r} is not in {table._meta.tablename}")
    for c, _ in rule.where:
        if not _has_column(table, c):
            raise DeclarationError(f"{where}: where column {c!r} is not in {table._meta.tablename}")
    if not rule.allowed_modes or any(m not in MODES for m in rule.allowed_modes):
        raise DeclarationError(f"{where}: allowed_modes must be taken from {MODES}")
    if rule.default_mode not in rule.allowed_modes:
        raise DeclarationError(f"{where}: default_mode {rule.default_mode!r} is not allowed by it")
    if not (MIN_DAYS <= rule.default_days <= MAX_DAYS):
        raise DeclarationError(f"{where}: default_days must be {MIN_DAYS}..{MAX_DAYS}")
    if rule.subject is not None and rule.subject not in SUBJECT_CATEGORY:
        raise DeclarationError(f"{where}: subject must be one of {sorted(SUBJECT_CATEGORY)}")
    if rule.clears_activity and not rule.record_type:
        raise DeclarationError(f"{where}: clears_activity needs record_type")


def _check_field(owner: str, f: PersonalDataField, rules: dict[str, RuleInfo]) -> None:
    table = f.table
    where = f"plugin {owner!r}, personal-data field {table._meta.tablename}.{f.column}"
    col = _column(table, f.column)
    if col is None:
        raise DeclarationError(f"{where}: no such column")
    if not _has_column(table, "tenant_id"):
        raise DeclarationError(f"{where}: the table has no tenant_id column")
    if f.strategy not in STRATEGIES:
        raise DeclarationError(f"{where}: unknown strategy {f.strategy!r}")
    if f.strategy in ("replace", "empty") and not is_text(col):
        raise DeclarationError(f"{where}: strategy {f.strategy!r} needs a text column")
    if f.strategy == "null" and not col._meta.null:
        raise DeclarationError(f"{where}: strategy 'null' needs a nullable column")
    if f.strategy == "zero" and not _is_number(col):
        raise DeclarationError(
            f"{where}: strategy 'zero' needs a number column (not a foreign key)"
        )
    if f.parent_column is not None and not _has_column(table, f.parent_column):
        raise DeclarationError(f"{where}: parent_column {f.parent_column!r} is not in the table")
    if f.rule is not None:
        info = rules.get(f.rule)
        if info is None:
            raise DeclarationError(f"{where}: no installed plugin declares rule {f.rule!r}")
        if f.parent_column is None and table is not info.table:
            raise DeclarationError(
                f"{where}: the table is not the table of rule {f.rule!r}; name the column holding "
                "the parent record's id in parent_column"
            )


def _check_not_personal(owner: str, np: NotPersonal) -> None:
    table = np.table
    where = f"plugin {owner!r}, not-personal columns of {table._meta.tablename}"
    if not np.reason.strip():
        raise DeclarationError(f"{where}: give the reason the columns hold no personal data")
    if isinstance(np.columns, str) or not np.columns:
        raise DeclarationError(f"{where}: columns must be a tuple of column names")
    for c in np.columns:
        if _column(table, c) is None:
            raise DeclarationError(f"{where}: no such column {c!r}")


def is_secret_column(col: Any) -> bool:
    """Whether a column holds a secret, a token, a code, a hash or a message body: declared
    ``secret=True`` or named with one of :data:`SECRET_NAME_PARTS`."""
    if getattr(col._meta, "secret", False):
        return True
    parts = set(str(col._meta.name).lower().split("_"))
    return bool(parts & SECRET_NAME_PARTS)


def check_search_source(owner: str, src: SearchSource) -> None:
    """Refuse a search source that is not an identifier of a person (the rule of person
    search: it never indexes or shows secrets, tokens, codes, hashes or message bodies)."""
    table = src.table
    where = f"plugin {owner!r}, search source {table._meta.tablename}.{src.column}"
    col = _column(table, src.column)
    if col is None:
        raise DeclarationError(f"{where}: no such column")
    if not _has_column(table, "tenant_id"):
        raise DeclarationError(f"{where}: the table has no tenant_id column")
    if src.category not in SEARCH_CATEGORIES:
        raise DeclarationError(
            f"{where}: category {src.category!r} is not an identifier a person is looked up by; "
            f"search sources are one of {list(SEARCH_CATEGORIES)}"
        )
    if is_secret_column(col):
        raise DeclarationError(
            f"{where}: the column holds a secret, token, code, hash or message body; person "
            "search never indexes or shows one (find messages by their recipient)"
        )
    for c, _ in src.where:
        if not _has_column(table, c):
            raise DeclarationError(f"{where}: where column {c!r} is not in the table")


def build(host: Any) -> Declarations:
    """Read and check every plugin's declarations."""
    decl = Declarations()
    for owner, rules in host.collect_by_plugin("declare_retention_rules").items():
        for rule in rules:
            _check_rule(owner, rule)
            if rule.key in decl.rules:
                other = decl.rules[rule.key].owner
                raise DeclarationError(
                    f"retention rule key {rule.key!r} is declared by both {other!r} and {owner!r}; "
                    "rule keys must be unique (prefix them with the plugin name)"
                )
            decl.rules[rule.key] = RuleInfo(rule, owner)
    for owner, fields in host.collect_by_plugin("declare_personal_data").items():
        for f in fields:
            if isinstance(f, NotPersonal):
                _check_not_personal(owner, f)
                for c in f.columns:
                    decl.not_personal[(f.table._meta.tablename, c)] = (owner, f.reason)
                continue
            _check_field(owner, f, decl.rules)
            decl.fields.append(FieldInfo(f, owner))
    for f in decl.fields:
        key = (f.table._meta.tablename, f.field.column)
        if key in decl.not_personal:
            other = decl.not_personal[key][0]
            raise DeclarationError(
                f"column {key[0]}.{key[1]} is declared personal data by {f.owner!r} and not "
                f"personal by {other!r}; it is one or the other"
            )
    for info in decl.rules.values():
        if not info.has_marker() and not deletes_rows(decl, info):
            raise DeclarationError(
                f"plugin {info.owner!r}, retention rule {info.key!r}: table "
                f"{info.table._meta.tablename} has no marker column {info.rule.marker_column!r}"
            )
    for owner, types in host.collect_by_plugin("declare_record_types").items():
        for rt in types:
            if (owner, rt.key) in decl.record_types:
                raise DeclarationError(f"plugin {owner!r} declares record type {rt.key!r} twice")
            decl.record_types[(owner, rt.key)] = rt
    for owner, sources in host.collect_by_plugin("declare_search_sources").items():
        for src in sources:
            check_search_source(owner, src)
    return decl


def plugin_tables(host: Any, plugin: str) -> list[type[Table]]:
    """The tables of a plugin's Piccolo apps (``register_piccolo_apps``); "core" for the
    core's own."""
    import importlib

    out: list[type[Table]] = []
    for answer in host.call_plugin(plugin, "register_piccolo_apps") or []:
        for path in answer or []:
            out.extend(importlib.import_module(path).APP_CONFIG.table_classes)
    return out


def undeclared_text_columns(decl: Declarations, tables: Iterable[type[Table]]) -> list[str]:
    """``table.column`` of every text column of ``tables`` declared neither as personal
    data nor as :class:`~core.contracts.NotPersonal`."""
    declared = {(f.table._meta.tablename, f.field.column) for f in decl.fields}
    declared |= set(decl.not_personal)
    out: list[str] = []
    for table in tables:
        name = table._meta.tablename
        for col in table._meta.columns:
            if is_text(col) and (name, col._meta.name) not in declared:
                out.append(f"{name}.{col._meta.name}")
    return out


def deletes_rows(decl: Declarations, info: RuleInfo) -> bool:
    """Whether the rule deletes its own rows (then it needs no marker column)."""
    return any(
        f.field.strategy == "delete_row" and f.field.parent_column is None and f.table is info.table
        for f in decl.fields_of_rule(info.key)
    )


_cache: tuple[Any, Declarations] | None = None


def _signature(host: Any) -> tuple[Any, ...]:
    return (id(host), tuple((n, id(p)) for n, p in host.pm.list_name_plugin()))


def get_declarations(host: Any = None) -> Declarations:
    """The checked declarations of the installed plugins (rebuilt when plugins change)."""
    global _cache
    if host is None:
        from core.plugins import get_host

        host = get_host()
    sig = _signature(host)
    if _cache is not None and _cache[0] == sig:
        return _cache[1]
    decl = build(host)
    _cache = (sig, decl)
    return decl


def iter_rules(decl: Declarations) -> Iterable[RuleInfo]:
    return sorted(decl.rules.values(), key=lambda r: (r.module != "core", r.module, r.key))
