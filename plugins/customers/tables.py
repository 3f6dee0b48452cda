"""The customer register's tables. Every row carries tenant_id (decision 6).

References between rows are plain integer ids (0 = none or anonymized), never foreign keys:
the GDPR engine sets a reference to 0 when the referenced customer or contact person is
anonymized, and a foreign key would forbid that.

Phones are stored in E.164 as mobile / private / work, the same three columns employees
have, so two-factor SMS can pick mobile, else private, else work (M5) for any kind of person.
"""

from __future__ import annotations

from piccolo.columns import Boolean, Integer, Text, Timestamptz, Varchar
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


class PortalAccount(Table, tablename="portal_account"):
    """A customer-portal login of a private customer or a contact person.

    The person is ``person_kind`` ("customer" | "contact") and ``person_id``. Two parent
    links let the GDPR engine find the account without a person_kind filter (its child
    UPDATE is ``WHERE <parent_column> IN ids``): ``customer_id`` holds the customer for
    both kinds (the contact's customer for a contact's account), so anonymizing a
    customer (M14) reaches its own account and its contact persons' accounts;
    ``contact_id`` holds the contact person for contact accounts and 0 otherwise, so
    anonymizing a contact person (M15) reaches only that contact's account, never a
    customer's account that happens to have the same number. Neither is declared as a
    reference: they are parent links, kept after anonymization (see portal.anonymize).
    """

    tenant_id = Integer(index=True)
    person_kind = Varchar(length=16)
    person_id = Integer()
    customer_id = Integer(index=True)
    contact_id = Integer(default=0, index=True)
    # The login name, lower-case; unique per tenant among accounts that are not disabled
    # (partial index in a later migration). Null once anonymized.
    email = Varchar(length=254, null=True, default=None)
    # Argon2id (core.auth.hash_password); null until the first password is chosen.
    password_hash = Varchar(length=255, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    invited_at = Timestamptz(null=True, default=None)
    activated_at = Timestamptz(null=True, default=None)
    disabled_at = Timestamptz(null=True, default=None)
    anonymized_at = Timestamptz(null=True, default=None)


class PortalPending(Table, tablename="portal_pending"):
    """A step of the portal's pages waiting for its SMS code (login, first password,
    reset), kept here so the browser's code form carries only a random token, never the
    password. ``token_hash`` is the SHA-256 of that token, ``binder_hash`` of a cookie set
    with it (the same browser must finish the step). For the first password and a reset,
    ``password_hash`` holds the new password's Argon2id hash until the code is verified.
    Ten minutes, a few uses, then gone."""

    token_hash = Varchar(length=64, unique=True)
    binder_hash = Varchar(length=64)
    tenant_id = Integer(index=True)
    account_id = Integer(index=True)
    purpose = Varchar(length=8)  # "login" | "activate" | "reset"
    link_token_id = Integer(default=0)
    password_hash = Varchar(length=255, null=True, default=None)
    uses = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(index=True)


class PortalApprovalStep(Table, tablename="portal_approval_step"):
    """Which decision an SMS challenge of the portal was sent for: the verified code then
    approves (or declines) that item only, not another one of the same module. Only the
    SHA-256 of the challenge id is kept; gone with the challenge's time."""

    tenant_id = Integer(index=True)
    account_id = Integer(index=True)
    challenge_hash = Varchar(length=64, index=True)
    kind = Varchar(length=32)
    item_id = Integer()
    approve = Boolean(default=True)
    expires_at = Timestamptz(index=True)


PORTAL_TABLES: list[type[Table]] = [
    PortalAccount,
    PortalPending,
    PortalApprovalStep,
]

CUSTOMER_TABLES: list[type[Table]] = [Customer, ContactPerson, CustomerContact, *PORTAL_TABLES]
