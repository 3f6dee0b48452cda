"""Person search: one index over every place a plugin declared with ``declare_search_sources``.

How it stays exact and current
------------------------------
* Every declared (table, column) becomes a *field*. Database triggers on each such table
  (installed by :func:`ensure_index`, generated from the declarations) note the id of every
  inserted or updated row in ``gdpr_search_dirty`` — whatever wrote it: a plugin's service,
  the anonymization engine, raw SQL. Rows deleted or marked anonymized lose their terms in
  the writing statement itself, with no note (on PostgreSQL the triggers run once per
  statement over its transition tables: a sweep batch costs one set-based DELETE).
* Before the outermost :func:`core.db.atomic` transaction commits, :func:`flush` turns those
  notes into normalized terms (``gdpr_search_term``) in the same transaction, a bounded
  chunk at a time, so the index and the data commit together; anonymized values leave the
  index in the anonymizing transaction. A write made outside ``atomic()`` is flushed by the
  next transaction or by the next search, before it answers, so a search never misses a
  committed value.
* Terms are normalized the same way the query is (one function each, below): e-mail
  addresses lower-cased (whole, domain, and the words of the local part), phone numbers as
  E.164 digits, Swedish personal identity and organization numbers as digits, text as
  case-folded words (å, ä and ö stay letters of their own). Rows marked anonymized are not
  indexed at all.

A query is answered from the index with one indexed range or equality lookup per term, then
the matching rows are read to show their number, status and value, and to apply each
source's ``where``.
"""

from __future__ import annotations

import contextvars
import heapq
import json
import logging
import re
import unicodedata
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from core.contracts import SearchSource
from core.db import (
    after_commit,
    as_owner,
    atomic,
    custom_plans,
    is_sqlite,
    may_have_noted,
    on_before_commit,
    provide_row_indexer,
    raw,
    snapshot,
)
from core.gdpr.registry import check_search_source
from core.gdpr.sql import ids_in, q
from core.validation import FieldError, normalize_national_id, normalize_org_number, normalize_phone

log = logging.getLogger(__name__)

AREA_ORDER = {"workcloud": 0, "time": 1, "gdpr": 2, "settings": 3}
MAX_TERM = 120
MAX_WORDS_PER_VALUE = 5000
MAX_QUERY = 200
REF_KINDS = {"customer_ref": "c", "contact_ref": "k", "employee_ref": "m"}
TEXT_CATEGORIES = {"name", "address", "free_text", "other"}
_WORD_RE = re.compile(r"\w+", re.UNICODE)
_EMAIL_IN_TEXT = re.compile(r"[^\s@<>(),;:\"']{1,64}@[^\s@<>(),;:\"']{1,253}\.[a-zA-Z]{2,63}")
_PHONEISH = re.compile(r"^\+?[\d\s\-()/.]{6,30}$")
_IDISH = re.compile(r"^(\d{2})?\d{6}[-+]?\d{4}$")
_IPISH = re.compile(r"^(\d{1,3}\.){3}\d{1,3}$|^[0-9a-fA-F:]*:[0-9a-fA-F:]+$")


class SearchError(FieldError):
    """A query the search cannot use (empty, too long); a 400 naming ``q``."""


# --- normalization (shared by indexing and querying) -------------------------------------


def fold(text: str) -> str:
    """Case-fold for matching; å, ä, ö (and é ...) stay distinct letters (NFC, no accent strip)."""
    return unicodedata.normalize("NFC", text).casefold()


def words(text: str) -> list[str]:
    return [w[:MAX_TERM] for w in _WORD_RE.findall(fold(text))]


def phone_digits(value: str) -> str | None:
    try:
        e164 = normalize_phone(value)
    except FieldError:
        return None
    return e164[1:] if e164 else None


def id_digits(value: str) -> list[str]:
    """Digits of a personal identity number (12) and/or organization number (10)."""
    out: list[str] = []
    try:
        pnr = normalize_national_id(value)
        if pnr:
            out.append(pnr.replace("-", ""))
    except FieldError:
        pass
    try:
        org = normalize_org_number(value)
        if org:
            out.append(org.replace("-", ""))
    except FieldError:
        pass
    return out


def _email_terms(email: str) -> list[tuple[str, str]]:
    email = fold(email.strip())
    out = [("e", email[:MAX_TERM])]
    _, _, domain = email.partition("@")
    if domain:
        out.append(("e", domain[:MAX_TERM]))
    # Words of the whole address: "svensson" and "demo" find anna.svensson@demo.example.
    out.extend(("w", w) for w in words(email))
    return out


def column_terms(categories: str, value: Any) -> set[tuple[str, str]]:
    """The (kind, term) pairs of a value stored in a column indexed under ``categories``
    (one or more, "name|email"): every writer of the index works a column's terms out here,
    so the flush, the engine's set-based replacement, a self-indexing INSERT and the check
    agree by construction."""
    found: set[tuple[str, str]] = set()
    for cat in categories.split("|"):
        found |= terms_for(cat, value)
    return found


def terms_for(category: str, value: Any) -> set[tuple[str, str]]:
    """The (kind, term) pairs a stored value is found by."""
    if value is None:
        return set()
    if category in REF_KINDS:
        try:
            n = int(value)
        except (TypeError, ValueError):
            return set()
        return {(REF_KINDS[category], str(n))} if n > 0 else set()
    text = str(value).strip()
    if not text:
        return set()
    if category == "email":
        return set(_email_terms(text)) if "@" in text else {("w", w) for w in words(text)}
    if category == "phone":
        digits = phone_digits(text) or re.sub(r"\D", "", text)
        return {("p", digits)} if digits else set()
    if category == "national_id":
        found = id_digits(text) or [re.sub(r"\D", "", text)]
        return {("n", d) for d in found if d}
    if category == "ip":
        return {("i", text.lower()[:MAX_TERM])}
    out: set[tuple[str, str]] = set()
    for i, w in enumerate(words(text)):
        if i >= MAX_WORDS_PER_VALUE:
            break
        out.add(("w", w))
    if "@" in text:
        for m in _EMAIL_IN_TEXT.findall(text):
            out.update(_email_terms(m))
    return out


@dataclass(frozen=True)
class Lookup:
    """One index lookup: exact or prefix match of a term of one kind."""

    kind: str
    term: str
    prefix: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    kind: str  # "email" | "phone" | "national_id" | "ip" | "text"
    # Alternatives: a record matches if it matches every lookup of one alternative.
    alternatives: tuple[tuple[Lookup, ...], ...]


def parse_query(text: str) -> ParsedQuery:
    """What the person typed, as index lookups."""
    qtext = (text or "").strip()
    if not qtext:
        raise SearchError("q", "type a name, e-mail address, phone number or personal identity number")
    if len(qtext) > MAX_QUERY:
        raise SearchError("q", f"the search text is too long; use at most {MAX_QUERY} characters")
    if "@" in qtext and " " not in qtext:
        t = fold(qtext)
        if t.startswith("@"):
            t = t[1:]
        if not t:
            raise SearchError("q", "type more of the e-mail address")
        return ParsedQuery("email", ((Lookup("e", t[:MAX_TERM], prefix=True),),))
    if (_IPISH.match(qtext) and ("." in qtext or ":" in qtext) and not qtext.isdigit()
            and (qtext.count(".") == 3 or ":" in qtext)):
        return ParsedQuery("ip", ((Lookup("i", qtext.lower()),),))
    compact = qtext.replace(" ", "")
    if _IDISH.match(compact):
        ids = id_digits(compact)
        if ids:
            alternatives: list[tuple[Lookup, ...]] = [(Lookup("n", d),) for d in ids]
            # 0701234567 can be a valid identity number and a phone number at once.
            phone = phone_digits(qtext) if not any(c in qtext for c in "+-") else None
            if phone:
                alternatives.append((Lookup("p", phone),))
            return ParsedQuery("national_id", tuple(alternatives))
    if _PHONEISH.match(qtext) and sum(c.isdigit() for c in qtext) >= 6:
        digits = phone_digits(qtext)
        if digits:
            return ParsedQuery("phone", ((Lookup("p", digits),),))
        raw_digits = re.sub(r"\D", "", qtext)
        # Digits that are no valid phone or id number: a partial number of either kind.
        return ParsedQuery(
            "phone",
            ((Lookup("p", raw_digits, prefix=True),), (Lookup("n", raw_digits, prefix=True),)),
        )
    ws = list(dict.fromkeys(words(qtext)))[:8]
    if not ws:
        raise SearchError("q", "type at least one letter or digit")
    alternatives = [tuple(Lookup("w", w, prefix=True) for w in ws)]
    if not any(c.isspace() for c in qtext) and "." in qtext:
        # "example.se": the start of an e-mail address or of its domain.
        alternatives.append((Lookup("e", fold(qtext)[:MAX_TERM], prefix=True),))
    return ParsedQuery("text", tuple(alternatives))


# --- the declared places ---------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    source: SearchSource
    owner: str
    index: int
    tbl: str = ""
    col: str = ""
    # The record type's ``can_open`` (core.contracts.RecordType), asked read-only for who
    # may read a hit; None for types every employee may open (``any_employee``) or none.
    can_open: Any = None

    @classmethod
    def of(cls, source: SearchSource, owner: str, index: int, can_open: Any = None) -> Source:
        table = source.table
        col = table._meta.get_column_by_name(source.column)._meta.db_column_name
        return cls(source, owner, index, table._meta.tablename, col, can_open)


@dataclass
class Registry:
    sources: list[Source] = field(default_factory=list)
    # tablename -> {column: category}
    tables: dict[str, dict[str, str]] = field(default_factory=dict)
    table_classes: dict[str, Any] = field(default_factory=dict)
    field_ids: dict[tuple[str, str], int] = field(default_factory=dict)

    def sources_of(self, tbl: str, col: str) -> list[Source]:
        return [s for s in self.sources if s.tbl == tbl and s.col == col]


def _has(table: Any, name: str) -> bool:
    return any(c._meta.db_column_name == name for c in table._meta.columns)


def reference_sources(
    host: Any, declared: list[tuple[str, SearchSource]]
) -> list[tuple[str, SearchSource]]:
    """A search source for every declared personal-data reference to a person (``*_ref``)
    that no plugin declared as one: search and the data subjects' export (which reads the
    same index) follow every reference the declarations name, the employee who recorded a
    case as well as the employee of a time report. Placed like the table's declared sources
    (one per ``where``), else named by the field's label and the table's record type."""
    from core.gdpr.registry import get_declarations

    decl = get_declarations(host)
    have = {(src.table, src.column) for _, src in declared}
    by_table: dict[Any, list[tuple[str, SearchSource]]] = defaultdict(list)
    for owner, src in declared:
        by_table[src.table].append((owner, src))
    out: list[tuple[str, SearchSource]] = []
    for f in decl.fields:
        pd = f.field
        if pd.category not in REF_KINDS or (pd.table, pd.column) in have:
            continue
        have.add((pd.table, pd.column))
        placed = by_table.get(pd.table)
        if placed:
            seen: set[tuple[Any, ...]] = set()
            for owner, src in placed:
                if src.where in seen:
                    continue
                seen.add(src.where)
                out.append((owner, SearchSource(
                    pd.table, pd.column, pd.category, src.area, src.place_sv, src.place_en,
                    link=src.link, record_type=src.record_type, where=src.where,
                )))
            continue
        rt = next(
            (r for (o, _), r in decl.record_types.items() if r.table is pd.table and o == f.owner),
            None,
        )
        area = next((src.area for o, src in declared if o == f.owner), "settings")
        out.append((f.owner, SearchSource(
            pd.table, pd.column, pd.category, area,
            pd.label_sv or pd.column, pd.label_en or pd.column,
            link=rt.link if rt else None, record_type=rt.key if rt else "",
        )))
    return out


