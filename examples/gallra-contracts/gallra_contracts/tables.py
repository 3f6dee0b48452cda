"""The contracts module's table.

References to customers, contact persons and employees are plain integer ids (0 = none or
anonymized), never foreign keys: the core sets them to 0 when that person is anonymized,
which a foreign key would forbid, and this plugin must not import the plugins that own
those people (it only declares the columns as references, in gdpr.py).
"""

from __future__ import annotations

from piccolo.columns import Date, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.tables import TenantTable


class Contract(TenantTable, tablename="contract"):
    """A contract (Avtal) with a customer, signed by one of the customer's contact persons."""

    tenant_id = Integer(index=True)
    # Unique per tenant (composite index in the second migration); max+1 when not given.
    number = Integer()
    title = Varchar(length=200)
    customer_id = Integer(default=0)  # 0 = none / anonymized
    contact_person_id = Integer(default=0)  # 0 = none / anonymized
    # Who signed for the customer, as written on the contract.
    signer_name = Varchar(length=200, default="")
    signer_email = Varchar(length=254, null=True, default=None)
    signed_on = Date(null=True, default=None)
    terms = Text(default="")
    status = Varchar(length=16, default="active")  # "active" | "ended"
    created_by = Integer(default=0)  # employee id; 0 once that employee is anonymized
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    ended_at = Timestamptz(null=True, default=None)
    deleted_at = Timestamptz(null=True, default=None)
    anonymized_at = Timestamptz(null=True, default=None)


CONTRACT_TABLES: list[type[Table]] = [Contract]
