"""The periodic schedule. Any number of schedulers may run; one holds the lease and acts.

The lease is a row in ``scheduler_lock`` with an expiry: the holder renews it on every tick,
another scheduler takes it over only after it expired (the holder died).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from core.contracts import ScheduledJob
from core.db import atomic, utcnow
from core.plugins import get_host
from core.tables import SchedulerLock

log = logging.getLogger(__name__)

LOCK_NAME = "scheduler"
LEASE_SECONDS = 90
TICK_SECONDS = 30


class Lease:
    def __init__(self, holder: str | None = None, name: str = LOCK_NAME, seconds: int = LEASE_SECONDS):
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.name = name
        self.seconds = seconds

    async def acquire(self) -> bool:
        """Take or renew the lease; True if this scheduler holds it now."""
        now = utcnow()
        until = now + timedelta(seconds=self.seconds)
        async with atomic():
            taken = await SchedulerLock.update(
                {SchedulerLock.holder: self.holder, SchedulerLock.expires_at: until}
            ).where(
                (SchedulerLock.name == self.name)
                & ((SchedulerLock.holder == self.holder) | (SchedulerLock.expires_at < now))
            ).returning(SchedulerLock.id)
            if taken:
                return True
            if not await SchedulerLock.exists().where(SchedulerLock.name == self.name):
                await SchedulerLock.insert(
                    SchedulerLock(name=self.name, holder=self.holder, expires_at=until)
                )
                return True
        return False

    async def release(self) -> None:
        await SchedulerLock.delete().where(
            (SchedulerLock.name == self.name) & (SchedulerLock.holder == self.holder)
        )


class Scheduler:
    """APScheduler jobs that only run while this process holds the lease."""

    def __init__(self, lease: Lease | None = None):
        self.lease = lease or Lease()
        self.active = False
        self.aps = AsyncIOScheduler(timezone="UTC")

    def jobs(self) -> list:
        return get_host().collect("register_jobs")

    async def tick(self) -> None:
        try:
            self.active = await self.lease.acquire()
        except Exception:  # a database hiccup must not kill the scheduler
            log.exception("could not renew the scheduler lease")
            self.active = False

    def _guarded(self, job: ScheduledJob) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            if not self.active:
                return
            try:
                await job.func()
            except Exception:
                log.exception("scheduled job %s failed", job.id)

        return run

    async def start(self) -> None:
        await self.tick()
        self.aps.add_job(self.tick, "interval", seconds=TICK_SECONDS, id="lease", max_instances=1)
        for job in self.jobs():
            self.aps.add_job(
                self._guarded(job), "interval", minutes=job.minutes, id=job.id,
                max_instances=1, coalesce=True, next_run_time=utcnow() + timedelta(seconds=5),
            )
        self.aps.start()
        log.info("scheduler started (%s); active=%s", self.lease.holder, self.active)

    async def stop(self) -> None:
        self.aps.shutdown(wait=False)
        if self.active:
            await self.lease.release()


async def run_forever() -> None:
    from core.config import get_settings
    from core.worker import setup_broker

    setup_broker(get_settings().broker_url)
    scheduler = Scheduler()
    await scheduler.start()
    try:
        while True:
            await asyncio.sleep(3600)
    finally:
        await scheduler.stop()
