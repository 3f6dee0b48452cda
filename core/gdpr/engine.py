"""The anonymization engine: what is due, and anonymizing it in set-based batches.

For one rule and one tenant, a record is due when its marker column is NULL, the earliest
non-null clock column is older than ``now - days`` (that is: any clock column is), and
every (column, value) of ``rule.where`` holds. Work goes in keyset batches ordered by id,
one transaction per batch. In each batch, in this order:

1. claim and anonymize the rule's own rows in ONE statement: the declared strategies of
   the rule's fields on its table plus ``marker = now``, guarded by ``marker IS NULL``;
   the ids it returns are the batch (the claim is why a record is done exactly once);
2. the rule's fields on child tables (``parent_column IN ids``);
3. if the rule has a subject, every declared customer_ref / contact_ref / employee_ref
   column of every installed plugin (``column IN ids``);
4. the activity kinds the rule clears;
5. the owner plugin's ``anonymize`` hook;
6. rules that delete their own rows (a ``delete_row`` field on the rule's table) delete
   them last instead of setting a marker.

On PostgreSQL the batch is selected with ``FOR UPDATE SKIP LOCKED``: two sweeps of the
same tenant and rule take different rows, and a row already claimed is no longer due.
SQLite serializes writers (transactions start IMMEDIATE), which gives the same result.

Every sweep of a rule, immediate anonymization and requested erasure leaves a row in
``gdpr_run`` with counts and an error text that holds no personal data.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.contracts import AnonymizeContext
from core.db import atomic, is_sqlite, raw, utcnow
from core.gdpr.registry import (
    SUBJECT_CATEGORY,
    Declarations,
    FieldInfo,
    RuleInfo,
    deletes_rows,
    get_declarations,
    text_capacity,
)
from core.gdpr.settings import RuleSetting, effective_settings, resolve, stored_settings
from core.gdpr.sql import cname, ids_in, pk_name, q, tname
from core.gdpr.tables import GdprRun
from core.plugins import await_me_maybe, get_host

log = logging.getLogger(__name__)

DEFAULT_BATCH = 1000
DEFAULT_WORD = "Anonymiserad"


@dataclass
class RuleResult:
    """What a sweep did (or, in a dry run, would do) for one rule."""

    tenant_id: int
    plugin: str
    rule: str
    mode: str
    days: int
    records: int
    outcome: str  # "ok", "error", "off" (not swept), "dry_run"
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class UnknownRule(LookupError):
    pass


def _rule(decl: Declarations, plugin: str, rule_key: str) -> RuleInfo:
    info = decl.rules.get(rule_key)
    if info is None or info.owner != plugin:
        raise UnknownRule(f"plugin {plugin!r} declares no retention rule {rule_key!r}")
    return info


async def anonymization_word(tenant_id: int) -> str:
    from core.tables import Tenant

    row = await Tenant.select(Tenant.anonymization_word).where(Tenant.id == tenant_id).first()
    return (row or {}).get("anonymization_word") or DEFAULT_WORD


# --- SQL pieces -------------------------------------------------------------------------


def _value_sql(f: FieldInfo, word: str) -> tuple[str, list[Any]]:
    """The SET expression of a strategy (delete_row is handled by the caller)."""
    s = f.field.strategy
    if s == "null":
        return "NULL", []
    if s == "zero":
        return "0", []
    if s == "empty":
        return "''", []
    if s == "replace":
        col = f.table._meta.get_column_by_name(f.field.column)
        cap = text_capacity(col)
        return "{}", [word if cap is None or cap >= len(word) else ""]
    raise ValueError(f"no SET expression for strategy {s!r}")


def _constant(f: FieldInfo, word: str) -> Any:
    """The value :func:`_value_sql` sets, as Python (for the search index's new terms)."""
    expr, args = _value_sql(f, word)
    return args[0] if args else {"NULL": None, "0": 0, "''": ""}[expr]


def _set_clause(fields: list[FieldInfo], word: str) -> tuple[list[str], list[Any]]:
    by_column: dict[str, FieldInfo] = {}
    for f in fields:
        by_column[f.field.column] = f  # one assignment per column (PostgreSQL insists)
    parts: list[str] = []
    args: list[Any] = []
    for column, f in by_column.items():
        expr, a = _value_sql(f, word)
        parts.append(f"{cname(f.table, column)} = {expr}")
        args.extend(a)
    return parts, args


async def _update_indexed(
    table: Any, fields: list[FieldInfo], word: str, where: str, where_args: list[Any]
) -> None:
    """``UPDATE table SET <fields' strategies> WHERE where`` with the search index kept
    set-based: the trigger notes none of the rows (search.quiet), and their terms of the
    columns set are replaced in one statement each (every row got the same constant), so
    the commit-time flush does not re-read them one chunk at a time."""
    from core.gdpr import search

    sets, set_args = _set_clause(fields, word)
    tbl = table._meta.tablename
    key = table._meta.primary_key._meta.db_column_name
    values = {
        table._meta.get_column_by_name(f.field.column)._meta.db_column_name: _constant(f, word)
        for f in fields
    }
    if not set(values) & set(search.registry().tables.get(tbl, {})):  # no search column set
        await raw(f"UPDATE {tname(table)} SET {', '.join(sets)} WHERE {where}", *set_args, *where_args)
        return
    async with search.quiet(tbl):
        rows = await raw(
            f"UPDATE {tname(table)} SET {', '.join(sets)} WHERE {where} RETURNING {pk_name(table)}",
            *set_args,
            *where_args,
        )
    await search.replace_terms(tbl, sorted(int(r[key]) for r in rows), values)


_due_cache: dict[tuple[int, bool], tuple[RuleInfo, list[str], int, list[Any]]] = {}


def _due_conditions(
    info: RuleInfo, tenant_id: int, cutoff: datetime | None
) -> tuple[list[str], list[Any]]:
    # The SQL text of a rule never changes; building it costs more than running an empty
    # sweep's query, so it is made once per rule (the entry keeps ``info`` alive, so its id
    # is not reused while cached).
    hit = _due_cache.get((id(info), cutoff is not None))
    if hit is None or hit[0] is not info:
        table = info.table
        conds = [f"{q('tenant_id')} = {{}}"]
        where_args: list[Any] = []
        n_clocks = 0
        if info.has_marker():
            conds.append(f"{cname(table, info.rule.marker_column)} IS NULL")
        if cutoff is not None:
            clocks = [f"{cname(table, c)} < {{}}" for c in info.rule.clock_columns]
            conds.append("(" + " OR ".join(clocks) + ")")
            n_clocks = len(clocks)
        for column, value in info.rule.where:
            if value is None:
                conds.append(f"{cname(table, column)} IS NULL")
            else:
                conds.append(f"{cname(table, column)} = {{}}")
                where_args.append(value)
        hit = (info, conds, n_clocks, where_args)
        _due_cache[(id(info), cutoff is not None)] = hit
    _, conds, n_clocks, where_args = hit
    return list(conds), [tenant_id, *([cutoff] * n_clocks), *where_args]


def _own_fields(decl: Declarations, info: RuleInfo) -> list[FieldInfo]:
    return [
        f
        for f in decl.fields_of_rule(info.key)
        if f.field.parent_column is None
        and f.table is info.table
        and f.field.strategy != "delete_row"
    ]


def _child_groups(decl: Declarations, info: RuleInfo) -> dict[tuple[Any, str], list[FieldInfo]]:
    groups: dict[tuple[Any, str], list[FieldInfo]] = defaultdict(list)
    for f in decl.fields_of_rule(info.key):
        if f.field.parent_column is not None:
            groups[(f.table, f.field.parent_column)].append(f)
    return groups


# --- one batch --------------------------------------------------------------------------


async def _claim(
    decl: Declarations,
    info: RuleInfo,
    conds: list[str],
    args: list[Any],
    word: str,
    now: datetime,
    limit: int,
    skip_locked: bool,
) -> list[int]:
    """Select the batch (locking it on PostgreSQL) and, unless the rule deletes its rows,
    anonymize its own columns and set the marker in the same statement."""
    table = info.table
    pk = pk_name(table)
    lock = ""
    if not is_sqlite():
        lock = " FOR UPDATE SKIP LOCKED" if skip_locked else " FOR UPDATE"

    def select(columns: str) -> str:
        return (
            f"SELECT {columns} FROM {tname(table)} WHERE {' AND '.join(conds)} "
            f"ORDER BY {pk} LIMIT {int(limit)}{lock}"
        )

    if deletes_rows(decl, info):
        rows = await raw(select(pk), *args)
        return [int(r[table._meta.primary_key._meta.db_column_name]) for r in rows]
    sets, set_args = _set_clause(_own_fields(decl, info), word)
    sets.append(f"{cname(table, info.rule.marker_column)} = {{}}")
    set_args.append(now)
    guard = f"{q('tenant_id')} = {{}} AND {cname(table, info.rule.marker_column)} IS NULL"
    if is_sqlite():
        # SQLite evaluates the uncorrelated subquery once.
        sql = (
            f"UPDATE {tname(table)} SET {', '.join(sets)} WHERE {pk} IN ({select(pk)}) "
            f"AND {guard} RETURNING {pk}"
        )
        rows = await raw(sql, *set_args, *args, args[0])
    else:
        # PostgreSQL may rescan an IN (... LIMIT n FOR UPDATE) subquery once per outer row,
        # and a rescan skips the rows this statement already updated, so it would claim
        # far more than n. A materialized CTE is evaluated exactly once. Its ids go in as
        # one array (an InitPlan): joining the CTE instead lets the generic plan of the
        # prepared statement hash-join a sequential scan of the whole table per batch.
        sql = (
            f"WITH batch AS MATERIALIZED ({select(f'{pk} AS batch_id')}) "
            f"UPDATE {tname(table)} SET {', '.join(sets)} "
            f"WHERE {pk} = ANY(ARRAY(SELECT batch_id FROM batch)) AND {guard} RETURNING {pk}"
        )
        rows = await raw(sql, *args, *set_args, args[0])
    key = table._meta.primary_key._meta.db_column_name
    return sorted(int(r[key]) for r in rows)


async def _after_claim(
    decl: Declarations, info: RuleInfo, tenant_id: int, ids: list[int], word: str, now: datetime
) -> int:
    """Steps 2-6 for the claimed ids; returns how many records the batch anonymized."""
    if not ids:
        return 0
    # 3's references that are the very column a child group is found by (a contact's
    # customer_id) are set in that group's UPDATE: one row version instead of two.
    refs: list[FieldInfo] = []
    if info.rule.subject:
        seen: set[tuple[str, str]] = set()
        for f in decl.reference_fields(SUBJECT_CATEGORY[info.rule.subject]):
            mark = (f.table._meta.tablename, f.field.column)
            if mark not in seen:
                seen.add(mark)
                refs.append(f)
    groups = _child_groups(decl, info)
    merged: dict[tuple[Any, str], list[FieldInfo]] = defaultdict(list)
    for f in refs:
        key = (f.table, f.field.column)
        if key in groups and f.field.strategy != "delete_row":
            merged[key].append(f)
    # 2. children of the rule's records
    for (child, parent_column), fields in groups.items():
        id_sql, id_args = ids_in(cname(child, parent_column), ids)
        if any(f.field.strategy == "delete_row" for f in fields):
            await raw(
                f"DELETE FROM {tname(child)} WHERE {q('tenant_id')} = {{}} AND {id_sql}",
                tenant_id,
                *id_args,
            )
            continue
        await _update_indexed(
            child,
            fields + merged.get((child, parent_column), []),
            word,
            f"{q('tenant_id')} = {{}} AND {id_sql}",
            [tenant_id, *id_args],
        )
    # 3. references to the anonymized people, in every installed plugin
    for f in refs:
        if f in merged.get((f.table, f.field.column), ()):
            continue
        id_sql, id_args = ids_in(cname(f.table, f.field.column), ids)
        if f.field.strategy == "delete_row":
            await raw(
                f"DELETE FROM {tname(f.table)} WHERE {q('tenant_id')} = {{}} AND {id_sql}",
                tenant_id,
                *id_args,
            )
        else:
            await _update_indexed(
                f.table, [f], word, f"{q('tenant_id')} = {{}} AND {id_sql}", [tenant_id, *id_args]
            )
    # 4. activity of the kinds the rule clears
    if info.rule.clears_activity:
        from core.activity.service import clear_activity

        await clear_activity(
            tenant_id, info.owner, info.rule.record_type, ids, info.rule.clears_activity, count=False
        )
    # 5. what only the plugin knows how to do
    context = AnonymizeContext(
        tenant_id=tenant_id,
        plugin=info.owner,
        rule=info.key,
        record_ids=list(ids),
        word=word,
        now=now,
    )
    # ... and of the plugins that declared personal data under this rule as children of its
    # records (the customer portal's accounts under the customer register's rules): they
    # get the same context, whose ``plugin`` names the rule's owner.
    helpers = sorted({f.owner for f in decl.fields_of_rule(info.key) if f.owner != info.owner})
    for name in (info.owner, *helpers):
        for result in get_host().call_plugin(name, "anonymize", context=context):
            await await_me_maybe(result)
    # 6. rules whose records are deleted outright
    if deletes_rows(decl, info):
        table = info.table
        id_sql, id_args = ids_in(pk_name(table), ids)
        rows = await raw(
            f"DELETE FROM {tname(table)} WHERE {q('tenant_id')} = {{}} AND {id_sql} RETURNING {pk_name(table)}",
            tenant_id,
            *id_args,
        )
        return len(rows)
    return len(ids)


async def _batch(
    decl: Declarations,
    info: RuleInfo,
    tenant_id: int,
    conds: list[str],
    args: list[Any],
    word: str,
    now: datetime,
    limit: int,
    skip_locked: bool,
    relaxed_commit: bool = False,
) -> tuple[list[int], int]:
    """One batch in its own transaction (or the caller's): (claimed ids, records done)."""
    async with atomic():
        if relaxed_commit and not is_sqlite():
            # A sweep batch lost in a server crash is simply due again at the next sweep
            # (its marker is lost with it), so it need not wait for the WAL flush.
            await raw("SET LOCAL synchronous_commit TO OFF")
        ids = await _claim(decl, info, conds, args, word, now, limit, skip_locked)
        done = await _after_claim(decl, info, tenant_id, ids, word, now)
    return ids, done


# --- audit ------------------------------------------------------------------------------


async def start_run(
    tenant_id: int,
    plugin: str,
    rule: str,
    trigger: str,
    started: datetime,
    records: int = 0,
) -> int:
    """Open an audit row (``gdpr_run``, outcome "running") for a sweep or erasure; its id."""
    rows = await GdprRun.insert(
        GdprRun(
            tenant_id=tenant_id,
            plugin=plugin,
            rule_key=rule,
            trigger=trigger,
            started_at=started,
            records=records,
            outcome="running",
        )
    ).returning(GdprRun.id)
    return int(rows[0]["id"])


async def _add_records(run_id: int, records: int) -> None:
    """Count a committed batch on its run row, in the batch's own transaction."""
    await raw(
        f"UPDATE {q('gdpr_run')} SET {q('records')} = {q('records')} + {{}} WHERE {q('id')} = {{}}",
        records,
        run_id,
    )


async def finish_run(run_id: int, records: int, outcome: str, error: str = "") -> None:
    """Close an audit row opened by :func:`start_run` with its records, outcome and error."""
    now = utcnow()
    rows = await GdprRun.update(
        {
            GdprRun.finished_at: now,
            GdprRun.records: records,
            GdprRun.outcome: outcome,
            GdprRun.error: error[:2000],
        }
    ).where(GdprRun.id == run_id).returning(GdprRun.plugin, GdprRun.started_at)
    if rows:
        from core.metrics import observe_run

        observe_run(rows[0]["plugin"], records, rows[0]["started_at"], now)


async def _finished_runs(
    tenant_id: int,
    infos: list[RuleInfo],
    started: datetime,
    outcome: str = "ok",
    error: str = "",
) -> None:
    """Rows of sweeps that anonymized nothing, all in one INSERT."""
    if not infos:
        return
    finished = utcnow()
    plugins = [info.owner for info in infos]
    keys = [info.key for info in infos]
    head = (
        "INSERT INTO gdpr_run (tenant_id, plugin, rule_key, trigger, started_at, finished_at, "
        "records, outcome, error) "
    )
    if is_sqlite():
        rows = ", ".join("({}, {}, {}, 'sweep', {}, {}, 0, {}, {})" for _ in infos)
        args: list[Any] = []
        for plugin, key in zip(plugins, keys, strict=True):
            args += [tenant_id, plugin, key, started, finished, outcome, error[:2000]]
        await raw(head + "VALUES " + rows, *args)
    else:
        # One statement text whatever the number of rules (a prepared, cached plan).
        await raw(
            head + "SELECT {}, u.p, u.k, 'sweep', {}, {}, 0, {}, {} "
            "FROM unnest({}::text[], {}::text[]) AS u(p, k)",
            tenant_id,
            started,
            finished,
            outcome,
            error[:2000],
            plugins,
            keys,
        )


INTERRUPTED = "stopped before it finished; what is left is due at the next sweep"

#: A sweep still "running" this long after it started is taken for dead (its worker was
#: killed). Sweeps in workers are stopped by Dramatiq's time limit (10 minutes) long
#: before; a sweep that does finish later still writes its own outcome over this one.
STALE_RUN_MINUTES = 30


async def mark_interrupted_runs(older_than: timedelta = timedelta(minutes=STALE_RUN_MINUTES)) -> int:
    """Mark sweeps left "running" by a killed process as "interrupted"; returns how many.

    Their ``records`` are exact: every batch adds its count to the run row in the batch's
    own transaction, so a batch lost with the process is neither counted nor done (its
    records are due again and the next sweep does them, under a new run row).
    """
    rows = await (
        GdprRun.update(
            {
                GdprRun.outcome: "interrupted",
                GdprRun.finished_at: utcnow(),
                GdprRun.error: INTERRUPTED,
            }
        )
        .where((GdprRun.outcome == "running") & (GdprRun.started_at < utcnow() - older_than))
        .returning(GdprRun.id)
    )
    return len(rows)


def safe_error(exc: BaseException, where: str) -> str:
    """An error text without personal data: database messages can quote values, so only
    the exception's class and where it happened are kept."""
    return f"{type(exc).__name__} {where}"


# --- public API -------------------------------------------------------------------------


async def anonymize_records(
    tenant_id: int,
    plugin: str,
    rule_key: str,
    record_ids: list[int],
    reason: str,
    *,
    now: datetime | None = None,
    batch_size: int = DEFAULT_BATCH,
) -> int:
    """Anonymize these records of ``rule_key`` now, whatever their clock; returns how many.

    Records of another tenant, already anonymized, or outside the rule's ``where`` are
    left alone. Runs in the caller's transaction when there is one (a delete request), and
    writes an audit row with ``trigger = reason`` in it.
    """
    decl = get_declarations()
    info = _rule(decl, plugin, rule_key)
    ids = sorted({int(i) for i in record_ids})
    if not ids:
        return 0
    now = now or utcnow()
    word = await anonymization_word(tenant_id)
    total = 0
    async with atomic():
        run_id = await start_run(tenant_id, plugin, rule_key, reason[:32], utcnow())
        for start in range(0, len(ids), batch_size):
            chunk = ids[start : start + batch_size]
            conds, args = _due_conditions(info, tenant_id, None)
            id_sql, id_args = ids_in(pk_name(info.table), chunk)
            conds.append(id_sql)
            args.extend(id_args)
            _, done = await _batch(decl, info, tenant_id, conds, args, word, now, len(chunk), False)
            total += done
        await finish_run(run_id, total, "ok")
    return total


async def anonymize_if_immediate(
    tenant_id: int, plugin: str, rule_key: str, record_ids: list[int]
) -> int:
    """Call inside your delete transaction, after setting the clock (deleted_at).

    If the tenant set ``rule_key`` to "immediately", the records are anonymized now, in the
    same transaction, with an audit row; returns how many (0 in any other mode).
    """
    decl = get_declarations()
    info = _rule(decl, plugin, rule_key)
    setting = (await effective_settings(tenant_id, decl, keys=[info.key]))[info.key]
    if setting.mode != "immediately":
        return 0
    return await anonymize_records(tenant_id, plugin, rule_key, record_ids, reason="immediate")


def _sweep_mode(setting: RuleSetting) -> tuple[str, int | None]:
    """Sweeps run "days" rules at their N days, and catch up "immediately" rules at 0 days
    (a record deleted before the tenant chose "immediately", or by a path that did not call
    :func:`anonymize_if_immediate`). "off" is not swept."""
    if setting.mode == "days":
        return "days", setting.days
    if setting.mode == "immediately":
        return "immediately", 0
    return "off", None


async def count_due(info: RuleInfo, tenant_id: int, cutoff: datetime) -> int:
    conds, args = _due_conditions(info, tenant_id, cutoff)
    rows = await raw(
        f"SELECT COUNT(*) AS n FROM {tname(info.table)} WHERE {' AND '.join(conds)}", *args
    )
    return int(rows[0]["n"]) if rows else 0


async def _any_due(tenant_id: int, work: list[tuple[RuleInfo, datetime]]) -> set[str]:
    """The keys of the rules with at least one due record: one statement for all of them.

    Most scheduled sweeps find nothing (every tenant x every plugin, every hour), so this
    is what a sweep usually costs: an EXISTS per rule on the rule's indexes.
    """
    parts: list[str] = []
    args: list[Any] = []
    for i, (info, cutoff) in enumerate(work):
        conds, a = _due_conditions(info, tenant_id, cutoff)
        parts.append(
            f"EXISTS (SELECT 1 FROM {tname(info.table)} WHERE {' AND '.join(conds)}) AS d{i}"
        )
        args.extend(a)
    if not parts:
        return set()
    row = (await raw(f"SELECT {', '.join(parts)}", *args))[0]
    return {info.key for i, (info, _) in enumerate(work) if row[f"d{i}"]}


async def sweep(
    tenant_id: int,
    plugin: str,
    dry_run: bool = False,
    now: datetime | None = None,
    *,
    batch_size: int = DEFAULT_BATCH,
    overrides: dict[str, RuleSetting] | None = None,
    rules: list[str] | None = None,
) -> list[RuleResult]:
    """Anonymize everything of ``plugin`` that is due for ``tenant_id``; one result per rule.

    ``dry_run`` only counts. ``overrides`` replaces stored settings (a preview of proposed
    settings). A rule that fails is rolled back batch-wise, audited as "error", and the
    other rules still run.
    """
    decl = get_declarations()
    infos = [i for i in decl.rules_of(plugin) if rules is None or i.key in rules]
    return await _sweep_infos(decl, tenant_id, infos, dry_run, now, batch_size, overrides)


async def sweep_tenant(
    tenant_id: int,
    plugins: list[str],
    now: datetime | None = None,
    *,
    batch_size: int = DEFAULT_BATCH,
) -> list[RuleResult]:
    """:func:`sweep` of each of ``plugins`` for one tenant, with the settings read and the
    "anything due?" check made once for all their rules (the scheduled fan-out: most
    sweeps find nothing). Results are ordered by plugin, then rule."""
    decl = get_declarations()
    infos = [i for p in plugins for i in decl.rules_of(p)]
    return await _sweep_infos(decl, tenant_id, infos, False, now, batch_size, None)


async def _sweep_infos(
    decl: Declarations,
    tenant_id: int,
    infos: list[RuleInfo],
    dry_run: bool,
    now: datetime | None,
    batch_size: int,
    overrides: dict[str, RuleSetting] | None,
) -> list[RuleResult]:
    if not infos:
        return []
    started = utcnow()
    now = now or started
    # Every stored row of the tenant (a few dozen at most) in one plain query.
    stored = await stored_settings(tenant_id)
    stored.update(overrides or {})
    settings = {i.key: resolve(i, stored.get(i.key)) for i in infos}
    results: dict[tuple[str, str], RuleResult] = {}
    work: list[tuple[RuleInfo, datetime]] = []
    for info in sorted(infos, key=lambda i: (i.owner, i.key)):
        setting = settings[info.key]
        slot = (info.owner, info.key)
        _, days = _sweep_mode(setting)
        if days is None:
            results[slot] = RuleResult(
                tenant_id, info.owner, info.key, setting.mode, setting.days, 0, "off"
            )
            continue
        cutoff = now - timedelta(days=days)
        if dry_run:
            n = await count_due(info, tenant_id, cutoff)
            results[slot] = RuleResult(
                tenant_id, info.owner, info.key, setting.mode, setting.days, n, "dry_run"
            )
            continue
        work.append((info, cutoff))
    if work:
        due = await _any_due(tenant_id, work)
        idle = [info for info, _ in work if info.key not in due]
        await _finished_runs(tenant_id, idle, started)
        for info in idle:
            setting = settings[info.key]
            results[(info.owner, info.key)] = RuleResult(
                tenant_id, info.owner, info.key, setting.mode, setting.days, 0, "ok"
            )
        word = await anonymization_word(tenant_id) if due else ""
        for info, cutoff in work:
            if info.key in due:
                results[(info.owner, info.key)] = await _sweep_rule(
                    decl, info, tenant_id, settings[info.key], cutoff, word, now, batch_size
                )
    return [results[k] for k in sorted(results)]


async def _sweep_rule(
    decl: Declarations,
    info: RuleInfo,
    tenant_id: int,
    setting: RuleSetting,
    cutoff: datetime,
    word: str,
    now: datetime,
    batch_size: int,
) -> RuleResult:
    """Sweep one rule in batches. The run row is written by the first batch that
    anonymizes something, in that batch's transaction, and every later batch adds its count
    in its own: whenever the process dies, the row's ``records`` are exactly the records
    whose batches committed (and a run that committed nothing leaves no row)."""
    started = utcnow()
    run_id: int | None = None
    total = 0
    last = 0
    pk = pk_name(info.table)
    try:
        while True:
            conds, args = _due_conditions(info, tenant_id, cutoff)
            conds.append(f"{pk} > {{}}")
            args.append(last)
            async with atomic():
                if not is_sqlite():
                    # A sweep batch lost in a server crash is simply due again at the next
                    # sweep (its marker and its count are lost with it), so it need not wait
                    # for the WAL flush.
                    await raw("SET LOCAL synchronous_commit TO OFF")
                ids = await _claim(decl, info, conds, args, word, now, batch_size, True)
                done = await _after_claim(decl, info, tenant_id, ids, word, now)
                new_run = run_id
                if ids:
                    if run_id is None:
                        new_run = await start_run(
                            tenant_id, info.owner, info.key, "sweep", started, records=done
                        )
                    else:
                        await _add_records(run_id, done)
            run_id = new_run  # only once the batch committed
            total += done
            if not ids:
                break
            last = ids[-1]
    except asyncio.CancelledError:
        # Stopped from outside (Dramatiq's time limit, a worker shutting down): the batch in
        # flight rolled back; say so now rather than leave the row to the stale-run check.
        if run_id is not None:
            try:
                await finish_run(run_id, total, "interrupted", INTERRUPTED)
            except Exception:  # the schedule marks it later anyway
                log.warning("could not mark gdpr run %s interrupted", run_id)
        raise
    except Exception as exc:  # audited, and the other rules still run
        error = safe_error(exc, f"in a batch after id {last}")
        log.error("gdpr sweep of rule %s for tenant %s failed: %s", info.key, tenant_id, error)
        if run_id is None:
            await _finished_runs(tenant_id, [info], started, "error", error)
        else:
            await finish_run(run_id, total, "error", error)
        from core.eventlog import log_system

        await log_system(tenant_id, "error", "gdpr_sweep", f"rule {info.key}: {error}"[:500])
        return RuleResult(
            tenant_id, info.owner, info.key, setting.mode, setting.days, total, "error", error
        )
    if run_id is None:  # what was due went meanwhile (another sweep took it)
        await _finished_runs(tenant_id, [info], started)
    else:
        await finish_run(run_id, total, "ok")
    return RuleResult(tenant_id, info.owner, info.key, setting.mode, setting.days, total, "ok")


async def tenant_ids() -> list[int]:
    """Every tenant, plus 0 (system-log rows of unknown organizations)."""
    from core.tables import Tenant

    return [0] + [int(r["id"]) for r in await Tenant.select(Tenant.id).order_by(Tenant.id)]


def sweep_plugins() -> list[str]:
    """Installed plugins that declare rules, enabled for a tenant or not (decision 3)."""
    return get_declarations().plugins_with_rules()
