"""The customer register's tables. Every row carries tenant_id (decision 6).

References between rows are plain integer ids (0 = none or anonymized), never foreign keys:
the GDPR engine sets a reference to 0 when the referenced customer or contact person is
anonymized, and a foreign key would forbid that.

Phones are stored in E.164 as mobile / private / work, the same three columns employees
have, so two-factor SMS can pick mobile, else private, else work (M5) for any kind of person.
"""

from __future__ import annotations

from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Customer(Table):
    """A customer: a company or a private person."""

    tenant_id = Integer(index=True)
    # Unique per tenant (composite index in a later migration); max+1 when not given.
    number = Integer()
    kind = Varchar(length=16, default="company")  # "company" | "private"
    name = Varchar(length=200)
    # Companies: NNNNNN-NNNN. Private persons: YYYYMMDD-XXXX. Null when unknown.
    org_number = Varchar(length=11, null=True, default=None)
    national_id = Varchar(length=13, null=True, default=None)
    email = Varchar(length=254, null=True, default=None)
    mobile_phone = Varchar(length=32, null=True, default=None)
    private_phone = Varchar(length=32, null=True, default=None)
    work_phone = Varchar(length=32, null=True, default=None)
    postal_street = Varchar(length=200, default="")
    postal_postcode = Varchar(length=20, default="")
    postal_city = Varchar(length=100, default="")
    visiting_street = Varchar(length=200, default="")
    visiting_postcode = Varchar(length=20, default="")
    visiting_city = Varchar(length=100, default="")
    notes = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    deleted_at = Timestamptz(null=True, default=None)
    anonymized_at = Timestamptz(null=True, default=None)


class ContactPerson(Table, tablename="contact_person"):
    """A person at a customer (usually a company) whom the organization deals with."""

    tenant_id = Integer(index=True)
    # The parent customer's id. A parent link, not a reference the engine clears: see gdpr.py.
    customer_id = Integer(index=True)
    name = Varchar(length=200)
    title = Varchar(length=200, default="")
    email = Varchar(length=254, null=True, default=None)
    mobile_phone = Varchar(length=32, null=True, default=None)
    private_phone = Varchar(length=32, null=True, default=None)
    work_phone = Varchar(length=32, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    deleted_at = Timestamptz(null=True, default=None)
    anonymized_at = Timestamptz(null=True, default=None)


class CustomerContact(Table, tablename="customer_contact"):
    """One entry of the customer-contact log (Kundkontakt): who was contacted when, and why."""

    tenant_id = Integer(index=True)
    # When the contact took place; the clock of the "customer_contacts" rule (M16).
    date = Timestamptz(default=TimestamptzNow(), index=True)
    customer_id = Integer(index=True)  # 0 once anonymized
    contact_person_id = Integer(default=0, index=True)  # 0 = none / anonymized
    comment = Text(default="")
    created_by = Integer(default=0)  # employee id; 0 once that employee is anonymized
    created_at = Timestamptz(default=TimestamptzNow())
    anonymized_at = Timestamptz(null=True, default=None)


CUSTOMER_TABLES: list[type[Table]] = [Customer, ContactPerson, CustomerContact]
