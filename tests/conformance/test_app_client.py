"""The test kit's HTTP client (core.testing.client.AppClient): Litestar's test client,
serving the app in the test's own event loop."""

from __future__ import annotations

import asyncio
import contextvars

import pytest
from litestar import Litestar, Request, get

from core.testing.client import AppClient

seen: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="nothing")
gate = asyncio.Event()


@get("/wait")
async def wait_for_gate() -> str:
    await asyncio.wait_for(gate.wait(), 5)
    return "opened"


@get("/open")
async def open_gate() -> str:
    gate.set()
    return "open"


@get("/context")
async def context_of_request(request: Request) -> dict[str, str]:
    before = seen.get()
    seen.set("set by the request")
    return {"seen": before, "client": request.client.host if request.client else ""}


@get("/boom")
async def boom() -> str:
    raise RuntimeError("a bug in a handler")


def _app(**kw: object) -> Litestar:
    return Litestar([wait_for_gate, open_gate, context_of_request, boom], **kw)  # type: ignore[arg-type]


async def test_requests_sent_at_once_are_served_at_once() -> None:
    """One request waits for another: served one after the other, they would never end."""
    gate.clear()
    async with AppClient(app=_app()) as client:
        waiting, opening = await asyncio.wait_for(
            asyncio.gather(client.get("/wait"), client.get("/open")), 10
        )
    assert (waiting.text, opening.text) == ("opened", "open")


async def test_context_does_not_cross_between_test_and_request() -> None:
    seen.set("set by the test")
    async with AppClient(app=_app()) as client:
        first = (await client.get("/context")).json()
        second = (await client.get("/context")).json()
    assert first == {"seen": "nothing", "client": "testclient"}
    assert second["seen"] == "nothing"  # nor from one request to the next
    assert seen.get() == "set by the test"


async def test_a_failed_start_up_raises_from_async_with() -> None:
    def fail() -> None:
        raise RuntimeError("start-up refused")

    # Litestar's lifespan runs the hooks in a task group, which wraps what they raise.
    with pytest.RaisesGroup(pytest.RaisesExc(RuntimeError, match="start-up refused"), flatten_subgroups=True):
        async with AppClient(app=_app(on_startup=[fail])):
            pass


async def test_start_up_and_shut_down_run_in_the_tests_loop() -> None:
    loops: list[object] = []

    def note() -> None:
        loops.append(asyncio.get_running_loop())

    async with AppClient(app=_app(on_startup=[note], on_shutdown=[note])):
        assert loops == [asyncio.get_running_loop()]
    assert loops == [asyncio.get_running_loop()] * 2


async def test_a_handler_error_is_a_500_answer() -> None:
    async with AppClient(app=_app()) as client:
        r = await client.get("/boom")
    assert r.status_code == 500
