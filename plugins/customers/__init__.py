"""The customer register (Kunder): customers, their contact persons and the contact log.
The customer portal is its own plugin (plugins/portal), which finds these people through
the kinds declared here (``PersonKind`` "customer" and "contact").

Customers, contact persons and the customer log are declared once as records
(:mod:`plugins.customers.records`, with the retention rules M14 customers, M15 contact
persons and M16 customer contact); the core derives their personal data, rules, record
types and search sources and its engine runs the rules. The portal's tables are no
records: their personal data and search sources are still declared by the old hooks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

from core.contracts import PersonKind
from core.plugins import anonymize_by, answer_from, describes, hookimpl, module_info_of, piccolo_app_of, routes_of

NAME = "customers"


describe_module = describes(module_info_of(__name__))


# What the plugin answers lives in its modules, imported at the first call (core.plugins).
register_piccolo_apps = piccolo_app_of(__name__)
register_routes = routes_of(__name__)
# The one declaration of customers, contact persons and the customer log (personal data,
# rules M14-M16, record types and person-search places are derived from it).
declare_records = answer_from(f"{__name__}.records", "RECORDS")
anonymize = anonymize_by(NAME, f"{__name__}.gdpr")


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