def collect_sources(host: Any) -> Registry:
    reg = Registry()
    declared: list[tuple[str, SearchSource]] = []
    for owner, sources in host.collect_by_plugin("declare_search_sources").items():
        for src in sources:
            # Identifiers only: never a secret, token, code, hash or message body.
            check_search_source(owner, src)
            declared.append((owner, src))
    from core.contracts import any_employee
    from core.gdpr.registry import get_declarations

    types = get_declarations(host).record_types
    for owner, src in [*declared, *reference_sources(host, declared)]:
        rt = types.get((owner, src.record_type)) or next(
            (r for (_, k), r in types.items() if k == src.record_type and r.table is src.table),
            None,
        )
        can_open = rt.can_open if rt is not None and rt.can_open is not any_employee else None
        s = Source.of(src, owner, len(reg.sources), can_open)
        reg.sources.append(s)
        cols = reg.tables.setdefault(s.tbl, {})
        if s.col in cols and cols[s.col] != src.category:
            # Two plugins calling one column different things: index it both ways.
            cols[s.col] = cols[s.col] + "|" + src.category
        else:
            cols[s.col] = src.category
        reg.table_classes[s.tbl] = src.table
    return reg


_registry: tuple[Any, Registry] | None = None


def registry(host: Any = None) -> Registry:
    global _registry
    if host is None:
        from core.plugins import get_host

        host = get_host()
    sig = (id(host), tuple((n, id(p)) for n, p in host.pm.list_name_plugin()))
    if _registry is None or _registry[0] != sig:
        _registry = (sig, collect_sources(host))
    return _registry[1]


# --- keeping the index current ----------------------------------------------------------


def _trigger_name(tbl: str, op: str) -> str:
    return f"gallra_search_{tbl}_{op}"[:63]


