"""The cases module's table: cases and service cases in one table, told apart by ``kind``.

References to customers and contact persons are plain integer ids (0 = none or anonymized),
never foreign keys: the GDPR engine sets them to 0 when that customer or contact person is
anonymized (M14, M15), which a foreign key would forbid, and this plugin must not import
the customers plugin.
"""

from __future__ import annotations

from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.tables import TenantTable


class Case(TenantTable, tablename="case_record"):
    """A case (Ärende, kind "case") or a service case (Serviceärende, kind "service")."""

    tenant_id = Integer(index=True)
    # Unique per tenant (composite index in a later migration); max+1 when not given.
    number = Integer()
    kind = Varchar(length=16, default="case")
    title = Varchar(length=200)
    description = Text(default="")
    customer_id = Integer(default=0)  # 0 = none / anonymized
    contact_person_id = Integer(default=0)  # 0 = none / anonymized
    # The end customer: the person the work is for when the customer is, say, a landlord.
    end_customer_name = Varchar(length=200, default="")
    end_customer_address = Varchar(length=400, default="")
    end_customer_phone = Varchar(length=32, null=True, default=None)  # E.164
    end_customer_email = Varchar(length=254, null=True, default=None)
    status = Varchar(length=16, default="open")  # "open" | "closed"
    created_by = Integer(default=0)  # employee id; 0 once that employee is anonymized
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    closed_at = Timestamptz(null=True, default=None)
    deleted_at = Timestamptz(null=True, default=None)
    anonymized_at = Timestamptz(null=True, default=None)


CASE_TABLES: list[type[Table]] = [Case]
