"""Atomic attempt counting: at most ``limit`` attempts per key in a window, even when the
attempts arrive in parallel or at different web processes.

Counting failures after checking a guess lets a burst of parallel guesses all be checked:
each reads the count before any of them has written. Here an attempt is *reserved* before
the guess is checked, by one statement on one row per key (``attempt_counter``), so the
database decides who gets the attempts that are left::

    key = throttle.key_for("employee_login", tenant_slug, email)
    if not await throttle.reserve(key, limit=10, window=timedelta(minutes=15)):
        raise TooMany(...)                  # refused before anything is checked
    if await check_the_guess():
        await throttle.give_back(key)       # a right answer does not count
    # a wrong answer keeps its attempt: it is counted

The window is fixed: it starts at the first attempt of a key and ends ``window`` later;
the next attempt after that starts a new one. Keys are SHA-256 hashes (:func:`key_for`),
so the table holds no address, e-mail or name in clear, and the same key counts whether
or not an account exists. Rows outlive their window by at most :func:`purge`'s age.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from core.db import raw, utcnow


def key_for(scope: str, *parts: str) -> str:
    """The counter's key for ``scope`` (what is limited, e.g. ``"employee_login"``) and the
    identity within it (organization and e-mail, a client address, an employee id...).
    Text parts are compared without case and surrounding spaces."""
    material = "\x00".join([scope, *(str(p).strip().lower() for p in parts)])
    return hashlib.sha256(material.encode()).hexdigest()


def _now() -> int:
    return int(utcnow().timestamp())


async def reserve(key: str, limit: int, window: timedelta) -> bool:
    """Take one attempt of ``key``: True if fewer than ``limit`` were taken in its current
    window (now one more is), False if none is left (nothing changes then). One atomic
    statement: parallel callers never get more than ``limit`` between them."""
    if limit <= 0:
        return False
    now = _now()
    cutoff = now - int(window.total_seconds())
    # A window that ended restarts at 1; an open one counts on while below the limit. When
    # the WHERE of DO UPDATE is false nothing is written and nothing is returned.
    rows = await raw(
        "INSERT INTO attempt_counter (key_hash, attempts, window_started) VALUES ({}, 1, {}) "
        "ON CONFLICT (key_hash) DO UPDATE SET "
        "attempts = CASE WHEN attempt_counter.window_started <= {} THEN 1 "
        "ELSE attempt_counter.attempts + 1 END, "
        "window_started = CASE WHEN attempt_counter.window_started <= {} THEN {} "
        "ELSE attempt_counter.window_started END "
        "WHERE attempt_counter.window_started <= {} OR attempt_counter.attempts < {} "
        "RETURNING attempts",
        key,
        now,
        cutoff,
        cutoff,
        now,
        cutoff,
        limit,
    )
    return bool(rows)


async def give_back(key: str) -> None:
    """Return one reserved attempt (the guess was right, or the request was not a guess)."""
    await raw(
        "UPDATE attempt_counter SET attempts = attempts - 1 WHERE key_hash = {} AND attempts > 0",
        key,
    )


async def taken(key: str, window: timedelta) -> int:
    """How many attempts ``key`` has taken in its current window (0 after it ended)."""
    rows = await raw(
        "SELECT attempts FROM attempt_counter WHERE key_hash = {} AND window_started > {}",
        key,
        _now() - int(window.total_seconds()),
    )
    return int(rows[0]["attempts"]) if rows else 0


async def clear(key: str) -> None:
    """Forget ``key``'s attempts (an administrator lifting a lock, a test)."""
    await raw("DELETE FROM attempt_counter WHERE key_hash = {}", key)


async def purge(older_than: timedelta) -> int:
    """Delete counters whose window started more than ``older_than`` ago (pass at least the
    longest window in use); returns how many."""
    rows = await raw(
        "DELETE FROM attempt_counter WHERE window_started < {} RETURNING id",
        _now() - int(older_than.total_seconds()),
    )
    return len(rows)