async def _existing_tables() -> set[str]:
    if is_sqlite():
        rows = await raw("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {r["name"] for r in rows}
    rows = await raw(
        "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()"
    )
    return {r["name"] for r in rows}


def _fn_name(tbl: str, op: str) -> str:
    name = f"gallra_search_{tbl}_{op}_fn"
    if len(name) <= 63:
        return name
    import hashlib

    return f"gallra_search_{hashlib.sha1(tbl.encode()).hexdigest()[:12]}_{op}_fn"


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _fields_of(tbl: str) -> str:
    """The index's fields of ``tbl``, as a subquery (a tiny table, read by its unique index)."""
    return f"(SELECT id FROM gdpr_search_field WHERE tbl = {_lit(tbl)})"


def _trigger_sql(tbl: str, columns: Iterable[str], marker: bool) -> list[str]:
    """The statements that (re)install the triggers of one table.

    Inserted and changed rows are noted in ``gdpr_search_dirty`` (flush indexes them before
    commit); rows deleted, or marked anonymized (``marker``: the table has ``anonymized_at``,
    and whatever set it, the engine or a plugin's own code), lose their terms at once in the
    writing statement, with no note: an anonymized row has no terms and nothing to re-read.
    On PostgreSQL the triggers are per statement and work on its transition tables, so a
    batch of a sweep costs one set-based statement, not one per row.
    """
    watched = sorted(set(columns) | ({"anonymized_at"} if marker else set()))
    lit = _lit(tbl)
    forget = f"DELETE FROM gdpr_search_term WHERE field_id IN {_fields_of(tbl)}"
    if is_sqlite():
        cols = ", ".join(q(c) for c in watched)
        live = " WHEN NEW.anonymized_at IS NULL" if marker else ""
        out = []
        for op, when, cond, body in (
            ("ins", "INSERT", live, f"INSERT INTO gdpr_search_dirty (tbl, record_id) VALUES ({lit}, NEW.id)"),
            ("upd", f"UPDATE OF {cols}", live,
             f"INSERT INTO gdpr_search_dirty (tbl, record_id) VALUES ({lit}, NEW.id)"),
            ("anon", "UPDATE OF anonymized_at",
             " WHEN OLD.anonymized_at IS NULL AND NEW.anonymized_at IS NOT NULL",
             f"{forget} AND record_id = NEW.id"),
            ("del", "DELETE", "", f"{forget} AND record_id = OLD.id"),
        ):
            name = _trigger_name(tbl, op)
            out.append(f"DROP TRIGGER IF EXISTS {q(name)}")
            if op == "anon" and not marker:
                continue
            out.append(f"CREATE TRIGGER {q(name)} AFTER {when} ON {q(tbl)} FOR EACH ROW{cond} BEGIN {body}; END")
        return out
    live_new = " WHERE n.anonymized_at IS NULL" if marker else ""
    changed = " OR ".join(f"n.{q(c)}::text IS DISTINCT FROM o.{q(c)}::text" for c in watched)
    # Under quiet(tbl) the writer replaces the rows' terms itself: no notes (the check is one
    # setting read per statement).
    upd = (
        f"IF coalesce(current_setting('{QUIET_SETTING}', true), '') <> {lit} THEN "
        f"INSERT INTO gdpr_search_dirty (tbl, record_id) SELECT {lit}, n.id "
        f"FROM gallra_new n JOIN gallra_old o ON o.id = n.id "
        f"WHERE ({changed}){' AND n.anonymized_at IS NULL' if marker else ''}; END IF;"
    )
    if marker:
        upd += (
            f" {forget} AND record_id = ANY(ARRAY(SELECT n.id FROM gallra_new n JOIN gallra_old o "
            "ON o.id = n.id WHERE o.anonymized_at IS NULL AND n.anonymized_at IS NOT NULL));"
        )
    # An INSERT that wrote its rows' terms itself (new_rows_terms) named the table in its own
    # setting (a space-separated list) for that statement only: the table's insert trigger
    # notes nothing and takes the name back off.
    named = f"(' ' || coalesce(current_setting('{SELF_INDEXED_SETTING}', true), '') || ' ')"
    ins = (
        f"IF position({_lit(f' {tbl} ')} IN {named}) > 0 THEN PERFORM set_config('{SELF_INDEXED_SETTING}', "
        f"btrim(replace({named}, {_lit(f' {tbl} ')}, ' ')), true); "
        f"ELSE INSERT INTO gdpr_search_dirty (tbl, record_id) SELECT {lit}, n.id FROM gallra_new n{live_new}; "
        "END IF;"
    )
    bodies = {
        "ins": ins,
        "upd": upd,
        "del": f"{forget} AND record_id = ANY(ARRAY(SELECT o.id FROM gallra_old o));",
    }
    refs = {
        "ins": ("INSERT", "NEW TABLE AS gallra_new"),
        "upd": ("UPDATE", "OLD TABLE AS gallra_old NEW TABLE AS gallra_new"),
        "del": ("DELETE", "OLD TABLE AS gallra_old"),
    }
    out = []
    for op, body in bodies.items():
        out.append(
            f"CREATE OR REPLACE FUNCTION {q(_fn_name(tbl, op))}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {body} RETURN NULL; END $$"
        )
    return out + [
        f"CREATE TRIGGER {q(_trigger_name(tbl, op))} AFTER {event} ON {q(tbl)} REFERENCING {ref} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {q(_fn_name(tbl, op))}()"
        for op, (event, ref) in refs.items()
    ]


QUIET_SETTING = "gallra.search_quiet"
#: The tables whose rows the current statement inserts with their terms (new_rows_terms), a
#: space-separated list: each table's insert trigger notes nothing and takes its name off.
SELF_INDEXED_SETTING = "gallra.search_self_indexed"


@asynccontextmanager
async def quiet(tbl: str) -> AsyncIterator[None]:
    """Updates of ``tbl`` inside this block note no rows dirty: the writer replaces the terms
    of the rows it changed itself, set-based (:func:`replace_terms`). Only inside a
    transaction, around one UPDATE whose every changed search column is set to a constant
    (the anonymization engine's child and reference updates).

    PostgreSQL: a transaction-local setting the statement trigger reads. SQLite: its row
    triggers note as usual and the notes the block added are taken back at its end (writers
    are serialized, so every note above the highest id before the block is the block's own;
    a note made earlier for the same row stays and is indexed as usual).
    """
    if is_sqlite():
        top = (await raw("SELECT MAX(id) AS m FROM gdpr_search_dirty"))[0]["m"] or 0
        yield
        await raw("DELETE FROM gdpr_search_dirty WHERE id > {} AND tbl = {}", int(top), tbl)
        return
    await raw(f"SELECT set_config('{QUIET_SETTING}', {{}}, true)", tbl)
    yield
    # Not in a ``finally``: after an error the transaction (or its savepoint) rolls back,
    # and the setting with it; a statement sent then would only hide the error.
    await raw(f"SELECT set_config('{QUIET_SETTING}', '', true)")


async def replace_terms(tbl: str, ids: list[int], values: dict[str, Any]) -> None:
    """The rows ``ids`` of ``tbl`` were just given these constant values (database column ->
    value) by one statement under :func:`quiet`: replace their terms of those columns,
    set-based, in the caller's transaction. The new terms are worked out once (every row
    got the same value) and written for each row that is not marked anonymized; the terms
    of the rows' other columns are untouched (the statement did not change them)."""
    reg = registry()
    cols = reg.tables.get(tbl, {})
    fids = await field_ids(reg)
    touched = {c: fids[(tbl, c)] for c in values if c in cols and (tbl, c) in fids}
    if not touched or not ids:
        return
    consts: list[tuple[str, str, int]] = []
    for col, fid in touched.items():
        found = column_terms(cols[col], values[col])
        consts.extend((kind, term, fid) for kind, term in sorted(found))
    marker = " AND r.anonymized_at IS NULL" if _has(reg.table_classes[tbl], "anonymized_at") else ""
    f_sql, f_args = ids_in("field_id", sorted(touched.values()))
    for at in range(0, len(ids), 5000):
        chunk = ids[at : at + 5000]
        id_sql, id_args = ids_in("record_id", chunk)
        forget = f"DELETE FROM gdpr_search_term WHERE {id_sql} AND {f_sql}"
        if not consts or is_sqlite():
            await raw(forget, *id_args, *f_args)
        if not consts:
            continue
        rows_sql, rows_args = ids_in("r.id", chunk)
        if is_sqlite():
            head, head_args = "", []
            terms_sql = "(VALUES " + ", ".join("({}, {}, {})" for _ in consts) + ") k"
            terms_args: list[Any] = [v for row in consts for v in row]
            pick = "k.column1, k.column2, k.column3"
        else:
            # One round trip: the DELETE in a WITH and the INSERT share a snapshot, so the
            # DELETE never sees the terms inserted (as in _insert_terms).
            head, head_args = f"WITH forgotten AS ({forget}) ", [*id_args, *f_args]
            terms_sql = "unnest({}::varchar[], {}::varchar[], {}::int[]) AS k(kind, term, fid)"
            terms_args = [list(col) for col in zip(*consts, strict=True)]
            pick = "k.kind, k.term, k.fid"
        await raw(
            f"{head}INSERT INTO gdpr_search_term (tenant_id, kind, term, field_id, record_id) "
            f"SELECT r.tenant_id, {pick}, r.id FROM {q(tbl)} r CROSS JOIN {terms_sql} "
            f"WHERE {rows_sql}{marker}",
            *head_args, *terms_args, *rows_args,
        )


def new_rows_terms(rows: list[tuple[str, dict[str, Any], str]]) -> tuple[Any, Any] | None:
    """PostgreSQL, for one statement that inserts a row into each of several tables (a
    record and its "created" event, core.records): the INSERT of those rows' search terms,
    to run in the same statement, so that the commit has nothing to claim and index.

    ``rows``: (table, the row's column values as inserted, SQL naming the new row's id in
    that statement). Returns two Piccolo ``QueryString``:

    * the terms' INSERT, for a data-modifying WITH;
    * a derived table of one row the statement must join: it names the tables in
      :data:`SELF_INDEXED_SETTING` (the insert trigger of each then notes nothing and takes
      its name back off, so the setting lasts for that statement only), and its column
      ``notes_waiting`` says whether notes others left are waiting, which the caller
      passes to :func:`core.db.notes_waiting` (so its commit still indexes them, as
      every commit did before).

    The terms are worked out as the flush works them out from the stored row
    (:func:`terms_for`). None where this cannot be done: SQLite (no round trips to save),
    the fields not loaded yet, or a value of an indexed column (or ``tenant_id``,
    ``anonymized_at``) not given as a plain value; the caller then inserts as usual and the
    flush indexes the rows. Subscribed to :func:`core.db.provide_row_indexer` below."""
    from datetime import datetime

    from piccolo.querystring import QueryString

    if is_sqlite():
        return None
    reg = registry()
    fids = reg.field_ids
    if not fids:
        return None
    tables: list[str] = []
    batch: list[tuple[int, str, str, int, int]] = []
    ids: list[str] = []
    for which, (tbl, values, id_sql) in enumerate(rows):
        cols = reg.tables.get(tbl)
        if not cols:
            continue  # not indexed: no trigger, no terms
        tenant_id, anonymized_at = values.get("tenant_id"), values.get("anonymized_at")
        if any((tbl, c) not in fids for c in cols) or type(tenant_id) is not int:
            return None
        if not (anonymized_at is None or isinstance(anonymized_at, datetime)):
            return None
        for col, cats in cols.items():
            value = values.get(col)
            if col not in values or not (value is None or type(value) in (str, int)):  # as stored
                return None
            found = column_terms(cats, value) if anonymized_at is None else set()
            fid = fids[(tbl, col)]
            batch.extend((tenant_id, kind, term, fid, which) for kind, term in sorted(found))
        tables.append(tbl)
        ids.append(f"WHEN {which} THEN {id_sql}")
    if not tables:
        return None
    columns: list[Any] = list(zip(*batch, strict=True)) if batch else [[], [], [], [], []]
    terms = QueryString(
        "INSERT INTO gdpr_search_term (tenant_id, kind, term, field_id, record_id) "
        f"SELECT t.tenant_id, t.kind, t.term, t.field_id, CASE t.which {' '.join(ids)} END "
        "FROM unnest({}::int[], {}::varchar[], {}::varchar[], {}::int[], {}::int[]) "
        "AS t(tenant_id, kind, term, field_id, which)",
        *(list(c) for c in columns),
    )
    named = QueryString(
        f"(SELECT set_config('{SELF_INDEXED_SETTING}', "
        f"coalesce(current_setting('{SELF_INDEXED_SETTING}', true), '') || ' ' || {{}}, true) AS named, "
        "EXISTS (SELECT 1 FROM gdpr_search_dirty) AS notes_waiting)",
        " ".join(tables),
    )
    return terms, named


provide_row_indexer(new_rows_terms)


async def _install_triggers(tbl: str, columns: Iterable[str], marker: bool) -> None:
    """Install (or upgrade) the triggers of one table, in the caller's transaction.

    PostgreSQL: the functions are replaced in place every time (no lock on the table); a
    trigger is created only where it is missing, and the row-level triggers of earlier
    versions (one ``gallra_search_mark()`` call per row) are dropped and replaced, so a
    start-up does not take the table's exclusive lock once the triggers are current.
    """
    stmts = _trigger_sql(tbl, columns, marker)
    if is_sqlite():
        for sql in stmts:
            await raw(sql)
        return
    have = {
        r["name"]: int(r["tgtype"])
        for r in await raw(
            "SELECT tgname AS name, tgtype FROM pg_trigger WHERE tgrelid = {}::regclass AND NOT tgisinternal "
            "AND tgname LIKE 'gallra_search_%'",
            q(tbl),
        )
    }
    for sql in stmts:
        if not sql.startswith("CREATE TRIGGER"):
            await raw(sql)
            continue
        name = sql.split()[2].strip('"')
        if name in have and not have[name] & 1:  # TRIGGER_TYPE_ROW is bit 0
            continue
        if name in have:
            await raw(f"DROP TRIGGER {q(name)} ON {q(tbl)}")
        await raw(sql)


async def ensure_index(host: Any = None, *, progress: Callable[[str, int, int], None] | None = None) -> list[str]:
    """Install the triggers of every declared place and index places new to the database.

    Idempotent; run by ``gallra migrate`` and at start-up. Returns the tables it had to
    index from scratch (a plugin installed into a database that already holds its rows).
    """
    reg = registry(host)
    existing = await _existing_tables()
    if "gdpr_search_field" not in existing:
        return []  # not migrated yet: `gallra migrate` comes back here
    new_tables: set[str] = set()
    # Triggers and their function are DDL: the tables' owner installs them (core.rls).
    async with as_owner(), atomic():
        if not is_sqlite():
            # Two processes starting together must not replace the function at once.
            await raw("SELECT pg_advisory_xact_lock(hashtext('gallra_search_ensure'))")
        rows = await raw("SELECT id, tbl, col FROM gdpr_search_field")
        known = {(r["tbl"], r["col"]): int(r["id"]) for r in rows}
        await _drop_undeclared_fields(reg, known)
        for tbl, cols in sorted(reg.tables.items()):
            if tbl not in existing:
                continue
            await _install_triggers(tbl, cols, _has(reg.table_classes[tbl], "anonymized_at"))
            for col in cols:
                if (tbl, col) not in known:
                    await raw("INSERT INTO gdpr_search_field (tbl, col) VALUES ({}, {})", tbl, col)
                    new_tables.add(tbl)
        rows = await raw("SELECT id, tbl, col FROM gdpr_search_field")
        reg.field_ids.clear()
        reg.field_ids.update({(r["tbl"], r["col"]): int(r["id"]) for r in rows})
    for tbl in sorted(new_tables):
        await reindex_table(tbl, host=host, progress=progress)
    return sorted(new_tables)


async def _drop_undeclared_fields(reg: Registry, known: dict[tuple[str, str], int]) -> list[int]:
    """Forget the columns of a declared table that are no longer declared: their terms and
    their field rows go (an installation indexed before, e.g., the outbox's message body or a
    password hash was refused as a search source still holds their words). Only tables this
    set of plugins declares are looked at; a table no plugin declares any more is left to
    :func:`rebuild`. In the caller's transaction; returns the fields dropped."""
    stale = sorted(
        fid for (tbl, col), fid in known.items() if tbl in reg.tables and col not in reg.tables[tbl]
    )
    if stale:
        f_sql, f_args = ids_in("field_id", stale)
        await raw(f"DELETE FROM gdpr_search_term WHERE {f_sql}", *f_args)
        id_sql, id_args = ids_in("id", stale)
        await raw(f"DELETE FROM gdpr_search_field WHERE {id_sql}", *id_args)
        for key in [k for k, fid in known.items() if fid in stale]:
            del known[key]
    return stale


_ensured: set[Any] = set()


async def ensure_index_once(host: Any = None) -> None:
    """:func:`ensure_index` once per process and set of plugins (start-up of every app)."""
    if host is None:
        from core.plugins import get_host

        host = get_host()
    sig = (id(host), tuple(n for n, _ in host.pm.list_name_plugin()))
    if sig in _ensured:
        return
    await ensure_index(host)
    _ensured.add(sig)


async def field_ids(reg: Registry) -> dict[tuple[str, str], int]:
    """The index's id of every (table, column) field, read once per registry."""
    if not reg.field_ids:
        rows = await raw("SELECT id, tbl, col FROM gdpr_search_field")
        reg.field_ids.update({(r["tbl"], r["col"]): int(r["id"]) for r in rows})
    return reg.field_ids


_Terms = list[tuple[int, str, str, int, int]]
_Forget = tuple[str, list[Any]]


#: Set by :func:`flush` (PostgreSQL): :func:`_reindex_rows` appends each table's
#: replacement there, and :func:`_write_pending` writes them all in one statement.
_pending_terms: contextvars.ContextVar[list[tuple[_Forget, _Terms]] | None] = contextvars.ContextVar(
    "gallra_search_pending_terms", default=None
)


async def _reindex_rows(reg: Registry, tbl: str, ids: list[int]) -> int:
    """Replace the terms of these rows of ``tbl`` by their current values (in the caller's
    transaction). Rows gone or anonymized end with no terms. Returns terms written.

    Inside :func:`flush` on PostgreSQL the replacement is kept for :func:`_write_pending`
    to write with the other tables' in one statement."""
    pending = _pending_terms.get()
    cols = reg.tables.get(tbl)
    if not cols or not ids:
        return 0
    fids = await field_ids(reg)
    field_of = {c: fids[(tbl, c)] for c in cols if (tbl, c) in fids}
    if not field_of:
        return 0
    table = reg.table_classes[tbl]
    loaded = _loaded_rows.get()
    have = loaded.rows.get(tbl) if loaded is not None and loaded.reg is reg else None
    written = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        id_sql, id_args = ids_in("record_id", chunk)
        f_sql, f_args = ids_in("field_id", list(field_of.values()))
        forget = (f"DELETE FROM gdpr_search_term WHERE {id_sql} AND {f_sql}", [*id_args, *f_args])
        if is_sqlite():
            await raw(forget[0], *forget[1])
        rows: list[dict[str, Any]]
        if have is not None:  # read with the claim (_claim_dirty): rows gone or anonymized are absent
            rows = [have[i] for i in chunk if i in have]
        else:
            # Anonymized rows are dropped here, not in WHERE (see _read_claimed_sql).
            live = "anonymized_at IS NULL" if _has(table, "anonymized_at") else "1 = 1"
            sel = ", ".join(q(c) for c in cols)
            pk_sql, pk_args = ids_in("id", chunk)
            rows = [
                r for r in await raw(
                    f"SELECT id, tenant_id, {sel}, {live} AS gallra_live FROM {q(tbl)} WHERE {pk_sql}", *pk_args
                )
                if r["gallra_live"]
            ]
        batch: list[tuple[int, str, str, int, int]] = []
        for row in rows:
            for col, cats in cols.items():
                for kind, term in column_terms(cats, row[col]):
                    batch.append((int(row["tenant_id"]), kind, term, field_of[col], int(row["id"])))
        if pending is not None and not is_sqlite():
            pending.append((forget, batch))
            written += len(batch)
        else:
            written += await _insert_terms(batch, None if is_sqlite() else forget)
    return written


async def _write_pending(pending: list[tuple[_Forget, _Terms]]) -> None:
    """PostgreSQL: every table's old terms deleted and new ones inserted in one statement
    (one round trip however many tables a transaction touched). Each DELETE of the WITH
    names its own table's fields, so no two touch the same row, and none sees the inserted
    terms (one snapshot for the whole statement)."""
    if not pending:
        return
    ctes = ", ".join(f"forgotten{i} AS ({forget[0]})" for i, (forget, _) in enumerate(pending))
    args = [a for forget, _ in pending for a in forget[1]]
    batch = [t for _, terms in pending for t in terms]
    cols: list[Any] = list(zip(*batch, strict=True)) if batch else [[], [], [], [], []]
    await raw(
        f"WITH {ctes} "
        "INSERT INTO gdpr_search_term (tenant_id, kind, term, field_id, record_id) "
        "SELECT * FROM unnest({}::int[], {}::varchar[], {}::varchar[], {}::int[], {}::bigint[])",
        *args, list(cols[0]), list(cols[1]), list(cols[2]), list(cols[3]), list(cols[4]),
    )


async def _insert_terms(
    batch: list[tuple[int, str, str, int, int]], forget: tuple[str, list[Any]] | None = None
) -> int:
    """Insert ``batch``; ``forget`` (PostgreSQL): a DELETE of the rows' old terms, run in the
    same statement (one round trip: the DELETE in a WITH and the INSERT share a snapshot,
    so the DELETE never sees the terms inserted)."""
    if forget is not None:
        cols: list[Any] = list(zip(*batch, strict=True)) if batch else [[], [], [], [], []]
        await raw(
            f"WITH forgotten AS ({forget[0]}) "
            "INSERT INTO gdpr_search_term (tenant_id, kind, term, field_id, record_id) "
            "SELECT * FROM unnest({}::int[], {}::varchar[], {}::varchar[], {}::int[], {}::bigint[])",
            *forget[1], list(cols[0]), list(cols[1]), list(cols[2]), list(cols[3]), list(cols[4]),
        )
        return len(batch)
    if not batch:
        return 0
    if is_sqlite():
        for start in range(0, len(batch), 150):
            part = batch[start : start + 150]
            values = ", ".join("({}, {}, {}, {}, {})" for _ in part)
            args = [v for row in part for v in row]
            await raw(
                f"INSERT INTO gdpr_search_term (tenant_id, kind, term, field_id, record_id) VALUES {values}",
                *args,
            )
    else:
        cols = list(zip(*batch, strict=True))
        await raw(
            "INSERT INTO gdpr_search_term (tenant_id, kind, term, field_id, record_id) "
            "SELECT * FROM unnest({}::int[], {}::varchar[], {}::varchar[], {}::int[], {}::bigint[])",
            list(cols[0]), list(cols[1]), list(cols[2]), list(cols[3]), list(cols[4]),
        )
    return len(batch)


_ready = False


#: Noted rows indexed per round of :func:`flush`: memory stays flat whatever the write size.
FLUSH_CHUNK = 2000


@dataclass
class _Loaded:
    reg: Registry
    rows: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)


