"""Contracts (Avtal): a Gallra module plugin shipped as its own distribution.

It imports nothing but ``core`` and registers through the ``gallra.plugins`` entry point
in its pyproject.toml, exactly as any third-party plugin does. The hooks below are the
whole contract with Gallra; every one of them is documented in Gallra's docs/hooks.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.contracts import (
    ModuleInfo,
    NotPersonal,
    PersonalDataField,
    RecordType,
    RetentionRule,
    SearchSource,
)
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
def declare_personal_data() -> Sequence[PersonalDataField | NotPersonal]:
    from gallra_contracts import gdpr

    return gdpr.personal_data()


@hookimpl
def declare_retention_rules() -> Sequence[RetentionRule]:
    from gallra_contracts import gdpr

    return gdpr.retention_rules()


@hookimpl
def declare_record_types() -> Sequence[RecordType]:
    from gallra_contracts import gdpr

    return gdpr.record_types()


@hookimpl
def declare_search_sources() -> Sequence[SearchSource]:
    from gallra_contracts import gdpr

    return gdpr.search_sources()
