"""The sweep task and the schedule that enqueues it.

Messages are hints (decision 4): the task selects what is due from the database, so a
lost, repeated or concurrent message changes nothing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from core.worker import enqueue, task

if TYPE_CHECKING:
    from core.gdpr.engine import RuleResult

log = logging.getLogger(__name__)

SWEEP_TASK = "core.gdpr_sweep"
SWEEP_TENANTS_TASK = "core.gdpr_sweep_tenants"
#: Tenants per scheduled message: 1,000 tenants are 50 messages, enough to keep every
#: worker thread busy, while a message carries 20 tenants x every plugin (~200 sweeps) so
#: that sending the schedule costs next to nothing.
TENANTS_PER_MESSAGE = 20


def _report(tenant_id: int, results: list[RuleResult]) -> None:
    done = sum(r.records for r in results)
    errors = [r.rule for r in results if r.outcome == "error"]
    if errors:
        log.warning("gdpr sweep for tenant %s: rules failed: %s", tenant_id, errors)
    elif done:
        log.info("gdpr sweep for tenant %s anonymized %s record(s)", tenant_id, done)


@task(SWEEP_TASK, max_retries=3)
async def gdpr_sweep(tenant_id: int, plugin: str) -> None:
    """Sweep one (tenant, plugin): every rule in mode "days" (and "immediately", as a
    catch-up) plus the fixed rules. Failures are audited per rule, not retried here: the
    next scheduled sweep finds the same records due."""
    from core.gdpr.engine import sweep

    _report(int(tenant_id), await sweep(int(tenant_id), str(plugin)))


@task("core.gdpr_search_index", max_retries=3)
async def gdpr_search_index() -> None:
    """Index what a bulk write left to the background (core.gdpr.search.flush), one chunk
    per transaction. A hint like every message: a search catches up on what is left before
    it answers, and a repeated message finds nothing to do."""
    from core.gdpr.search import index_backlog

    done = await index_backlog()
    if done:
        log.info("search index: %s noted row(s) indexed in the background", done)


@task(SWEEP_TENANTS_TASK, max_retries=3)
async def gdpr_sweep_tenants(tenant_ids: list[int], plugins: list[str]) -> None:
    """The scheduled fan-out: sweep each tenant x each plugin (the same sweeps as
    ``core.gdpr_sweep``, with settings and the "anything due?" check read once per tenant).
    A worker killed halfway leaves the message unacknowledged: it is delivered again and
    sweeps again, which redoes nothing (the markers say what is done)."""
    for tenant_id in tenant_ids:
        await sweep_one_tenant(int(tenant_id), [str(p) for p in plugins])


async def sweep_one_tenant(tenant_id: int, plugins: list[str] | None = None) -> list[RuleResult]:
    """One tenant's sweep of ``plugins`` (default: every plugin with rules), as the schedule
    runs it; the "run sweep now" button of the GDPR overview calls this too."""
    from core.gdpr.engine import sweep_plugins, sweep_tenant

    wanted = [p for p in (sweep_plugins() if plugins is None else plugins) if tenant_id != 0 or p == "core"]
    results = await sweep_tenant(tenant_id, wanted)
    _report(tenant_id, results)
    return results


async def enqueue_sweeps() -> int:
    """Enqueue a sweep of every tenant x installed plugin with rules, including plugins a
    tenant disabled: their stored data is still subject to retention (decision 3). Returns
    the number of (tenant, plugin) sweeps; they go out ``TENANTS_PER_MESSAGE`` tenants a
    message.

    First, sweeps left "running" by a killed worker are marked "interrupted" (their counts
    are exact; what they did not reach is due again and swept now)."""
    from core.gdpr.engine import mark_interrupted_runs, sweep_plugins, tenant_ids

    stale = await mark_interrupted_runs()
    if stale:
        log.warning("gdpr: %s sweep run(s) were interrupted (worker stopped)", stale)
    plugins = sweep_plugins()
    tenants = await tenant_ids()
    count = 0
    for start in range(0, len(tenants), TENANTS_PER_MESSAGE):
        chunk = tenants[start : start + TENANTS_PER_MESSAGE]
        enqueue(SWEEP_TENANTS_TASK, chunk, plugins)
        # Only the core keeps rows of tenant 0 (logins to unknown organizations).
        count += sum(1 if t == 0 else len(plugins) for t in chunk if t != 0 or "core" in plugins)
    return count


RUN_KEEP_DAYS = 90


async def prune_runs(keep_days: int = RUN_KEEP_DAYS) -> int:
    """Forget zero-count, successful audit rows older than ``keep_days``.

    Every scheduled sweep writes one row per rule even when nothing was due, which for many
    tenants is most rows; after three months such a row says nothing an administrator
    needs. Rows that anonymized something, failed, or were immediate/erasure runs stay.
    """
    from datetime import timedelta

    from core.db import utcnow
    from core.gdpr.tables import GdprRun

    rows = (
        await GdprRun.delete()
        .where(
            (GdprRun.records == 0)
            & (GdprRun.outcome == "ok")
            & (GdprRun.trigger == "sweep")
            & (GdprRun.started_at < utcnow() - timedelta(days=keep_days))
        )
        .returning(GdprRun.id)
    )
    return len(rows)
