"""The numbers of Settings > GDPR > Overview: what the retention rules will anonymize in
the coming months, what the sweeps did in the last days, and the plugins' open matters.

Everything is counted in the database, per tenant: one ``COUNT(*) ... GROUP BY`` per rule
and one for the audit rows, with month and day boundaries computed here (Swedish calendar
days and months) so the SQL is the same on SQLite and PostgreSQL and loads no rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.contracts import OverviewPanel
from core.db import raw, utcnow
from core.gdpr.engine import _due_conditions, _sweep_mode
from core.gdpr.registry import get_declarations, iter_rules
from core.gdpr.settings import effective_settings
from core.gdpr.sql import cname, q, tname
from core.plugins import await_me_maybe, get_host

ZONE = ZoneInfo("Europe/Stockholm")
MONTHS = 12
DAYS = 30
FAILED = ("error", "interrupted")


def _midnight(day: date) -> datetime:
    """The start of a Swedish calendar day, in UTC (stored timestamps are UTC)."""
    return datetime.combine(day, time(0), tzinfo=ZONE).astimezone(UTC)


def month_starts(now: datetime, months: int = MONTHS) -> list[date]:
    """The first day of this month and of the ``months - 1`` months after it (Stockholm)."""
    local = now.astimezone(ZONE).date()
    out = []
    year, month = local.year, local.month
    for _ in range(months):
        out.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def _case(conditions: list[str]) -> str:
    whens = " ".join(f"WHEN {c} THEN {i}" for i, c in enumerate(conditions))
    return f"CASE {whens} END"


@dataclass
class DueByMonth:
    """Records due per month (index 0: this month, with everything already due) per module."""

    months: list[date]
    modules: dict[str, list[int]] = field(default_factory=dict)

    def total(self) -> int:
        return sum(sum(v) for v in self.modules.values())


async def due_per_month(
    tenant_id: int, now: datetime | None = None, months: int = MONTHS
) -> DueByMonth:
    """How many records each module's rules will anonymize in each of the next ``months``
    months with the tenant's settings (rules switched off count nothing). A record is due
    ``days`` after its earliest clock (as the sweep sees it); what is due already is counted
    in this month, since the next sweep takes it."""
    now = now or utcnow()
    starts = month_starts(now, months)
    ends = [_midnight(_next_month(d)) for d in starts]
    decl = get_declarations()
    settings = await effective_settings(tenant_id, decl)
    out = DueByMonth(months=starts)
    for info in iter_rules(decl):
        _, days = _sweep_mode(settings[info.key])
        if days is None:
            continue
        table = info.table
        clocks = [cname(table, c) for c in info.rule.clock_columns]

        def before(_clocks: list[str] = clocks) -> str:
            return "(" + " OR ".join(f"{c} < {{}}" for c in _clocks) + ")"

        cutoffs = [end - timedelta(days=days) for end in ends]
        case_args = [c for c in cutoffs for _ in clocks]
        conds, args = _due_conditions(info, tenant_id, None)
        conds.append(before())
        sql = (
            f"SELECT {_case([before() for _ in cutoffs])} AS {q('m')}, COUNT(*) AS {q('n')} "
            f"FROM {tname(table)} WHERE {' AND '.join(conds)} GROUP BY {q('m')}"
        )
        rows = await raw(sql, *case_args, *args, *([cutoffs[-1]] * len(clocks)))
        counts = out.modules.setdefault(info.module, [0] * months)
        for r in rows:
            if r["m"] is not None:
                counts[int(r["m"])] += int(r["n"])
    out.modules = {k: v for k, v in sorted(out.modules.items()) if any(v)}
    return out


@dataclass
class SweepDay:
    day: date
    records: int = 0
    runs: int = 0
    failures: int = 0


async def sweep_history(
    tenant_id: int, now: datetime | None = None, days: int = DAYS
) -> list[SweepDay]:
    """Per Swedish calendar day of the last ``days`` (today last): records the audited runs
    (``gdpr_run``) anonymized, how many runs there were and how many failed or were
    interrupted."""
    now = now or utcnow()
    today = now.astimezone(ZONE).date()
    out = [SweepDay(today - timedelta(days=days - 1 - i)) for i in range(days)]
    ends = [_midnight(d.day + timedelta(days=1)) for d in out]
    start = _midnight(out[0].day)
    started = q("started_at")
    failed = ", ".join("{}" for _ in FAILED)
    sql = (
        f"SELECT {_case([f'{started} < {{}}' for _ in ends])} AS {q('d')}, "
        f"COALESCE(SUM({q('records')}), 0) AS {q('records')}, COUNT(*) AS {q('runs')}, "
        f"COALESCE(SUM(CASE WHEN {q('outcome')} IN ({failed}) THEN 1 ELSE 0 END), 0) AS {q('failures')} "
        f"FROM {q('gdpr_run')} WHERE {q('tenant_id')} = {{}} AND {started} >= {{}} AND {started} < {{}} "
        f"GROUP BY {q('d')}"
    )
    rows = await raw(sql, *ends, *FAILED, tenant_id, start, ends[-1])
    for r in rows:
        if r["d"] is not None:
            day = out[int(r["d"])]
            day.records, day.runs, day.failures = int(r["records"]), int(r["runs"]), int(r["failures"])
    return out


async def panels(tenant_id: int) -> list[OverviewPanel]:
    """Every enabled plugin's answer to ``gdpr_overview``, ordered by English title."""
    hooks = await get_host().for_tenant(tenant_id)
    found: list[OverviewPanel] = []
    for answer in hooks.gdpr_overview(tenant_id=tenant_id):
        panel: Any = await await_me_maybe(answer)
        if isinstance(panel, OverviewPanel):
            found.append(panel)
    return sorted(found, key=lambda p: p.title_en.lower())
