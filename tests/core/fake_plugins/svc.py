"""A service plugin (no module of its own): every tenant's calls reach it."""

from __future__ import annotations

from core.plugins import hookimpl
from tests.core.fake_plugins import CALLS

NAME = "svc"


@hookimpl
def password_changed(tenant_id: int, person_kind: str, person_id: int) -> None:
    CALLS.append((NAME, "password_changed", dict(tenant_id=tenant_id, person_kind=person_kind, person_id=person_id)))