#: Set by :func:`_flush_round` (PostgreSQL): :func:`_claim_dirty` fills it with the claimed
#: rows' values (table -> id -> row), read by the claiming statement itself, and
#: :func:`_reindex_rows` takes them from there instead of reading each table again.
_loaded_rows: contextvars.ContextVar[_Loaded | None] = contextvars.ContextVar(
    "gallra_search_loaded_rows", default=None
)


#: The statements reading claimed rows, by the tables they read: the registry and its
#: fields' count they were built for (the fields only grow while a registry lives:
#: ensure_index adds them), the statement, each table's columns.
_read_sql: dict[tuple[str, ...], tuple[Any, int, str, dict[str, list[str]]]] = {}


def _claim_sql(limit: int, after: str = "{}") -> str:
    # ANY(ARRAY(...)): the subquery runs once (an IN (... FOR UPDATE) may be rescanned).
    return (
        "DELETE FROM gdpr_search_dirty WHERE id = ANY(ARRAY(SELECT id FROM gdpr_search_dirty "
        f"WHERE id > {after} ORDER BY id LIMIT {int(limit)} FOR UPDATE SKIP LOCKED)) RETURNING id, tbl, record_id"
    )


def _read_claimed_sql(
    reg: Registry, tables: tuple[str, ...], *, from_claim: bool = False
) -> tuple[str, dict[str, list[str]]]:
    """PostgreSQL: the current values of the claimed rows of ``tables`` (those the claim
    named), one statement for them all, with one id array argument per table (in that
    order). Values come as text (the indexed columns are text or integer references;
    :func:`terms_for` reads both from their text); ``live`` is false for a row anonymized
    (the caller leaves it out). Not a WHERE condition: ``anonymized_at IS NULL`` is the
    predicate of partial indexes (the event log's by tenant and time), and a planner
    without fresh statistics read the one new row through such an index of the whole
    table instead of the primary key (0.75 ms a create at 2,700 log rows, growing).

    Only the tables claimed: one statement with a branch for every indexed table (48 here)
    cost PostgreSQL 20-70 ms to plan on each new connection, and about 1 ms to run its
    empty branches on every commit; a write touches one or two tables.

    ``from_claim``: each branch takes its ids from the claim of the same statement (a WITH
    named ``claimed``, :func:`_claim_read_sql`) instead of an argument."""
    key = (("claimed",) if from_claim else ()) + tables
    cached = _read_sql.get(key)
    if cached is not None and cached[0] is reg and cached[1] == len(reg.field_ids):
        return cached[2], cached[3]
    columns: dict[str, list[str]] = {}
    branches: list[str] = []
    for tbl in tables:
        names = sorted(reg.tables[tbl])
        columns[tbl] = names
        live = "x.anonymized_at IS NULL" if _has(reg.table_classes[tbl], "anonymized_at") else "TRUE"
        values = ", ".join(["x.tenant_id::text", *(f"x.{q(c)}::text" for c in names)])
        ids = f"ARRAY(SELECT record_id FROM claimed WHERE tbl = {_lit(tbl)})" if from_claim else "{}::bigint[]"
        branches.append(
            f"SELECT {_lit(tbl)}::text AS tbl, x.id::bigint AS record_id, ARRAY[{values}] AS v, "
            f"{live} AS live FROM {q(tbl)} x WHERE x.id = ANY({ids})"
        )
    sql = " UNION ALL ".join(branches)
    _read_sql[key] = (reg, len(reg.field_ids), sql, columns)
    return sql, columns


def _claim_read_sql(reg: Registry, tables: tuple[str, ...], limit: int) -> tuple[str, dict[str, list[str]]]:
    """PostgreSQL: the claim (:func:`_claim_sql`, its one argument the id to start after)
    and the read of the claimed rows of ``tables`` in one statement: one row per note,
    with its row's values (``v``, ``live``) when its table is one of ``tables`` and the row
    is still there. The read sees the rows as the transaction wrote them (a data-modifying
    WITH: the same snapshot as the statements before it)."""
    read, columns = _read_claimed_sql(reg, tables, from_claim=True)
    sql = (
        f"WITH claimed AS ({_claim_sql(limit)}) "
        f"SELECT c.id, c.tbl, c.record_id, r.v, r.live FROM claimed c "
        f"LEFT JOIN ({read}) r ON r.tbl = c.tbl AND r.record_id = c.record_id"
    )
    return sql, columns


#: The tables the last claim of this process named (PostgreSQL): the next claim reads their
#: rows in its own statement (:func:`_claim_read_sql`). A process's writes repeat (a create
#: customer names the customer and event-log tables every time); a claim naming others reads
#: those with one more statement, as every claim did before.
_last_claimed: list[tuple[str, ...]] = [()]

_indexed: list[Any] = [None, -1, []]  # the registry, its field count, its indexed tables


def _indexed_tables(reg: Registry) -> list[str]:
    """The tables with an indexed field, worked out again only when the registry or its
    fields change (every commit's flush asks; walking 48 tables' columns each time was
    about 5% of the server's CPU for a create)."""
    if _indexed[0] is not reg or _indexed[1] != len(reg.field_ids):
        tables = sorted(t for t, cols in reg.tables.items() if any((t, c) in reg.field_ids for c in cols))
        _indexed[:] = [reg, len(reg.field_ids), tables]
    return list(_indexed[2])


async def _claim_dirty(limit: int, after: int = 0) -> list[dict[str, Any]]:
    """Take up to ``limit`` notes with an id above ``after`` off ``gdpr_search_dirty``
    (oldest first). On PostgreSQL a note another transaction is taking is skipped, not
    waited for: that one indexes it; and, inside :func:`_flush_round`, the claimed rows'
    values are read right after, for every table the claim named in one statement
    (:func:`_read_claimed_sql`, into :data:`_loaded_rows`).

    :func:`flush` passes the highest id of its previous chunk: on PostgreSQL the notes one
    transaction deleted stay in the id index until it ends, so starting every chunk at the
    lowest id would step over all the chunks before it again (quadratic in a bulk write)."""
    if is_sqlite():
        return await raw(
            "DELETE FROM gdpr_search_dirty WHERE id IN (SELECT id FROM gdpr_search_dirty "
            f"WHERE id > {{}} ORDER BY id LIMIT {int(limit)}) RETURNING id, tbl, record_id",
            int(after),
        )
    loaded = _loaded_rows.get()
    if loaded is None:
        return await raw(_claim_sql(limit), int(after))
    await field_ids(loaded.reg)
    indexed = _indexed_tables(loaded.reg)
    guess = tuple(t for t in _last_claimed[0] if t in indexed)

    def keep(r: Any, columns: dict[str, list[str]]) -> None:
        if not r["live"]:
            return  # anonymized (or, with the claim, not read): it keeps no terms
        tbl, v = r["tbl"], r["v"]
        row: dict[str, Any] = dict(zip(columns[tbl], v[1:], strict=True))
        row["id"], row["tenant_id"] = int(r["record_id"]), int(v[0])
        loaded.rows.setdefault(tbl, {})[row["id"]] = row

    if guess:
        sql, columns = _claim_read_sql(loaded.reg, guess, limit)
        notes = await raw(sql, int(after))
        for r in notes:
            if r["v"] is not None:
                keep(r, columns)
    else:
        notes = await raw(_claim_sql(limit), int(after))
    if not notes:
        return notes
    wanted: dict[str, set[int]] = defaultdict(set)
    for n in notes:
        wanted[n["tbl"]].add(int(n["record_id"]))
    _last_claimed[0] = tuple(t for t in indexed if t in wanted)
    tables = tuple(t for t in indexed if t in wanted and t not in guess)
    if tables:
        sql, columns = _read_claimed_sql(loaded.reg, tables)
        for r in await raw(sql, *[sorted(wanted[t]) for t in tables]):
            keep(r, columns)
    for tbl in indexed:
        loaded.rows.setdefault(tbl, {})  # read: a claimed row absent is gone or anonymized
    return notes


#: A transaction whose commit finds more notes than this waiting (a bulk import) indexes
#: one chunk and leaves the rest to the background task :data:`INDEX_TASK`; a search
#: catches up on whatever is left before it answers (:func:`flush_pending`).
BULK_NOTES = 20_000
INDEX_TASK = "core.gdpr_search_index"

# "commit": the commit-time flush (may hand a bulk write to the background task);
# "all": index every note now (a search catching up); "task": the background task's
# transactions, which index one chunk each themselves (their commit adds nothing).
_mode: ContextVar[str] = ContextVar("gallra_search_flush", default="commit")


async def _flush_round(reg: Registry, chunk: int, last: int) -> tuple[int, int]:
    """Claim and index up to ``chunk`` notes above id ``last``: (notes claimed, new last)."""
    loaded = None if is_sqlite() else _Loaded(reg)
    loaded_token = _loaded_rows.set(loaded)
    try:
        claimed = await _claim_dirty(chunk, last)
        if not claimed:
            return 0, last
        return await _index_claimed(reg, claimed)
    finally:
        _loaded_rows.reset(loaded_token)


async def _index_claimed(reg: Registry, claimed: list[dict[str, Any]]) -> tuple[int, int]:
    by_table: dict[str, set[int]] = defaultdict(set)
    for r in claimed:
        by_table[r["tbl"]].add(int(r["record_id"]))
    # PostgreSQL: the round's terms are collected and replaced in one statement per table
    # (_write_pending); SQLite writes them row by row, which costs it no round trips.
    pending: list[tuple[_Forget, _Terms]] | None = None if is_sqlite() else []
    token = _pending_terms.set(pending)
    try:
        for tbl, ids in by_table.items():
            await _reindex_rows(reg, tbl, sorted(ids))
    finally:
        _pending_terms.reset(token)
    if pending:
        await _write_pending(pending)
    return len(claimed), max(int(r["id"]) for r in claimed)


