"""Pending steps: an action that waits for its SMS code, kept server-side.

When a step needs a second factor after a secret was already checked (a portal person's
password, an employee's vault password), the page must not carry the secret through the
code form. The module keeps the step in a table of its own instead and the form carries
only a random *token*; the browser gets a cookie with another random value, the *binder*,
so that only the same browser can finish the step. Only the SHA-256 of each is stored.
A step lives a short time (its ``expires_at``) and may be re-posted a few times (its
``uses``), then it is gone.

A table of pending steps has at least the columns ``token_hash`` and ``binder_hash``
(``Varchar(64)``), ``uses`` (``Integer``), ``created_at`` and ``expires_at``
(``Timestamptz``), beside what the module needs to finish its step. The customer portal
(login, first password, reset) and the vault (showing encrypted values) use it.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from core.db import utcnow
from core.security import new_token, token_hash

MAX_TOKEN_LENGTH = 128
"""A token or binder longer than this is refused without a lookup."""


class StepRefused(Exception):
    """The step cannot be taken: unknown, tampered, of another browser, expired or not the
    caller's (``used_up`` False), or re-posted too often (``used_up`` True). The module
    answers with its own message (400, or 429 when used up)."""

    def __init__(self, used_up: bool = False) -> None:
        super().__init__("used up" if used_up else "not valid")
        self.used_up = used_up


async def start_step(table: Any, binder: str, ttl: timedelta, **values: Any) -> str:
    """Keep a new step with ``values`` (the module's own columns, ``tenant_id`` among them)
    for ``ttl``, bound to the browser holding ``binder``; returns its token."""
    token = new_token()
    now = utcnow()
    await table.insert(
        table(
            token_hash=token_hash(token),
            binder_hash=token_hash(binder),
            uses=0,
            created_at=now,
            expires_at=now + ttl,
            **values,
        )
    )
    return token


async def take_step(
    table: Any,
    token: str | None,
    binder: str | None,
    max_uses: int,
    where: Any = None,
    fits: Callable[[dict[str, Any]], bool] | None = None,
) -> dict[str, Any]:
    """The live step behind ``token``, of the browser holding ``binder``, counting one use.

    ``where`` narrows the lookup (a tenant's rows), ``fits`` checks the row found (the
    caller's person, item or purpose). Raises :class:`StepRefused`; an expired or used-up
    step is deleted then."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not binder or len(binder) > MAX_TOKEN_LENGTH:
        raise StepRefused()
    condition = table.token_hash == token_hash(token)
    row = await table.select().where(condition if where is None else condition & where).first()
    if row is None or not hmac.compare_digest(row["binder_hash"], token_hash(binder)):
        raise StepRefused()
    if fits is not None and not fits(row):
        raise StepRefused()
    if row["expires_at"] <= utcnow():
        await table.delete().where(table.id == row["id"])
        raise StepRefused()
    counted = await table.update({table.uses: table.uses + 1}).where(
        (table.id == row["id"]) & (table.uses < max_uses)
    ).returning(table.id)
    if not counted:
        await table.delete().where(table.id == row["id"])
        raise StepRefused(used_up=True)
    return dict(row)
