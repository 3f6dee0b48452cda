"""PageController.steps: a record page's step buttons declared as data, each a POST route
answered by the page's own _step (dsr's request steps, privacy's incident steps)."""

from __future__ import annotations

from typing import Any

from core.pages import PageController


class _Steps(PageController):
    path = "/things"
    steps = {"notify-authority": "authority", "close": "close"}  # noqa: RUF012 (a test's own page)

    async def _step(self, request: Any, record_id: int, step: str) -> tuple[Any, int, str]:
        return request, record_id, step


class _MoreSteps(_Steps):
    """Inherits its parent's buttons without declaring them again."""


async def test_each_declared_step_is_a_post_route_calling_step() -> None:
    for cls in (_Steps, _MoreSteps):
        authority, close = cls.step_authority, cls.step_close  # type: ignore[attr-defined]
        assert authority.paths == {"/{record_id:int}/notify-authority"}
        assert close.paths == {"/{record_id:int}/close"}
        assert authority.http_methods == {"POST"} and authority.include_in_schema is False
        page = cls.__new__(cls)
        assert await authority.fn(page, "request", 7) == ("request", 7, "authority")
        assert await close.fn(page, "request", 8) == ("request", 8, "close")


def test_a_page_without_steps_has_no_step_routes() -> None:
    class Plain(PageController):
        path = "/plain"

    assert not [name for name in dir(Plain) if name.startswith("step_")]
