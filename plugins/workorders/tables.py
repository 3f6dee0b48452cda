"""The work-orders module's tables: work orders and their extra-cost lines.

References to customers and contact persons are plain integer ids (0 = none or
anonymized), never foreign keys: the GDPR engine sets them to 0 when that customer or
contact person is anonymized. Money is stored as whole öre (minor units) so sums are exact
on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from piccolo.columns import BigInt, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.records.columns import EndCustomerColumns, RecordColumns


class WorkOrder(RecordColumns, EndCustomerColumns, Table, tablename="work_order"):
    """A work order (Arbetsorder): the record layer's columns and the end customer
    (core.records.columns), and these."""

    # Customer information noted on the order: the e-mail address the work order and its
    # extra costs are sent to, and the customer's reference ("Er referens").
    email = Varchar(length=254, null=True, default=None)
    customer_reference = Varchar(length=200, default="")


class ExtraCost(Table, tablename="work_order_extra_cost"):
    """A cost beyond the agreed work, which the customer approves (by SMS code when 2FA is on)."""

    tenant_id = Integer(index=True)
    work_order_id = Integer(index=True)
    description = Text(default="")
    amount_minor = BigInt(default=0)  # öre
    approved_at = Timestamptz(null=True, default=None)
    # The customer declined it in the portal; approver_* say who. Editing it offers it again.
    declined_at = Timestamptz(null=True, default=None)
    approver_name = Varchar(length=200, default="")
    # Only the masked number is stored (+46 70•••••67): enough to recognise, not to call.
    approver_phone = Varchar(length=40, default="")
    created_by = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


WORKORDER_TABLES: list[type[Table]] = [WorkOrder, ExtraCost]
