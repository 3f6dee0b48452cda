"""Quotes (Offerter), their lines and the log of who opened the public link.

Customer and contact person are stored as the referenced rows' integer ids (0 = none or
anonymized): the quotes plugin never imports the customers plugin; the core zeroes the ids
when a customer or contact is anonymized because gdpr.py declares them as references.
"""

from __future__ import annotations

from piccolo.columns import Date, Integer, Numeric, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.records.columns import Closable, LinkSignedColumns


class Quote(Closable, LinkSignedColumns, Table):
    """A quote: its own columns, the record clocks and the link the customer accepts it
    through (core.records.columns)."""

    tenant_id = Integer(index=True)
    number = Integer()
    title = Varchar(length=200)
    description = Text(default="")
    customer_id = Integer(default=0, index=True)
    contact_person_id = Integer(default=0, index=True)
    status = Varchar(length=12, default="draft", index=True)
    valid_until = Date(null=True, default=None)
    accepted_at = Timestamptz(null=True, default=None)
    voided_at = Timestamptz(null=True, default=None)


class QuoteLine(Table, tablename="quote_line"):
    tenant_id = Integer(index=True)
    quote_id = Integer(index=True)
    position = Integer(default=0)
    description = Varchar(length=500)
    quantity = Numeric(digits=(12, 2))
    unit_price = Numeric(digits=(14, 2))


class QuoteView(Table, tablename="quote_view"):
    """One opening of the public link: when, by the address it was sent to, from which IP."""

    tenant_id = Integer(index=True)
    quote_id = Integer(index=True)
    viewed_at = Timestamptz(default=TimestamptzNow())
    email = Varchar(length=254, default="")
    ip = Varchar(length=64, default="")


TABLES: list[type[Table]] = [Quote, QuoteLine, QuoteView]
