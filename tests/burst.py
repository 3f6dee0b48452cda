"""A burst of parallel password guesses against a login route (finding #17.6).

The requests really run at the same time: httpx's ASGI transport calls the app in the
test's own event loop (Litestar's test client would run them one by one). The module's
``verify_password`` is wrapped to count every password that is checked and to hold each
check until the whole burst is in flight, so no guess can finish (and be counted the old
way, after the check) before the others have started. The right password is sent once the
wrong ones have taken the attempts the limit allows: it must be refused unchecked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest


@dataclass
class Burst:
    wrong: list[int]  # status codes of the wrong guesses
    right: int  # status code of the right password, sent after them
    checked: int  # passwords actually checked


async def _until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while not condition():
        if loop.time() > end:
            return  # the caller's assertions say what went wrong
        await asyncio.sleep(0.01)


async def guess_burst(
    app: Any,
    monkeypatch: pytest.MonkeyPatch,
    module: Any,
    path: str,
    wrong: dict[str, str],
    right: dict[str, str],
    n_wrong: int,
    limit: int,
) -> Burst:
    from core.db import pooled

    real = module.verify_password
    checked = 0
    gate = asyncio.Event()

    async def held_verify(stored: str | None, password: str) -> bool:
        nonlocal checked
        checked += 1
        await asyncio.wait_for(gate.wait(), 60)
        return bool(await real(stored, password))

    monkeypatch.setattr(module, "verify_password", held_verify)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    done = 0
    async with pooled(), httpx.AsyncClient(
        transport=transport, base_url="http://testserver.local"
    ) as client:

        async def post(body: dict[str, str]) -> int:
            nonlocal done
            try:
                return (await client.post(path, json=body)).status_code
            finally:
                done += 1

        wrong_tasks = [asyncio.create_task(post(wrong)) for _ in range(n_wrong)]
        await _until(lambda: checked >= min(limit, n_wrong) or done == n_wrong)
        right_task = asyncio.create_task(post(right))
        # Every request is either waiting in its password check or answered.
        await _until(lambda: checked + done >= n_wrong + 1)
        gate.set()
        statuses = await asyncio.gather(*wrong_tasks)
        right_status = await right_task
    monkeypatch.setattr(module, "verify_password", real)
    return Burst(wrong=list(statuses), right=right_status, checked=checked)
