"""A module plugin that new tenants do not get unless they turn it on."""

from __future__ import annotations

from core.contracts import ModuleInfo
from core.plugins import hookimpl
from tests.core.fake_plugins import CALLS

NAME = "beta"


@hookimpl
def describe_module() -> ModuleInfo:
    return ModuleInfo(name=NAME, label_sv="Beta", label_en="Beta", enabled_by_default=False)


@hookimpl
def password_changed(tenant_id: int, person_kind: str, person_id: int) -> None:
    CALLS.append((NAME, "password_changed", dict(tenant_id=tenant_id, person_kind=person_kind, person_id=person_id)))