async def _backlog(after: int) -> int:
    """Notes above id ``after``, counted up to :data:`BULK_NOTES`."""
    rows = await raw(
        f"SELECT COUNT(*) AS n FROM (SELECT 1 FROM gdpr_search_dirty WHERE id > {{}} LIMIT {BULK_NOTES}) s",
        int(after),
    )
    return int(rows[0]["n"])


def _index_in_background() -> None:
    """After the commit: ask a worker to index the notes left (a hint; a search catches up
    whether or not it runs)."""
    from core.worker import enqueue

    try:
        enqueue(INDEX_TASK)
    except Exception:  # no broker in this process: searches catch up before answering
        log.warning("search index: could not enqueue background indexing; searches catch up")


async def flush(chunk: int | None = None) -> int:
    """Reindex every row noted dirty, in the current transaction; returns notes indexed.

    Notes are taken ``chunk`` at a time until none are left, so a write of a million rows
    holds a chunk's ids in memory, not a million. Subscribed below to
    :func:`core.db.on_before_commit`: :func:`core.db.atomic` runs it just before the
    outermost transaction commits (the kernel does not import this module).

    A bulk write: when, after the first chunk, :data:`BULK_NOTES` or more notes are still
    waiting, the commit-time flush stops there and the background task
    (:func:`index_backlog`) indexes the rest after the commit, chunk by chunk, each in its
    own transaction; every search catches up first (:func:`flush_pending`), so an answer
    never misses a committed value.
    """
    global _ready
    if _mode.get() == "task":
        return 0
    if _mode.get() == "commit" and not may_have_noted():
        # Every statement of this transaction only read or indexed its own rows
        # (new_rows_terms), and no notes others left were waiting: nothing to claim.
        return 0
    if not _ready:
        _ready = "gdpr_search_dirty" in await _existing_tables()
        if not _ready:
            return 0  # a database not migrated yet has nothing to index
    chunk = chunk or FLUSH_CHUNK
    reg: Registry | None = None
    n = 0
    last = 0
    first = True
    while True:
        reg = reg or registry()
        claimed, last = await _flush_round(reg, chunk, last)
        n += claimed
        if claimed < chunk:
            break
        if first and _mode.get() == "commit" and await _backlog(last) >= BULK_NOTES:
            after_commit(_index_in_background)
            break
        first = False
    return n


# The index commits with the data it describes. Importing this module subscribes it;
# core.builtin imports it, so every process that builds a plugin host has subscribed.
on_before_commit(flush)


async def index_backlog(chunk: int | None = None) -> int:
    """The background task's work: index every waiting note, one chunk per transaction
    (memory and lock time stay flat whatever the backlog); returns notes indexed. Two
    workers, or a worker and a catching-up search, take different notes (SKIP LOCKED)."""
    chunk = chunk or FLUSH_CHUNK
    token = _mode.set("task")
    done = 0
    try:
        reg = registry()
        last = 0
        while True:
            async with atomic():
                claimed, last = await _flush_round(reg, chunk, last)
            done += claimed
            if claimed < chunk:
                return done
    finally:
        _mode.reset(token)


#: How long a search waits for notes another transaction is indexing (a background
#: worker's chunk) before it answers without them.
CATCH_UP_SECONDS = 30.0


async def flush_pending() -> None:
    """Before answering: index every waiting note (writes made outside a transaction, the
    rest of a bulk write the background task has not reached), if any. Flushed in the
    caller's transaction when there is one: a nested ``atomic()`` joins it and only the
    outermost flushes on commit, so an export or erasure run inside a transaction would
    otherwise read an index missing those rows. Notes another transaction is indexing
    right now (PostgreSQL skips them) are waited for, up to :data:`CATCH_UP_SECONDS`."""
    import asyncio
    import time

    deadline = time.monotonic() + CATCH_UP_SECONDS
    while await raw("SELECT id FROM gdpr_search_dirty LIMIT 1"):
        token = _mode.set("all")
        try:
            async with atomic():
                indexed = await flush()
        finally:
            _mode.reset(token)
        if time.monotonic() > deadline:
            log.warning("search index: notes still being indexed elsewhere; answering without them")
            return
        if not indexed:
            await asyncio.sleep(0.05)  # held by another transaction: its commit removes them


async def reindex_table(
    tbl: str,
    *,
    tenant_id: int | None = None,
    host: Any = None,
    batch: int = 2000,
    progress: Callable[[str, int, int], None] | None = None,
) -> int:
    """Rebuild the terms of one table (optionally one tenant's rows); returns rows seen."""
    reg = registry(host)
    where = "" if tenant_id is None else " WHERE tenant_id = {}"
    args = [] if tenant_id is None else [tenant_id]
    total = int((await raw(f"SELECT COUNT(*) AS n FROM {q(tbl)}{where}", *args))[0]["n"])
    done = 0
    last = 0
    while True:
        cond = "id > {}" + ("" if tenant_id is None else " AND tenant_id = {}")
        rows = await raw(
            f"SELECT id FROM {q(tbl)} WHERE {cond} ORDER BY id LIMIT {int(batch)}", last, *args
        )
        if not rows:
            break
        ids = [int(r["id"]) for r in rows]
        async with atomic():
            await _reindex_rows(reg, tbl, ids)
        done += len(ids)
        last = ids[-1]
        if progress:
            progress(tbl, done, total)
    return done


async def rebuild(
    tenant_id: int | None = None, *, progress: Callable[[str, int, int], None] | None = None
) -> dict[str, int]:
    """Rebuild the whole index (or one tenant's part of it); returns rows per table."""
    await ensure_index()
    reg = registry()
    out: dict[str, int] = {}
    for tbl in sorted(reg.tables):
        if tbl not in await _existing_tables():
            continue
        out[tbl] = await reindex_table(tbl, tenant_id=tenant_id, progress=progress)
    # Terms of fields no longer declared (a plugin removed) go too.
    fids = await field_ids(reg)
    declared = [fid for (t, c), fid in fids.items() if c in reg.tables.get(t, {})]
    if declared:
        f_sql, f_args = ids_in("field_id", declared)
        extra = "" if tenant_id is None else " AND tenant_id = {}"
        await raw(
            f"DELETE FROM gdpr_search_term WHERE NOT ({f_sql}){extra}",
            *f_args, *([] if tenant_id is None else [tenant_id]),
        )
    return out


@dataclass
class Difference:
    tbl: str
    col: str
    record_id: int
    missing: int  # terms the data has and the index lacks
    extra: int  # terms the index has and the data lacks


