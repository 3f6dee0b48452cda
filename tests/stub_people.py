"""A test-only plugin owning customers and contact persons, to anonymize them via the engine.

The module plugins under test never import the customers plugin; they only declare their
customer_ref / contact_ref columns. Anonymizing a person of this stub (rule subject
"customer" or "contact") must set those columns to 0 in their tables.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from piccolo.columns import Integer, Timestamptz, Varchar
from piccolo.table import Table

from core.contracts import PartyFound, PersonalDataField, RetentionRule
from core.db import as_owner
from core.plugins import hookimpl

NAME = "mod4people"
CUSTOMER_RULE = "mod4people.customers"
CONTACT_RULE = "mod4people.contacts"


class StubPerson(Table, tablename="mod4people_person"):
    tenant_id = Integer()
    kind = Varchar(length=16)  # "customer" | "contact"
    name = Varchar(length=200)
    deleted_at = Timestamptz(null=True, default=None)
    anonymized_at = Timestamptz(null=True, default=None)


class StubPeoplePlugin:
    @hookimpl
    def declare_retention_rules(self) -> list[RetentionRule]:
        return [
            RetentionRule(
                key=key,
                label_sv=key,
                label_en=key,
                clock="deleted",
                table=StubPerson,
                clock_columns=("deleted_at",),
                subject=subject,
                where=(("kind", subject),),  # type: ignore[arg-type]
            )
            for key, subject in ((CUSTOMER_RULE, "customer"), (CONTACT_RULE, "contact"))
        ]

    @hookimpl
    def look_up_party(self, tenant_id: int, customer_id: int, contact_person_id: int) -> Any:
        """The stub's people may be named by records (core.references.check_party): a stub
        customer is a customer, and a stub person named as a contact counts as a contact of
        whichever customer the record names (the stub keeps no parent link)."""

        async def answer() -> PartyFound:
            async def exists(person_id: int, kind: str | None) -> bool:
                where = (StubPerson.tenant_id == tenant_id) & (StubPerson.id == person_id)
                if kind:
                    where = where & (StubPerson.kind == kind)
                return bool(person_id) and bool(await StubPerson.exists().where(where))

            return PartyFound(
                customer=await exists(customer_id, "customer"),
                contact_customer_id=customer_id if await exists(contact_person_id, None) else None,
            )

        return answer()

    @hookimpl
    def declare_personal_data(self) -> list[PersonalDataField]:
        return [
            PersonalDataField(StubPerson, "name", "name", "replace", rule=CUSTOMER_RULE),
            PersonalDataField(StubPerson, "name", "name", "replace", rule=CONTACT_RULE),
        ]


async def stub_people() -> AsyncIterator[Any]:
    """Register the stub on the process's host for one test (use as a fixture body)."""
    from core.plugins import get_host

    async with as_owner():  # DDL: the tables' owner
        await StubPerson.create_table(if_not_exists=True)
    host = get_host()
    host.add(StubPeoplePlugin(), name=NAME, distribution="gallra-tests")
    try:
        yield host
    finally:
        host.pm.unregister(name=NAME)
        host.records.pop(NAME, None)


async def add_person(tenant_id: int, kind: str, name: str = "Kalle Anka") -> int:
    rows = await StubPerson.insert(StubPerson(tenant_id=tenant_id, kind=kind, name=name)).returning(
        StubPerson.id
    )
    return int(rows[0]["id"])


async def anonymize_person(tenant_id: int, kind: str, person_id: int) -> int:
    """What deleting a customer (contact person) with rule mode "immediately" does."""
    from core.gdpr.engine import anonymize_records

    rule = CUSTOMER_RULE if kind == "customer" else CONTACT_RULE
    return await anonymize_records(tenant_id, NAME, rule, [person_id], reason="test")
