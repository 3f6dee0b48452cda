"""The customer register (Kunder): customers, their contact persons and the contact log.

Retention rules M14 (customers), M15 (contact persons) and M16 (customer contact) are
declared in :mod:`plugins.customers.gdpr`; the core's engine runs them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

from core.contracts import (
    AnonymizeContext,
    ModuleInfo,
    PersonalDataField,
    RecordType,
    RetentionRule,
    SearchSource,
)
from core.plugins import hookimpl

NAME = "customers"


@hookimpl
def describe_module() -> ModuleInfo:
    return ModuleInfo(
        name=NAME,
        label_sv="Kunder",
        label_en="Customers",
        description_sv="Kundregister med kontaktpersoner och kundkontakter.",
        description_en="Customer register with contact persons and customer contacts.",
        area="workcloud",
    )


@hookimpl
def register_piccolo_apps() -> Sequence[str]:
    return ["plugins.customers.piccolo_app"]


@hookimpl
def register_routes() -> Sequence[Any]:
    from plugins.customers.routes import route_handlers

    return route_handlers()


@hookimpl
def declare_personal_data() -> Sequence[PersonalDataField]:
    from plugins.customers import gdpr

    return gdpr.personal_data()


@hookimpl
def declare_retention_rules() -> Sequence[RetentionRule]:
    from plugins.customers import gdpr

    return gdpr.retention_rules()


@hookimpl
def declare_record_types() -> Sequence[RecordType]:
    from plugins.customers import gdpr

    return gdpr.record_types()


@hookimpl
def declare_search_sources() -> Sequence[SearchSource]:
    from plugins.customers import gdpr

    return gdpr.search_sources()


@hookimpl
def anonymize(context: AnonymizeContext) -> Awaitable[None] | None:
    if context.plugin != NAME:
        return None
    from plugins.customers import gdpr

    return gdpr.anonymize(context)
