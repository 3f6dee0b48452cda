"""The core's own tables. Every tenant-owned row carries tenant_id (decision 6)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from piccolo.columns import (
    BigInt,
    Boolean,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

if TYPE_CHECKING:

    class IdTable(Table):
        """A table as the type checker sees it: Piccolo adds the serial primary key ``id``
        when the class is made, so no annotation in Piccolo's ``Table`` names it."""

        id: Serial

    class TenantTable(IdTable):
        """A tenant's table (decision 6): ``id`` and the owning ``tenant_id``, for code that
        takes any tenant-owned table. Its subclasses still declare their ``tenant_id``
        column (index, null) themselves."""

        tenant_id: Integer

else:
    # At run time both are Piccolo's Table itself: a subclass of Table is a table to Piccolo
    # (registered, with an id column of its own), and these two add no column, only types.
    IdTable = TenantTable = Table


def _now() -> datetime:
    return datetime.now(UTC)


def UpdatedAt() -> Timestamptz:
    """When the row last changed: set by every Piccolo ``update`` (``auto_update``), read by
    the API's ``updated_since`` (core.listing). Raw SQL updates must set it themselves; the
    anonymization engine's do not, and lists also compare ``anonymized_at``/``deleted_at``."""
    return Timestamptz(default=TimestamptzNow(), auto_update=_now, index=True)


class Tenant(IdTable):
    slug = Varchar(length=63, unique=True)
    name = Varchar(length=200)
    language = Varchar(length=5, default="sv")
    anonymization_word = Varchar(length=40, default="Anonymiserad")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = UpdatedAt()


class TenantModule(TenantTable, tablename="tenant_module"):
    """A tenant's choice for one module; a missing row means the module's default."""

    tenant_id = Integer(index=True)
    module = Varchar(length=63)
    enabled = Boolean(default=True)
    changed_at = Timestamptz(default=TimestamptzNow())


class Employee(TenantTable):
    """A user of the system (an employee of the tenant)."""

    tenant_id = Integer(index=True)
    name = Varchar(length=200)
    email = Varchar(length=254, index=True)
    mobile_phone = Varchar(length=32, null=True, default=None)
    private_phone = Varchar(length=32, null=True, default=None)
    work_phone = Varchar(length=32, null=True, default=None)
    role = Varchar(length=16, default="user")
    password_hash = Varchar(length=255, null=True, default=None)
    notes = Text(default="")
    language = Varchar(length=5, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = UpdatedAt()
    deleted_at = Timestamptz(null=True, default=None)
    anonymized_at = Timestamptz(null=True, default=None)


class EmployeeGroup(TenantTable, tablename="employee_group"):
    tenant_id = Integer(index=True)
    name = Varchar(length=120)
    description = Text(default="")
    # Comma-separated permission keys, e.g. "gdpr".
    permissions = Varchar(length=500, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = UpdatedAt()
    """Also set when the members change."""


class GroupMember(TenantTable, tablename="group_member"):
    tenant_id = Integer(index=True)
    group_id = Integer(index=True)
    employee_id = Integer(index=True)


LOGIN_KINDS = ("employee", "portal")
"""Who logs in: an employee, or a person with a customer-portal account (the customer portal).
Sessions, link tokens and the login throttle are the same machinery for both (core.auth)."""


class Session(TenantTable):
    """A server-side login session; the browser holds only a random token.

    ``kind`` says whose (:data:`LOGIN_KINDS`) and ``subject_id`` which one of that kind (an
    employee's id, a portal account's id). ``employee_id`` is the employee of an employee
    session (0 otherwise): the declared employee reference that erasure and anonymization
    follow, so a portal session is never taken for an employee's."""

    token_hash = Varchar(length=64, unique=True)
    tenant_id = Integer(index=True)
    kind = Varchar(length=16, default="employee")
    subject_id = Integer(default=0, index=True)
    employee_id = Integer(index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    ip = Varchar(length=64, default="")
    user_agent = Varchar(length=200, default="")


class PasswordResetToken(TenantTable, tablename="password_reset_token"):
    """A single-use link (SHA-256 only): a password reset, or a portal invitation where
    the person chooses the first password. ``kind``, ``subject_id`` and ``employee_id`` as
    in :class:`Session`."""

    token_hash = Varchar(length=64, unique=True)
    tenant_id = Integer(index=True)
    kind = Varchar(length=16, default="employee")
    subject_id = Integer(default=0, index=True)
    purpose = Varchar(length=8, default="reset")  # "reset" | "invite"
    employee_id = Integer(index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class AttemptCounter(IdTable, tablename="attempt_counter"):
    """Attempts per key in a fixed window (:mod:`core.throttle`): logins, reset requests,
    anything that limits guessing. One row per key, changed by one atomic statement, so
    parallel requests and several web processes cannot take more than the limit."""

    key_hash = Varchar(length=64, unique=True)  # SHA-256 of the scope and the identity
    attempts = Integer(default=0)
    window_started = BigInt(default=0, index=True)  # Unix seconds of the window's first attempt


class RecordNumber(TenantTable, tablename="record_number"):
    """The last number each numbering of a tenant handed out, on PostgreSQL
    (:func:`core.numbering.take_number`): one row per (tenant, numbering), changed by one
    statement that commits on its own. Unique on (tenant_id, numbering): its migration."""

    tenant_id = Integer(index=True)
    numbering = BigInt()  # the numbering's key (RecordService.number_lock)
    last = Integer(default=0)


class Outbox(IdTable):
    """Every e-mail and SMS the system sends: queued, sent or failed, never lost."""

    tenant_id = Integer(null=True, default=None, index=True)
    channel = Varchar(length=8)
    recipient = Varchar(length=254)
    # Subject and body carry reset links, invitation tokens and one-time codes: secret, so
    # person search refuses them (a message is found by its recipient, core/gdpr/registry.py).
    subject = Varchar(length=200, default="", secret=True)
    body = Text(secret=True)
    sender = Varchar(length=64, null=True, default=None)
    status = Varchar(length=12, default="queued", index=True)
    attempts = Integer(default=0)
    provider = Varchar(length=32, default="")
    provider_id = Varchar(length=128, default="")
    error = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)


class SchedulerLock(IdTable, tablename="scheduler_lock"):
    """A lease: the scheduler holding it acts, any other waits."""

    name = Varchar(length=63, unique=True)
    holder = Varchar(length=128)
    expires_at = Timestamptz()


CORE_TABLES: list[type[Table]] = [
    Tenant,
    TenantModule,
    Employee,
    EmployeeGroup,
    GroupMember,
    Session,
    PasswordResetToken,
    AttemptCounter,
    RecordNumber,
    Outbox,
    SchedulerLock,
]
