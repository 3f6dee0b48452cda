"""The sweep task and the schedule that enqueues it.

Messages are hints (decision 4): the task selects what is due from the database, so a
lost, repeated or concurrent message changes nothing.
"""

from __future__ import annotations

import logging

from core.worker import enqueue, task

log = logging.getLogger(__name__)

SWEEP_TASK = "core.gdpr_sweep"


@task(SWEEP_TASK, max_retries=3)
async def gdpr_sweep(tenant_id: int, plugin: str) -> None:
    """Sweep one (tenant, plugin): every rule in mode "days" (and "immediately", as a
    catch-up) plus the fixed rules. Failures are audited per rule, not retried here: the
    next scheduled sweep finds the same records due."""
    from core.gdpr.engine import sweep

    results = await sweep(int(tenant_id), str(plugin))
    done = sum(r.records for r in results)
    errors = [r.rule for r in results if r.outcome == "error"]
    if errors:
        log.warning("gdpr sweep of %s for tenant %s: rules failed: %s", plugin, tenant_id, errors)
    elif done:
        log.info("gdpr sweep of %s for tenant %s anonymized %s record(s)", plugin, tenant_id, done)


async def enqueue_sweeps() -> int:
    """Enqueue a sweep for every tenant x installed plugin with rules, including plugins a
    tenant disabled: their stored data is still subject to retention (decision 3)."""
    from core.gdpr.engine import sweep_plugins, tenant_ids

    plugins = sweep_plugins()
    count = 0
    for tenant_id in await tenant_ids():
        for plugin in plugins:
            if tenant_id == 0 and plugin != "core":
                continue  # only the core keeps rows of unknown organizations
            enqueue(SWEEP_TASK, tenant_id, plugin)
            count += 1
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
