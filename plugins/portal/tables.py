"""The customer portal's tables: the accounts, the steps waiting for an SMS code, and which
decision a code was sent for. Sessions and link tokens are the core's (core.auth, kind
"portal"). The tables were the customer register's until #18.6; the first migration of this
app takes them over as they are (see plugins/portal/migrations).
"""

from __future__ import annotations

from piccolo.columns import Boolean, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


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
