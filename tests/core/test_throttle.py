"""core.throttle: attempts reserved atomically per key, in a fixed window (#17.6)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import time_machine

from core import throttle

WINDOW = timedelta(minutes=15)


async def test_reserve_up_to_the_limit_give_back_and_a_new_window():
    key = throttle.key_for("test", uuid.uuid4().hex)
    assert [await throttle.reserve(key, 3, WINDOW) for _ in range(4)] == [True] * 3 + [False]
    assert await throttle.taken(key, WINDOW) == 3
    await throttle.give_back(key)
    assert await throttle.reserve(key, 3, WINDOW)
    assert not await throttle.reserve(key, 3, WINDOW)
    with time_machine.travel(WINDOW + timedelta(seconds=1), tick=True):
        assert await throttle.taken(key, WINDOW) == 0
        assert await throttle.reserve(key, 3, WINDOW)
        assert await throttle.taken(key, WINDOW) == 1


async def test_parallel_reservations_never_exceed_the_limit():
    from core.db import pooled

    key = throttle.key_for("test", uuid.uuid4().hex)
    async with pooled():
        results = await asyncio.gather(*[throttle.reserve(key, 5, WINDOW) for _ in range(40)])
    assert results.count(True) == 5


async def test_keys_ignore_case_and_spaces_and_keep_scopes_apart():
    assert throttle.key_for("login", "Acme", " Per@Example.org") == throttle.key_for(
        "login", "acme", "per@example.org"
    )
    assert throttle.key_for("login", "acme", "per") != throttle.key_for("reset", "acme", "per")


async def test_purge_forgets_old_windows_only():
    old = throttle.key_for("test", uuid.uuid4().hex)
    new = throttle.key_for("test", uuid.uuid4().hex)
    with time_machine.travel(-timedelta(days=2), tick=True):
        await throttle.reserve(old, 3, WINDOW)
    await throttle.reserve(new, 3, WINDOW)
    assert await throttle.purge(timedelta(days=1)) >= 1
    assert not await throttle.taken(old, timedelta(days=3))
    assert await throttle.taken(new, WINDOW) == 1
