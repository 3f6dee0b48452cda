"""The orders module's tables: orders (the invoicing basis), article lines, comment rows.

Article lines and amounts are bookkeeping and outlive anonymization (M22); the links to
the customer, the comment rows and the invoice comment do not. References are plain integer
ids (0 = none or anonymized). Money is whole öre and quantities are thousandths, so sums
are exact on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from piccolo.columns import BigInt, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.records.columns import RecordColumns


class Order(RecordColumns, Table, tablename="sales_order"):
    """An order (Order): what is to be invoiced to a customer; the record layer's columns
    (core.records.columns) and these."""

    # The customer's reference ("Er referens"): a person at the customer, a link to it.
    customer_reference = Varchar(length=200, default="")
    # Printed on the invoice.
    invoice_comment = Text(default="")
    invoiced_at = Timestamptz(null=True, default=None)


class OrderLine(Table, tablename="sales_order_line"):
    """An article line of the invoicing basis. Kept by anonymization (bookkeeping)."""

    tenant_id = Integer(index=True)
    order_id = Integer(index=True)
    position = Integer(default=0)
    description = Varchar(length=500, default="")
    quantity_milli = BigInt(default=1000)  # thousandths
    unit_price_minor = BigInt(default=0)  # öre
    created_at = Timestamptz(default=TimestamptzNow())


class OrderComment(Table, tablename="sales_order_comment"):
    """A comment row of an order. Every row is deleted when the order is anonymized (M22)."""

    tenant_id = Integer(index=True)
    order_id = Integer(index=True)
    text = Text(default="")
    created_by = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


ORDER_TABLES: list[type[Table]] = [Order, OrderLine, OrderComment]