async def check(tenant_id: int | None = None, *, limit: int = 100) -> dict[str, Any]:
    """Compare the index with the data, term by term; returns counts and the first differences.

    Only ids, tables, columns and counts are reported, never a value.
    """
    await flush_pending()
    reg = registry()
    fids = await field_ids(reg)
    existing = await _existing_tables()
    diffs: list[Difference] = []
    checked = 0
    missing_triggers: list[str] = []
    if is_sqlite():
        trig = {r["name"] for r in await raw("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    else:
        trig = {r["name"] for r in await raw("SELECT tgname AS name FROM pg_trigger WHERE NOT tgisinternal")}
    for tbl, cols in sorted(reg.tables.items()):
        if tbl not in existing:
            continue
        has_marker = _has(reg.table_classes[tbl], "anonymized_at")
        ops = ("ins", "upd", "del") + (("anon",) if has_marker and is_sqlite() else ())
        for op in ops:
            if _trigger_name(tbl, op) not in trig:
                missing_triggers.append(_trigger_name(tbl, op))
        table = reg.table_classes[tbl]
        marker = " AND anonymized_at IS NULL" if _has(table, "anonymized_at") else ""
        tcond = "" if tenant_id is None else " AND tenant_id = {}"
        targs = [] if tenant_id is None else [tenant_id]
        last = 0
        while True:
            rows = await raw(
                f"SELECT id, tenant_id, {', '.join(q(c) for c in cols)}, "
                f"{'anonymized_at' if marker else 'NULL AS anonymized_at'} FROM {q(tbl)} "
                f"WHERE id > {{}}{tcond} ORDER BY id LIMIT 2000",
                last, *targs,
            )
            if not rows:
                break
            last = int(rows[-1]["id"])
            ids = [int(r["id"]) for r in rows]
            id_sql, id_args = ids_in("record_id", ids)
            f_sql, f_args = ids_in("field_id", [fids[(tbl, c)] for c in cols if (tbl, c) in fids])
            stored: dict[tuple[int, int], set[tuple[str, str]]] = defaultdict(set)
            for t in await raw(
                f"SELECT record_id, field_id, kind, term FROM gdpr_search_term WHERE {id_sql} AND {f_sql}",
                *id_args, *f_args,
            ):
                stored[(int(t["record_id"]), int(t["field_id"]))].add((t["kind"], t["term"]))
            for row in rows:
                checked += 1
                for col, cats in cols.items():
                    fid = fids.get((tbl, col))
                    want = column_terms(cats, row[col]) if row["anonymized_at"] is None else set()
                    have = stored.get((int(row["id"]), fid or -1), set())
                    if want != have:
                        diffs.append(Difference(tbl, col, int(row["id"]), len(want - have), len(have - want)))
    # Terms pointing at rows that no longer exist.
    orphans = 0
    for (tbl, col), fid in fids.items():
        if tbl not in existing or col not in reg.tables.get(tbl, {}):
            continue
        tcond = "" if tenant_id is None else " AND t.tenant_id = {}"
        rows = await raw(
            f"SELECT COUNT(*) AS n FROM gdpr_search_term t WHERE t.field_id = {{}}{tcond} "
            f"AND NOT EXISTS (SELECT 1 FROM {q(tbl)} r WHERE r.id = t.record_id)",
            fid, *([] if tenant_id is None else [tenant_id]),
        )
        orphans += int(rows[0]["n"])
    return {
        "rows_checked": checked,
        "differences": len(diffs),
        "orphan_terms": orphans,
        "missing_triggers": missing_triggers,
        "first": [d.__dict__ for d in diffs[:limit]],
        "ok": not diffs and not orphans and not missing_triggers,
    }


# --- answering ---------------------------------------------------------------------------


@dataclass
class Hit:
    plugin: str
    area: str
    place_sv: str
    place_en: str
    record_type: str
    table: str
    column: str
    category: str
    record_id: int
    number: Any
    status: str
    value: str
    link: str | None
    source_index: int


async def _plans_for(parsed: ParsedQuery) -> None:
    """Words (names and the like) are planned for their own arguments (core.db.custom_plans):
    how many records they match runs from none to tens of thousands, and a plan made without
    the arguments read a whole table where an index found nothing. An e-mail address, a
    phone or identity number matches a few records, whatever plan: planning each of its
    statements anew cost it 2 ms (p50 7.2 -> 9.0 ms at 1M values)."""
    if parsed.kind == "text":
        await custom_plans()


def _upper(prefix: str) -> str:
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _term_col(alias: str) -> str:
    """The term column as the index holds it (byte order: COLLATE "C" on PostgreSQL)."""
    return f"{alias}.term" if is_sqlite() else f'{alias}.term COLLATE "C"'


def _lookup_sql(lk: Lookup, alias: str) -> tuple[str, list[Any]]:
    col = _term_col(alias)
    if lk.prefix:
        return (
            f"{alias}.kind = {{}} AND {col} >= {{}} AND {col} < {{}}",
            [lk.kind, lk.term, _upper(lk.term)],
        )
    return f"{alias}.kind = {{}} AND {col} = {{}}", [lk.kind, lk.term]


MAX_LINKED_SUBJECTS = 20


def record_status(row: dict[str, Any]) -> str:
    """A record's state from its row: anonymized, deleted, closed or active."""
    if row.get("anonymized_at") is not None:
        return "anonymized"
    if row.get("deleted_at") is not None:
        return "deleted"
    if row.get("closed_at") is not None or str(row.get("status") or "") in ("closed", "done", "invoiced"):
        return "closed"
    return "active"


EXCERPT_BEFORE = 30
EXCERPT_AFTER = 50
MAX_IDENTIFIER_SHOWN = 120


def _match_span(text: str, parsed: ParsedQuery) -> tuple[int, int] | None:
    """Where in ``text`` (free text) the query matched: the first word or e-mail address
    the query's lookups find, as (start, end) in the original text."""
    prefixes = [
        (lk.kind, lk.term) for alt in parsed.alternatives for lk in alt if lk.kind in ("w", "e")
    ]
    for kind, term in prefixes:
        if kind == "e":
            for m in _EMAIL_IN_TEXT.finditer(text):
                found = fold(m.group(0))
                if found.startswith(term) or found.partition("@")[2].startswith(term):
                    return m.start(), m.end()
        else:
            for m in _WORD_RE.finditer(text):
                if fold(m.group(0)).startswith(term):
                    return m.start(), m.end()
    return None


def shown_value(category: str, value: Any, parsed: ParsedQuery) -> str:
    """What a hit shows of the matched column: the identifier itself (a name, an e-mail
    address, a number, a reference's id), or for free text a short excerpt around the match,
    never the whole text. Search sources are identifiers only (core/gdpr/registry.py), so
    this is never a secret, a token, a code, a hash or a message body."""
    text = "" if value is None else str(value).strip()
    if category in REF_KINDS:
        try:
            return str(int(text))
        except ValueError:
            return ""
    if category != "free_text":
        return text if len(text) <= MAX_IDENTIFIER_SHOWN else text[:MAX_IDENTIFIER_SHOWN] + "…"
    span = _match_span(text, parsed)
    start, end = span if span else (0, 0)
    end = min(max(end, start), start + EXCERPT_AFTER)
    lo = max(0, start - EXCERPT_BEFORE)
    hi = min(len(text), end + EXCERPT_AFTER)
    # Whole words at the edges: cut at a space when there is one near.
    if lo > 0:
        space = text.find(" ", lo, start)
        lo = space + 1 if space >= 0 else lo
    if hi < len(text):
        space = text.rfind(" ", end, hi)
        hi = space if space > end else hi
    excerpt = " ".join(text[lo:hi].split())
    return ("…" if lo > 0 else "") + excerpt + ("…" if hi < len(text) else "")


def where_ok(src: SearchSource, row: dict[str, Any]) -> bool:
    """Whether a row meets a search source's ``where`` (the row belongs to that place)."""
    return all(row.get(c) == v for c, v in src.where)


class _EveryRecord:
    """The searcher of :func:`find` by default: no person, every record readable (the
    conformance kit and tests; no request of a person reaches it)."""


EVERY_RECORD: Any = _EveryRecord()


def _all_readable(s: Source, viewer: Any) -> bool:
    """Whether the searcher reads every record of the place without asking row by row: no
    ``can_open``, the conformance kit's searcher, or ``any_employee`` (which looks at no row)
    for a person. Decided once per place, so a large match reads none of its rows for it."""
    from core.contracts import any_employee

    if s.can_open is None or viewer is EVERY_RECORD:
        return True
    return viewer is not None and s.can_open is any_employee


async def _readable(s: Source, tenant_id: int, viewer: Any, ids: Iterable[int]) -> set[int]:
    """Which of ``ids`` the searcher (a core.auth.SessionUser) may read: the record type's
    ``can_open`` read-only, the one rule its pages and its activity use too. No searcher
    reads a gated record (fail closed)."""
    from core.plugins import await_me_maybe

    wanted = set(ids)
    if not wanted:
        return wanted
    if _all_readable(s, viewer):
        return wanted
    if viewer is None:
        return set()
    out: set[int] = set()
    idl = sorted(wanted)
    for start in range(0, len(idl), 500):
        id_sql, id_args = ids_in("id", idl[start : start + 500])
        rows = await raw(
            f"SELECT * FROM {q(s.tbl)} WHERE {id_sql} AND tenant_id = {{}}", *id_args, tenant_id
        )
        for row in rows:
            if await await_me_maybe(s.can_open(viewer, row, False)) is True:
                out.add(int(row["id"]))
    return out


async def _gate(
    tenant_id: int,
    viewer: Any,
    per_field: dict[int, set[int]],
    reg: Registry,
    by_id: dict[int, tuple[str, str]],
) -> dict[int, set[int]]:
    """Matches by a value the searcher may not read are no matches: a record they may not
    read is found only through a reference to a person (then shown without its value), so
    the search cannot be used to test guesses of its values."""
    out: dict[int, set[int]] = {}
    for fid, rids in per_field.items():
        key = by_id.get(fid)
        srcs = reg.sources_of(*key) if key is not None else []
        for s in srcs:
            if s.can_open is not None and s.source.category not in REF_KINDS:
                rids = await _readable(s, tenant_id, viewer, rids)
        if rids:
            out[fid] = rids
    return out


async def find(
    tenant_id: int, q_text: str, *, cap: int = 5000, viewer: Any = EVERY_RECORD
) -> list[Hit]:
    """Every place of this tenant holding a value matching ``q_text``, with the records
    linked to a person (customer, contact person, employee) it found, as one :class:`Hit`
    per (record, column): at most ``cap`` matched (field, record) pairs, the newest first.

    The same matches as :func:`search` (:func:`collect_matches`), read in full instead of
    one page per group; used by the conformance kit (core/testing) and tests.
    """
    parsed = parse_query(q_text)
    reg = registry()
    fids = await field_ids(reg)
    for _ in range(3):
        async with snapshot():
            await _plans_for(parsed)
            # Writes made outside a transaction (rare) are indexed before answering.
            if not await raw("SELECT id FROM gdpr_search_dirty LIMIT 1"):
                return await _find(tenant_id, parsed, reg, fids, cap, viewer)
        await flush_pending()
    async with snapshot():
        await _plans_for(parsed)
        return await _find(tenant_id, parsed, reg, fids, cap, viewer)


async def _find(
    tenant_id: int,
    parsed: ParsedQuery,
    reg: Registry,
    fids: dict[tuple[str, str], int],
    cap: int,
    viewer: Any,
) -> list[Hit]:
    by_id = {fid: key for key, fid in fids.items()}
    matches = await collect_matches(tenant_id, parsed, reg, fids)
    per_field = await _gate(tenant_id, viewer, matches, reg, by_id)
    pairs = sorted(((rid, fid) for fid, rids in per_field.items() for rid in rids), reverse=True)
    wanted: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for rid, fid in pairs[: max(int(cap), 0)]:
        key = by_id[fid]
        wanted[key[0]][rid].add(key[1])
    return await _rows_to_hits(tenant_id, parsed, reg, wanted, viewer)


async def _rows_to_hits(
    tenant_id: int,
    parsed: ParsedQuery,
    reg: Registry,
    wanted: dict[str, dict[int, set[str]]],
    viewer: Any,
) -> list[Hit]:
    """Read the matched rows and make one hit per (record, column), from its first place;
    a record the searcher may not read shows its place and number, not its value."""
    hits: list[Hit] = []
    for tbl, recs in wanted.items():
        table = reg.table_classes[tbl]
        extra = [
            c
            for c in ("status", "closed_at", "deleted_at", "anonymized_at", "plugin", "record_type", "record_id")
            if _has(table, c)
        ]
        srcs = [s for s in reg.sources if s.tbl == tbl]
        for s in srcs:
            rt_num = _number_column(s)
            if rt_num and rt_num not in extra:
                extra.append(rt_num)
            extra.extend(c for c, _ in s.source.where if c not in extra)
        cols = sorted(set(reg.tables[tbl]) | set(extra))
        readable = {s.index: await _readable(s, tenant_id, viewer, recs) for s in srcs}
        id_sql, id_args = ids_in("id", sorted(recs))
        # By primary key only: with "AND tenant_id = ..." SQLite may walk the tenant's index
        # instead; the tenant is checked here (the ids came from this tenant's terms anyway).
        rows = await raw(
            f"SELECT id, tenant_id, {', '.join(q(c) for c in cols)} FROM {q(tbl)} WHERE {id_sql}", *id_args
        )
        for row in rows:
            if int(row["tenant_id"]) != tenant_id:
                continue
            rid = int(row["id"])
            for col in sorted(recs[rid]):
                for s in srcs:
                    if s.col != col or not where_ok(s.source, row):
                        continue
                    num_col = _number_column(s)
                    hits.append(
                        Hit(
                            plugin=s.owner,
                            area=s.source.area,
                            place_sv=s.source.place_sv,
                            place_en=s.source.place_en,
                            record_type=s.source.record_type,
                            table=tbl,
                            column=s.source.column,
                            category=s.source.category,
                            record_id=rid,
                            number=row.get(num_col) if num_col else None,
                            status=record_status(row),
                            value=(
                                shown_value(s.source.category, row.get(col), parsed)
                                if rid in readable[s.index]
                                else ""
                            ),
                            link=record_link(s, rid, row),
                            source_index=s.index,
                        )
                    )
                    break  # one hit per record and column, from its first matching place
    hits.sort(key=lambda h: (AREA_ORDER.get(h.area, 9), h.plugin, h.record_type, h.source_index, -h.record_id))
    return hits


def record_link(s: Source, rid: int, row: dict[str, Any]) -> str | None:
    """A found row's API link. The source's own link; else, for a row naming the record it belongs to (activity,
    event log: plugin, record_type, record_id), that record's link."""
    if s.source.link is not None:
        return s.source.link(rid)
    if row.get("plugin") and row.get("record_type") and row.get("record_id") is not None:
        from core.gdpr.registry import get_declarations

        rt = get_declarations().record_types.get((row["plugin"], row["record_type"]))
        if rt is not None and rt.link is not None:
            return rt.link(int(row["record_id"]))
    return None


_numbers: dict[tuple[int, int], str | None] = {}


def _number_column(s: Source) -> str | None:
    """The column holding the record's human number, from its record type (cached)."""
    key = (id(s.source), s.index)
    if key not in _numbers:
        from core.gdpr.registry import get_declarations

        rt = get_declarations().record_types.get((s.owner, s.source.record_type))
        col = None
        if rt is not None and rt.number_column and rt.table is s.source.table:
            col = rt.table._meta.get_column_by_name(rt.number_column)._meta.db_column_name
        _numbers[key] = col
    return _numbers[key]


def _id_list(ids: Any) -> Iterable[int]:
    """Ids aggregated by the database: "[1,2,3]" from SQLite's json_group_array, a list
    from PostgreSQL's array_agg."""
    if not ids:
        return ()
    if isinstance(ids, str):
        return json.loads(ids)  # C: 35k ids in 1.7 ms, where split and int() took 3.8
    return ids


def _alt_sql(tenant_id: int, alt: tuple[Lookup, ...]) -> tuple[str, list[Any]]:
    """WHERE conditions on ``gdpr_search_term t`` for one alternative (all its words)."""
    cond, args = _lookup_sql(alt[0], "t")
    sql = f"t.tenant_id = {{}} AND {cond}"
    args = [tenant_id, *args]
    for i, lk in enumerate(alt[1:], start=2):
        a = f"t{i}"
        c, more = _lookup_sql(lk, a)
        sql += (
            f" AND EXISTS (SELECT 1 FROM gdpr_search_term {a} WHERE {a}.record_id = t.record_id "
            f"AND {a}.tenant_id = t.tenant_id AND {a}.field_id IN (SELECT s2.id FROM gdpr_search_field s2 "
            f"WHERE s2.tbl = (SELECT s1.tbl FROM gdpr_search_field s1 WHERE s1.id = t.field_id)) AND {c})"
        )
        args.extend(more)
    return sql, args


def _linked_conditions(
    tenant_id: int,
    per_field: dict[int, set[int]],
    reg: Registry,
    fids: dict[tuple[str, str], int],
    not_followed: set[str] | None = None,
) -> list[tuple[str, list[Any]]]:
    """Conditions finding the records linked (``*_ref``) to the few customers, contact
    persons or employees the query found themselves (the tables of the rules declaring a
    ``subject``), as the data subjects' export follows them. A table with more than
    :data:`MAX_LINKED_SUBJECTS` people found is not followed (added to ``not_followed``)."""
    from core.gdpr.registry import get_declarations

    kinds = {"customer": "c", "contact": "k", "employee": "m"}
    out: list[tuple[str, list[Any]]] = []
    for info in get_declarations().rules.values():
        subject = info.rule.subject
        if subject not in kinds or info.rule.table is None:
            continue
        tbl = info.table._meta.tablename
        ids: set[int] = set()
        for (t, c), fid in fids.items():
            if t == tbl and c in reg.tables.get(t, {}) and fid in per_field:
                ids |= per_field[fid]
                if len(ids) > MAX_LINKED_SUBJECTS:
                    break  # a name or a fragment, not a person: nothing more to count
        if len(ids) > MAX_LINKED_SUBJECTS and not_followed is not None:
            not_followed.add(tbl)
        if ids and len(ids) <= MAX_LINKED_SUBJECTS:
            marks = ", ".join("{}" for _ in ids)
            out.append(
                (f"t.tenant_id = {{}} AND t.kind = {{}} AND {_term_col('t')} IN ({marks})",
                 [tenant_id, kinds[subject], *[str(i) for i in sorted(ids)]])
            )
    return out


def _first_field(reg: Registry, fids: dict[tuple[str, str], int], tbl: str) -> int | None:
    """The field a row found by linking is shown under: its table's first declared place."""
    for s in reg.sources:
        if s.tbl == tbl and (s.tbl, s.col) in fids:
            return fids[(s.tbl, s.col)]
    return None


async def _linked_rows(
    tenant_id: int,
    per_field: dict[int, set[int]],
    reg: Registry,
    fids: dict[tuple[str, str], int],
    *,
    counted: dict[int, int] | None = None,
    parsed: ParsedQuery | None = None,
    cap: int | None = None,
    not_followed: set[str] | None = None,
) -> None:
    """Add, as the export does, the child rows of the few people found (fields declared with
    ``parent_column`` under the person's rule: a customer's contact persons and portal
    accounts) and the activity (comments, notes, ...) attached to every record found.

    ``cap``: the activity of a record type with more records found than this is not
    followed (the search page, :data:`MAX_LINKED_RECORDS`); its table is added to
    ``not_followed``. None: every record's (:func:`find`)."""
    from core.gdpr.registry import get_declarations

    decl = get_declarations()
    by_id = {fid: key for key, fid in fids.items()}

    def counted_in(tbl: str) -> list[int]:
        return [fid for fid in counted or {} if by_id.get(fid, ("", ""))[0] == tbl]

    by_table: dict[str, set[int]] = {}

    def found_in(tbl: str, limit: int | None) -> set[int] | None:
        """The records of ``tbl`` found, None if more than ``limit`` (counted no further: a
        name prefix finds tens of thousands; no limit: all). Once per table: several rules
        and record types ask for the same table's records."""
        if tbl in by_table:
            return by_table[tbl] if limit is None or len(by_table[tbl]) <= limit else None
        out: set[int] = set()
        for fid, rids in per_field.items():
            key = by_id.get(fid)
            if key is not None and key[0] == tbl and key[1] in reg.tables.get(tbl, {}):
                if limit is not None and len(rids) > limit:
                    return None  # no union of tens of thousands to learn that
                out |= rids
                if limit is not None and len(out) > limit:
                    return None
        by_table[tbl] = out
        return out

    # The children of every person found, in one statement (a branch per child link, tagged
    # with its field): each statement is a round trip, and an exact query finds a handful.
    branches: list[str] = []
    branch_args: list[Any] = []
    branch_field: list[int] = []
    asked: set[tuple[str, str, str]] = set()  # several rules and fields name one child link
    for info in decl.rules.values():
        if info.rule.subject not in SUBJECT_KINDS or info.rule.table is None:
            continue
        people = found_in(info.table._meta.tablename, MAX_LINKED_SUBJECTS)
        if not people or counted_in(info.table._meta.tablename):
            continue
        ids = sorted(people)
        for f in decl.fields_of_rule(info.key):
            if not f.field.parent_column:
                continue
            child = f.table._meta.tablename
            fid = _first_field(reg, fids, child)
            if fid is None:
                continue
            col = f.table._meta.get_column_by_name(f.field.parent_column)._meta.db_column_name
            if (info.table._meta.tablename, child, col) in asked:
                continue
            asked.add((info.table._meta.tablename, child, col))
            id_sql, id_args = ids_in(q(col), ids)
            branches.append(
                f"SELECT {len(branch_field)} AS k, id FROM {q(child)} WHERE tenant_id = {{}} AND {id_sql}"
            )
            branch_args.extend([tenant_id, *id_args])
            branch_field.append(fid)
    if branches:
        for r in await raw(" UNION ALL ".join(branches), *branch_args):
            per_field[branch_field[int(r["k"])]].add(int(r["id"]))
        by_table.clear()  # the children found are records whose activity is followed too
    activity = _first_field(reg, fids, "activity")
    if activity is None:
        return
    # The activity of every record found, in one statement: a branch per record type (each
    # planned as its own index range), their ids aggregated into one row, however many.
    head = "FROM activity WHERE tenant_id = {} AND plugin = {} AND record_type = {}"

    async def any_activity(owner: str, key: str) -> bool:
        return bool(await raw(f"SELECT 1 AS x {head} LIMIT 1", tenant_id, owner, key))

    branches, branch_args = [], []
    for (owner, key), rt in decl.record_types.items():
        conds: list[tuple[str, list[Any]]] = []
        tbl = rt.table._meta.tablename
        big = counted_in(tbl)
        found = found_in(tbl, cap)
        if found is None or (cap is not None and len(found) + sum((counted or {})[f] for f in big) > cap):
            # Said only where something would have been followed: this type has activity.
            if not_followed is not None and await any_activity(owner, key):
                not_followed.add(tbl)
            continue
        rids = sorted(found)
        if rids:
            conds.append(ids_in("record_id", rids))
        if big and parsed is not None:
            # The counted fields' records, as the query itself: no id list through Python.
            sql, args = _union_sql(tenant_id, parsed, big)
            conds.append((f"record_id IN ({sql})", args))
        if not conds:
            continue
        if (big or len(rids) > MANY_RECORDS) and not await any_activity(owner, key):
            continue  # no activity on this record type at all: thousands of index probes spared
        for cond, args in conds:
            branches.append(f"SELECT id {head} AND {cond}")
            branch_args.extend([tenant_id, owner, key, *args])
    if branches:
        rows = await raw(f"SELECT {_agg('id')} AS ids FROM ({' UNION ALL '.join(branches)}) a", *branch_args)
        if rows:
            per_field[activity].update(_id_list(rows[0]["ids"]))


SUBJECT_KINDS = ("customer", "contact", "employee")
MAX_LINKED_RECORDS = 1000
"""The search page follows the activity (comments, notes, ...) of the records of a type only
while it found at most this many of them. More is a name or a fragment of one, not a person:
their activity would add thousands of rows no one reads through, at a few microseconds of index
probes each (a name prefix matching 5,700 cases spent 9 of its 43 ms on them at 1M values). The
answer says so (``truncated``) and the page asks for a narrower search; :func:`find` and the
data subjects' export follow every record."""
MANY_RECORDS = 200
"""From this many found records of a type, :func:`_linked_rows` first asks whether the type
has any activity at all (one index lookup) before looking it up record by record."""


def _agg(column: str = "t.record_id") -> str:
    """Aggregate of the record ids of a GROUP BY (a list on PostgreSQL, a JSON array on SQLite)."""
    return f"json_group_array({column})" if is_sqlite() else f"array_agg({column})"


async def collect_matches(
    tenant_id: int,
    parsed: ParsedQuery,
    reg: Registry,
    fids: dict[tuple[str, str], int],
    *,
    linked: bool = True,
    counted: dict[int, int] | None = None,
    direct: dict[int, set[int]] | None = None,
    link_cap: int | None = None,
    not_followed: set[str] | None = None,
) -> dict[int, set[int]]:
    """Every (field, record) pair of this tenant matching the query, as field id -> record
    ids, read from the covering index alone (one row per field, its record ids aggregated,
    so thousands of matches cost a few rows); only fields still declared. With ``linked``,
    also what the data subjects' export adds (core/gdpr/subjects.py): the records linked
    (``*_ref``) to the few people (customers, contacts, employees) it found, their child
    rows (declared with ``parent_column``), and the activity attached to what it found.

    The one collection step of :func:`search`, :func:`find` and the data subjects' lookups
    (core/gdpr/subjects.py); in the caller's transaction or snapshot.

    ``counted``: fields whose direct matches the caller counts and pages in SQL (field id ->
    number of records; :func:`_search` for large answers); their record ids are not
    collected, and what is linked to their records is found with the query as a subquery.
    Each holds more records than :data:`MAX_LINKED_SUBJECTS`, so none starts a link to a
    person.

    ``direct``: the query's own matches, already read by the caller
    (:func:`_direct_matches`); they are not looked up again.

    ``link_cap``: the activity of a record type with more records found than this is not
    followed (the search page); ``not_followed`` gets the tables whose links were not
    followed, for this cap or for :data:`MAX_LINKED_SUBJECTS`.
    """
    per_field: dict[int, set[int]] = defaultdict(set)
    agg = _agg()
    big = dict(counted or {})

    async def collect(where: str, args: list[Any]) -> None:
        sql = f"SELECT t.field_id, {agg} AS ids FROM gdpr_search_term t WHERE {where} GROUP BY t.field_id"
        for r in await raw(sql, *args):
            per_field[int(r["field_id"])].update(_id_list(r["ids"]))

    skip_sql, skip_args = ("", []) if not big else ids_in("t.field_id", sorted(big))
    per_field.update(direct or {})  # the caller's own sets, not copied (it reads them no more)
    for alt in parsed.alternatives if direct is None else ():
        where, args = _alt_sql(tenant_id, alt)
        if big:
            where, args = f"{where} AND NOT ({skip_sql})", [*args, *skip_args]
        await collect(where, args)
    if linked:
        found = dict(per_field)
        for fid in big:  # stands for "more than MAX_LINKED_SUBJECTS records" to the link rules
            found[fid] = found.get(fid, set()) | set(range(-MAX_LINKED_SUBJECTS - 1, 0))
        for where, args in _linked_conditions(tenant_id, found, reg, fids, not_followed):
            await collect(where, args)
        await _linked_rows(
            tenant_id, per_field, reg, fids, counted=big, parsed=parsed, cap=link_cap, not_followed=not_followed
        )
    declared = {fid for (tbl, col), fid in fids.items() if col in reg.tables.get(tbl, {})}
    return {fid: rids for fid, rids in per_field.items() if fid in declared and rids}


async def search(
    tenant_id: int,
    q_text: str,
    *,
    viewer: Any,
    page: int = 1,
    page_size: int = 20,
    language: str = "sv",
) -> dict[str, Any]:
    """The answer of Settings > GDPR > Search for data: hits grouped by area, plugin,
    record type and place, each group with its total and one page of hits.

    ``viewer``: the searching employee (core.auth.SessionUser); a record its type's
    ``can_open`` (read-only) says they may not open is found only through a reference,
    without its value (None: nobody's).
    Totals come from the index alone; only the page's rows are read. The query's index
    range is read once, up to :data:`COUNT_FROM` entries (:func:`_direct_matches`); past
    that, a place whose every record the searcher reads and that matches that many records
    is counted and paged in SQL (:func:`_countable`), its record ids never collected. A
    group above :data:`TOTAL_CAP` says ``capped`` (and the answer ``total_capped``), its
    total that cap ("10 000+"). A record the searcher may not open is not counted (the
    gate, :func:`_gate`), whichever way its place is answered.
    """
    parsed = parse_query(q_text)
    reg = registry()
    fids = await field_ids(reg)
    for _ in range(3):
        async with snapshot():
            await _plans_for(parsed)
            if not await raw("SELECT id FROM gdpr_search_dirty LIMIT 1"):
                return await _search(
                    tenant_id, parsed, reg, fids, page, page_size, language, viewer
                )
        await flush_pending()
    async with snapshot():
        await _plans_for(parsed)
        return await _search(tenant_id, parsed, reg, fids, page, page_size, language, viewer)


async def _search(
    tenant_id: int,
    parsed: ParsedQuery,
    reg: Registry,
    fids: dict[tuple[str, str], int],
    page: int,
    page_size: int,
    language: str,
    viewer: Any,
) -> dict[str, Any]:
    by_id = {fid: key for key, fid in fids.items()}
    direct = await _direct_matches(tenant_id, parsed)
    counted = {} if direct is not None else await _countable(tenant_id, parsed, reg, by_id, viewer)
    not_followed: set[str] = set()
    matches = await collect_matches(
        tenant_id, parsed, reg, fids, counted=counted, direct=direct,
        link_cap=MAX_LINKED_RECORDS, not_followed=not_followed,
    )
    for fid in [f for f in counted if f in matches]:
        # Linked rows landed in a counted field too: that field is collected after all.
        del counted[fid]
        matches[fid] |= await _field_ids(tenant_id, parsed, fid)
    per_field = await _gate(tenant_id, viewer, matches, reg, by_id)
    # Each pair belongs to the first place of its field whose ``where`` the record meets (a
    # field shown as cases and as service cases is split by reading the rows' kind).
    per_source: dict[int, list[int]] = defaultdict(list)
    split: dict[str, list[tuple[list[Source], set[int]]]] = defaultdict(list)
    for fid, rids in per_field.items():
        key = by_id.get(fid)
        srcs = reg.sources_of(*key) if key is not None else []
        if key is None or not srcs:
            continue
        if len(srcs) == 1 or not any(s.source.where for s in srcs):
            per_source[srcs[0].index].extend(rids)
        else:
            split[key[0]].append((srcs, rids))
    # One read per table of the columns its places split on, for all its matched rows.
    for tbl, fields in split.items():
        table = fields[0][0][0].source.table
        where_cols = sorted({table._meta.get_column_by_name(c)._meta.db_column_name
                             for srcs, _ in fields for s in srcs for c, _ in s.source.where})
        cols_sql = ", ".join(q(c) for c in where_cols)
        # One statement, however many (chunks cost a round trip and a plan each).
        id_sql, id_args = ids_in("id", sorted(set().union(*(rids for _, rids in fields))), opaque=True)
        by_values: list[tuple[dict[str, Any], set[int]]] = [
            (row, set(_id_list(row["ids"])))
            for row in await raw(
                f"SELECT {cols_sql}, {_agg('id')} AS ids FROM {q(tbl)} WHERE {id_sql} GROUP BY {cols_sql}",
                *id_args,
            )
        ]
        for srcs, rids in fields:
            for row, ids in by_values:
                for s in srcs:
                    if where_ok(s.source, row):
                        per_source[s.index].extend(rids & ids)
                        break
    # A counted field is its one place's (_countable): its total from the index's count.
    counts: dict[int, int] = {reg.sources_of(*by_id[fid])[0].index: n for fid, n in counted.items()}
    field_of = {reg.sources_of(*by_id[fid])[0].index: fid for fid in counted}
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for s in reg.sources:
        n = counts.get(s.index) or len(per_source.get(s.index, ()))
        if not n:
            continue
        place = s.source.place_sv if language == "sv" else s.source.place_en
        gkey = (AREA_ORDER.get(s.source.area, 9), s.source.area, s.owner, s.source.record_type, place)
        g = groups.setdefault(gkey, {"total": 0, "sources": []})
        g["total"] += n
        g["sources"].append(s)
    # One page per group, newest records first within each place; then only those rows.
    start = (page - 1) * page_size
    picks: dict[tuple[Any, ...], list[tuple[Source, int]]] = {}
    wanted: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for gkey, g in groups.items():
        chosen: list[tuple[Source, int]] = []
        for s in g["sources"]:
            if s.index in field_of:  # the page's ids straight from the index
                newest = await _field_ids(tenant_id, parsed, field_of[s.index], limit=start + page_size)
                chosen.extend((s, rid) for rid in sorted(newest, reverse=True))
            else:
                chosen.extend((s, rid) for rid in heapq.nlargest(start + page_size, per_source[s.index]))
            if len(chosen) >= start + page_size:
                break
        picks[gkey] = chosen[start : start + page_size]
        for s, rid in picks[gkey]:
            wanted[s.tbl][rid].add(s.col)
    hits = await _rows_to_hits(tenant_id, parsed, reg, wanted, viewer)
    by_place = {(h.table, h.record_id, h.source_index): h for h in hits}
    by_column = {(h.table, h.record_id, h.column): h for h in hits}
    out_groups = []
    for gkey in sorted(groups):
        _, area, plugin, record_type, place = gkey
        page_hits = []
        for s, rid in picks[gkey]:
            h = by_place.get((s.tbl, rid, s.index)) or by_column.get((s.tbl, rid, s.source.column))
            if h is not None:
                page_hits.append(h)
        out_groups.append(
            {
                "area": area,
                "module": plugin,
                "record_type": record_type,
                "place": place,
                "total": min(groups[gkey]["total"], TOTAL_CAP),
                "capped": groups[gkey]["total"] > TOTAL_CAP,
                "hits": [
                    {
                        "record_id": h.record_id,
                        "number": h.number,
                        "field": h.column,
                        "category": h.category,
                        "status": h.status,
                        "value": h.value,
                        "link": h.link,
                    }
                    for h in page_hits
                ],
            }
        )
    return {
        "query_kind": parsed.kind,
        "total": sum(g["total"] for g in out_groups),
        "total_capped": any(g["capped"] for g in out_groups),
        "page": page,
        "page_size": page_size,
        "truncated": bool(not_followed),
        "groups": out_groups,
    }


TOTAL_CAP = 10_000
"""A group's total above this is shown as ``TOTAL_CAP`` with ``capped`` ("10 000+")."""
COUNT_FROM = 50_000
"""A field matching at least this many records is counted and paged in SQL (:func:`_countable`).
Below it, collecting the ids (one aggregated row per field) costs less than the count and page
queries do: the count is a second scan of the same index range, and each counted place a third
(measured with bench/search.py on SQLite at 200k values: a field of 1-2k matches answered 10-30
ms slower counted than collected; at 1M values, prefixes matching 17-36k (field, record) pairs
answered in half the time collected, p50 50 against 106 ms in-process under load 6)."""


async def _direct_matches(tenant_id: int, parsed: ParsedQuery) -> dict[int, set[int]] | None:
    """The query's own matches, field id -> record ids, when there are fewer than
    :data:`COUNT_FROM` index entries (then no field can hold that many records, and
    :func:`_countable` would count none); None when there are more (the caller counts and
    pages those fields in SQL instead, and :func:`collect_matches` reads the others). One
    scan of the query's index range per alternative, stopped at that bound: a common
    prefix is read once, not once to count and again to collect."""
    out: dict[int, set[int]] = defaultdict(set)
    agg = _agg()
    seen = 0
    for alt in parsed.alternatives:
        where, args = _alt_sql(tenant_id, alt)
        bound = int(COUNT_FROM) - seen
        rows = await raw(
            f"SELECT t.field_id, COUNT(*) AS n, {agg} AS ids FROM (SELECT t.field_id, t.record_id "
            f"FROM gdpr_search_term t WHERE {where} LIMIT {bound}) t GROUP BY t.field_id",
            *args,
        )
        seen += sum(int(r["n"]) for r in rows)
        if seen >= COUNT_FROM:
            return None
        for r in rows:
            out[int(r["field_id"])].update(_id_list(r["ids"]))
    return out


def _union_sql(tenant_id: int, parsed: ParsedQuery, field_ids: list[int]) -> tuple[str, list[Any]]:
    """The records of the fields ``field_ids`` matching any alternative, as one SELECT of
    ``record_id`` (UNION: a record matching two alternatives is one record)."""
    f_sql, f_args = ids_in("t.field_id", field_ids)
    subs: list[str] = []
    args: list[Any] = []
    for alt in parsed.alternatives:
        where, more = _alt_sql(tenant_id, alt)
        subs.append(f"SELECT DISTINCT t.record_id FROM gdpr_search_term t WHERE {where} AND {f_sql}")
        args.extend([*more, *f_args])
    return " UNION ".join(subs), args


async def _field_ids(tenant_id: int, parsed: ParsedQuery, fid: int, *, limit: int | None = None) -> set[int]:
    """Record ids of field ``fid`` matching the query, the newest ``limit`` (all without)."""
    tail = "" if limit is None else f" ORDER BY record_id DESC LIMIT {int(limit)}"
    sql, args = _union_sql(tenant_id, parsed, [fid])
    if len(parsed.alternatives) == 1:  # no derived table: the planner sorts the index's rows
        rows = await raw(sql + tail.replace("record_id", "t.record_id"), *args)
    else:
        rows = await raw(f"SELECT record_id FROM ({sql}) m{tail}", *args)
    return {int(r["record_id"]) for r in rows}


async def _countable(
    tenant_id: int, parsed: ParsedQuery, reg: Registry, by_id: dict[int, tuple[str, str]], viewer: Any
) -> dict[int, int]:
    """The fields answered by count and page in SQL: those matching at least
    :data:`COUNT_FROM` records, with one place, whose every record the searcher reads
    (:func:`_all_readable`, or a reference, which the gate never hides), so the index's count
    is the place's total exactly as reading every row would make it. Field id -> records.

    One grouped count over the covering index; other fields are collected as before. An
    exact query (e-mail address, phone or identity number) is not counted: it matches few
    records, and the extra query would only slow it."""
    if not any(lk.prefix for alt in parsed.alternatives for lk in alt):
        return {}
    if len(parsed.alternatives) == 1:  # the usual query: one grouped scan of its range
        where, args = _alt_sql(tenant_id, parsed.alternatives[0])
        sql = (f"SELECT t.field_id, COUNT(DISTINCT t.record_id) AS n FROM gdpr_search_term t "
               f"WHERE {where} GROUP BY t.field_id")
    else:
        subs: list[str] = []
        args = []
        for alt in parsed.alternatives:
            where, more = _alt_sql(tenant_id, alt)
            subs.append(f"SELECT t.field_id, t.record_id FROM gdpr_search_term t WHERE {where}")
            args.extend(more)
        sql = f"SELECT field_id, COUNT(*) AS n FROM ({' UNION '.join(subs)}) m GROUP BY field_id"
    rows = await raw(sql, *args)
    out: dict[int, int] = {}
    for r in rows:
        fid, n = int(r["field_id"]), int(r["n"])
        key = by_id.get(fid)
        # More than MAX_LINKED_SUBJECTS: a counted place starts no link to a person, as
        # reading it would not (collect_matches).
        if n < max(COUNT_FROM, MAX_LINKED_SUBJECTS + 1) or key is None or key[1] not in reg.tables.get(key[0], {}):
            continue
        srcs = reg.sources_of(*key)
        if len(srcs) != 1:  # split between places by the rows' values: read them
            continue
        s = srcs[0]
        if s.source.category in REF_KINDS or _all_readable(s, viewer):
            out[fid] = n
    return out
