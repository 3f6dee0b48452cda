"""Customers and contact persons as people other modules find by kind (``PersonKind``
"customer" and "contact" in ``declare_kinds``): their names and phones for two-factor, and
whether they may hold a customer-portal account (plugins/portal), without those modules
reading the customer register's tables."""

from __future__ import annotations

from typing import Any

from core.contracts import PersonContact, PersonStanding
from plugins.customers.tables import ContactPerson, Customer

CUSTOMER_HINT_SV = "Kundkortet – redigera kunden"
CUSTOMER_HINT_EN = "The customer card – edit the customer"
CONTACT_HINT_SV = "Kundkortet – redigera kontaktpersonen"
CONTACT_HINT_EN = "The customer card – edit the contact person"
COMPANY_HINT_SV = (
    "Kundkortet – lägg till en kontaktperson (ett företag har inget eget telefonnummer "
    "för SMS-koder)"
)
COMPANY_HINT_EN = (
    "The customer card – add a contact person (a company has no personal phone number "
    "for SMS codes)"
)


def _alive(row: dict | None) -> bool:
    return row is not None and row["deleted_at"] is None and row["anonymized_at"] is None


async def describe_customer(tenant_id: int, person_id: int) -> PersonContact | None:
    """The declared ``PersonKind("customer")``: see :func:`describe`."""
    return await describe(tenant_id, "customer", person_id)


def customer_page(customer_id: int) -> str:
    """The declared ``PersonKind("customer").link``: the customer's page."""
    return f"/customers/{customer_id}"


async def describe_contact(tenant_id: int, person_id: int) -> PersonContact | None:
    """The declared ``PersonKind("contact")``: see :func:`describe`."""
    return await describe(tenant_id, "contact", person_id)


async def describe(tenant_id: int, person_kind: str, person_id: int) -> PersonContact | None:
    """Name and phones of a customer or contact person of the tenant (``describe_person``).

    A company customer is answered without phones and with the hint to add a contact
    person: its switchboard number is nobody's second factor. Deleted and anonymized
    people are unknown (None).
    """
    table: Any
    if person_kind == "customer":
        table, hint_sv, hint_en = Customer, CUSTOMER_HINT_SV, CUSTOMER_HINT_EN
    elif person_kind == "contact":
        table, hint_sv, hint_en = ContactPerson, CONTACT_HINT_SV, CONTACT_HINT_EN
    else:
        return None
    columns = [table.name, table.mobile_phone, table.private_phone, table.work_phone, table.deleted_at,
               table.anonymized_at]
    if table is Customer:
        columns.append(Customer.kind)
    row = await table.select(*columns).where((table.tenant_id == tenant_id) & (table.id == person_id)).first()
    if not _alive(row):
        return None
    if table is Customer and row["kind"] != "private":
        return PersonContact(name=row["name"], fix_hint_sv=COMPANY_HINT_SV, fix_hint_en=COMPANY_HINT_EN)
    return PersonContact(
        name=row["name"],
        mobile_phone=row["mobile_phone"],
        private_phone=row["private_phone"],
        work_phone=row["work_phone"],
        fix_hint_sv=hint_sv,
        fix_hint_en=hint_en,
    )


async def _customer_alive(tenant_id: int, customer_id: int) -> bool:
    row = (
        await Customer.select(Customer.deleted_at, Customer.anonymized_at)
        .where((Customer.tenant_id == tenant_id) & (Customer.id == customer_id))
        .first()
    )
    return _alive(row)


async def customer_standing(tenant_id: int, person_id: int) -> PersonStanding | None:
    """The declared ``PersonKind("customer").standing``: a private customer, alive, may hold
    a portal account; a company may not (its people are its contact persons)."""
    row = (
        await Customer.select(Customer.name, Customer.email, Customer.kind, Customer.deleted_at,
                              Customer.anonymized_at)
        .where((Customer.tenant_id == tenant_id) & (Customer.id == person_id))
        .first()
    )
    if row is None:
        return None
    refusal = "gone" if not _alive(row) else "company" if row["kind"] != "private" else None
    return PersonStanding(name=row["name"], customer_id=person_id, email=row["email"], refusal=refusal)


async def contact_standing(tenant_id: int, person_id: int) -> PersonStanding | None:
    """The declared ``PersonKind("contact").standing``: a contact person, alive, of a
    customer that is alive may hold a portal account."""
    row = (
        await ContactPerson.select(ContactPerson.name, ContactPerson.email, ContactPerson.customer_id,
                                   ContactPerson.deleted_at, ContactPerson.anonymized_at)
        .where((ContactPerson.tenant_id == tenant_id) & (ContactPerson.id == person_id))
        .first()
    )
    if row is None:
        return None
    customer_id = int(row["customer_id"])
    refusal = None
    if not _alive(row):
        refusal = "gone"
    elif not await _customer_alive(tenant_id, customer_id):
        refusal = "customer_gone"
    return PersonStanding(name=row["name"], customer_id=customer_id, contact_id=person_id,
                          email=row["email"], refusal=refusal)
