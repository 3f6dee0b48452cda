"""Contracts (Avtal): a Gallra module plugin shipped as its own distribution.

It imports nothing but ``core`` and registers through the ``gallra.plugins`` entry point
in its pyproject.toml, exactly as any third-party plugin does. The hooks below are the
whole contract with Gallra; every one of them is documented in Gallra's docs/hooks.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.contracts import ModuleInfo, RecordSpec
from core.plugins import hookimpl

NAME = "contracts"


@hookimpl
def describe_module() -> ModuleInfo:
    return ModuleInfo(
        name=NAME,
        label_sv="Avtal",
        label_en="Contracts",
        description_sv="Avtal med kund, kontaktperson, undertecknat datum och villkor.",
        description_en="Contracts with customer, contact person, signing date and terms.",
        area="workcloud",
    )


@hookimpl
def register_piccolo_apps() -> Sequence[str]:
    return ["gallra_contracts.piccolo_app"]


@hookimpl
def register_routes() -> Sequence[Any]:
    from gallra_contracts.routes import route_handlers

    return route_handlers()


@hookimpl
def declare_records() -> Sequence[RecordSpec]:
    from gallra_contracts.records import CONTRACT

    return [CONTRACT]
