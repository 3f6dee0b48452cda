"""core/db.py: PostgreSQL connections share asyncpg's look-ups of built-in types, so a new
connection's first statement with an integer array does not ask the server again."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from core import db


@pytest.mark.pg
async def test_a_built_in_type_is_looked_up_once_for_every_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[int, ...]] = []
    real = asyncpg.Connection._introspect_types

    async def counting(self: Any, typeoids: Any, timeout: Any) -> Any:
        asked.append(tuple(sorted(int(o) for o in typeoids)))
        return await real(self, typeoids, timeout)

    monkeypatch.setattr(asyncpg.Connection, "_introspect_types", counting)
    monkeypatch.setattr(db, "_builtin_types", {})
    engine = db.get_engine()
    for _ in range(3):
        connection = await engine.get_new_connection()
        try:
            rows = await connection.fetch("SELECT $1::bigint[] AS ids, $2::varchar[] AS words", [3, 1, 2], ["a"])
        finally:
            await connection.close()
        assert rows[0]["ids"] == [3, 1, 2] and rows[0]["words"] == ["a"]
    assert len(asked) == 1 and all(oid < 16384 for oid in asked[0])
