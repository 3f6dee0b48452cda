"""The scheduler lease (one acting scheduler) and jobs registered by plugins."""

from __future__ import annotations

import uuid
from datetime import timedelta

import time_machine

from core.scheduler import Lease, Scheduler
from core.tables import SchedulerLock
from tests.core.fake_plugins import alpha, heard


def lease_name() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


async def test_only_one_lease_holder_until_it_expires():
    name = lease_name()
    a = Lease(holder="a", name=name, seconds=90)
    b = Lease(holder="b", name=name, seconds=90)
    assert await a.acquire() is True
    assert await b.acquire() is False
    assert await a.acquire() is True  # renewal by the holder
    assert (await SchedulerLock.select().where(SchedulerLock.name == name))[0]["holder"] == "a"

    # The holder keeps renewing: after more than one lease period it still holds it.
    for step in (60, 120, 180):
        with time_machine.travel(timedelta(seconds=step), tick=True):
            assert await b.acquire() is False
            assert await a.acquire() is True

    # The holder dies (stops renewing): once its lease ran out, the other takes over.
    with time_machine.travel(timedelta(seconds=180 + 89), tick=False):
        assert await b.acquire() is False
    with time_machine.travel(timedelta(seconds=180 + 91), tick=True):
        assert await b.acquire() is True
        assert await a.acquire() is False
        assert await b.acquire() is True
    assert await SchedulerLock.count().where(SchedulerLock.name == name) == 1


async def test_release_lets_another_take_over_at_once():
    name = lease_name()
    a, b = Lease(holder="a", name=name), Lease(holder="b", name=name)
    assert await a.acquire()
    await b.release()  # not the holder: changes nothing
    assert not await b.acquire()
    await a.release()
    assert await b.acquire()
    assert not await a.acquire()


async def test_two_schedulers_only_the_lease_holder_runs_jobs(make_host):
    make_host(alpha)
    name = lease_name()
    first, second = Scheduler(Lease(name=name)), Scheduler(Lease(name=name))
    await first.tick()
    await second.tick()
    assert (first.active, second.active) == (True, False)
    [job] = [j for j in first.jobs() if j.id == "alpha.job"]
    await second._guarded(job)()
    assert heard("alpha", "job") == []
    await first._guarded(job)()
    assert len(heard("alpha", "job")) == 1


async def test_a_failing_job_does_not_stop_the_scheduler(make_host):
    make_host(alpha)
    scheduler = Scheduler(Lease(name=lease_name()))
    await scheduler.tick()

    class Boom:
        id = "boom"

        @staticmethod
        async def func() -> None:
            raise RuntimeError("job failed")

    await scheduler._guarded(Boom)()  # logged, not raised
    assert scheduler.active


async def test_hook_register_jobs(make_host):
    host = make_host(alpha)
    scheduler = Scheduler(Lease(name=lease_name()))
    jobs = {j.id: j for j in scheduler.jobs()}
    assert jobs["alpha.job"].minutes == 7 and jobs["alpha.job"].func is alpha.alpha_job
    assert "core.redeliver_outbox" in jobs  # the core's own jobs come through the same hook
    assert host.collect("register_jobs") == list(jobs.values())
    await scheduler.start()
    try:
        aps_job = scheduler.aps.get_job("alpha.job")
        assert aps_job is not None
        assert aps_job.trigger.interval == timedelta(minutes=7)
        assert scheduler.aps.get_job("lease") is not None
        assert scheduler.active
        await aps_job.func()
        assert len(heard("alpha", "job")) == 1
    finally:
        await scheduler.stop()
    # Stopping gives the lease back.
    assert not await SchedulerLock.exists().where(SchedulerLock.name == scheduler.lease.name)
