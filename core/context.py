"""Who is acting: the person behind the current request, CLI command or job.

Like the tenant scope (:mod:`core.db`), the actor is carried by the code's context rather
than passed through every call, so a service can write the event log itself (M23) and the
same action logs the same event whether it came from the API, a page, the CLI or a worker.

* An HTTP request opens a mutable holder (:func:`request_context`, the app's middleware);
  authentication fills it (:func:`bind_actor`), also from a dependency resolved in a child
  task, because the holder is shared, not the variable re-set.
* The CLI and jobs use :func:`acting_as` (``None``: the system itself).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Actor:
    """What the event log keeps about who did something (cleared after 30 days)."""

    tenant_id: int | None = None
    employee_id: int | None = None
    name: str | None = None
    email: str | None = None
    ip: str | None = None
    # the logged-in employee (core.auth.SessionUser) when there is one, for access rules
    user: Any = None


@dataclass
class _Holder:
    actor: Actor | None = None


_holder: contextvars.ContextVar[_Holder | None] = contextvars.ContextVar("gallra_actor", default=None)


def current_actor() -> Actor | None:
    """The actor of this request or job; None for the system (sweeps, deliveries)."""
    holder = _holder.get()
    return None if holder is None else holder.actor


def actor_of(user: Any, ip: str | None = None) -> Actor:
    """An actor from a logged-in employee (anything with employee_id, name, email)."""
    return Actor(
        tenant_id=getattr(user, "tenant_id", None),
        employee_id=getattr(user, "employee_id", None),
        name=getattr(user, "name", None) or None,
        email=getattr(user, "email", None) or None,
        ip=ip or None,
        user=user,
    )


def bind_actor(actor: Actor | None) -> None:
    """From now on this request acts as ``actor`` (outside a request: does nothing)."""
    holder = _holder.get()
    if holder is not None:
        holder.actor = actor


@contextmanager
def request_context() -> Iterator[None]:
    """A request's actor holder, empty until authentication binds the person."""
    token = _holder.set(_Holder())
    try:
        yield
    finally:
        _holder.reset(token)


@contextmanager
def acting_as(actor: Actor | None) -> Iterator[None]:
    """Run a block (a CLI command, a job, a test) as ``actor``."""
    token = _holder.set(_Holder(actor))
    try:
        yield
    finally:
        _holder.reset(token)
