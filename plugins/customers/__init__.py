"""The customer register (Kunder): customers, their contact persons and the contact log,
and the customer portal's accounts (:mod:`plugins.customers.portal`).

Customers, contact persons and the customer log are declared once as records
(:mod:`plugins.customers.records`, with the retention rules M14 customers, M15 contact
persons and M16 customer contact); the core derives their personal data, rules, record
types and search sources and its engine runs the rules. The portal's tables are no
records: their personal data and search sources are still declared by the old hooks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

from core.contracts import (
    AnonymizeContext,
    ModuleInfo,
    NotPersonal,
    PersonalDataField,
    PersonKind,
    RecordSpec,
    ScheduledJob,
    SearchSource,
    TwoFactorContext,
)
from core.plugins import hookimpl

# Loading the plugin declares its background tasks (the portal's password-reset mail).
from plugins.customers import portal as _portal  # noqa: F401

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
    from plugins.customers.pages import pages
    from plugins.customers.portal_routes import route_handlers as portal_handlers
    from plugins.customers.routes import route_handlers

    return [*route_handlers(), *portal_handlers(), *pages()]


@hookimpl
def declare_records() -> Sequence[RecordSpec]:
    from plugins.customers.records import RECORDS

    return RECORDS


# The customer portal's accounts, sessions and tokens are no records (no number, no pages
# of their own, no delete): their personal data and search sources stay declared here.
@hookimpl
def declare_personal_data() -> Sequence[PersonalDataField | NotPersonal]:
    from plugins.customers import gdpr, portal

    return [*gdpr.portal_not_personal(), *portal.personal_data()]


@hookimpl
def declare_search_sources() -> Sequence[SearchSource]:
    from plugins.customers import portal

    return portal.search_sources()


@hookimpl
def anonymize(context: AnonymizeContext) -> Awaitable[None] | None:
    if context.plugin != NAME:
        return None
    from plugins.customers import gdpr, portal

    async def both() -> None:
        await gdpr.anonymize(context)
        # Accounts of anonymized people close; their sessions and links go.
        await portal.anonymize(context)

    return both()


@hookimpl
def declare_kinds() -> Sequence[PersonKind]:
    """Customers and contact persons: their names and phones, for two-factor (M5/M6) and
    the pages of other modules."""
    from plugins.customers import people

    return [
        PersonKind("customer", describe=people.describe_customer, standing=people.customer_standing,
                   link=people.customer_page),
        PersonKind("contact", describe=people.describe_contact, standing=people.contact_standing),
    ]


@hookimpl
def look_up_party(tenant_id: int, customer_id: int, contact_person_id: int) -> Awaitable[Any]:
    """Customer and contact person of a record of another module: exist, same tenant, and
    whose contact (core.references.check_party decides)."""
    from plugins.customers import services

    return services.look_up_party(tenant_id, customer_id, contact_person_id)


@hookimpl
def find_customers(tenant_id: int, query: str, limit: int) -> Awaitable[Sequence[Any]] | None:
    """Customers by name or number, for the customer picker of other modules' forms."""
    from plugins.customers import services

    return services.suggest(tenant_id, query, limit)


@hookimpl
def find_contacts(tenant_id: int, customer_id: int, limit: int) -> Awaitable[Sequence[Any]] | None:
    """A customer's contact persons, for the contact picker of other modules' forms."""
    from plugins.customers import services

    return services.contacts_of(tenant_id, customer_id, limit)


@hookimpl
def declare_two_factor_contexts() -> Sequence[TwoFactorContext]:
    from plugins.customers import portal

    return portal.two_factor_contexts()


@hookimpl
def register_jobs() -> Sequence[ScheduledJob]:
    from plugins.customers import portal

    return [
        ScheduledJob(id="customers.portal_purge_expired", func=portal.purge_expired, minutes=15)
    ]
