"""The columns a numbered record's table shares (a work order, an order): a plugin's table
inherits them, so the record layer's columns (tenant, number, title, customer and contact
references, status, who created it, the clocks of retention, the soft delete and the
anonymization mark) are written once.

``class WorkOrder(RecordColumns, Table, tablename="work_order")`` and then only the
record's own columns. References are plain integer ids (0 = none or anonymized), never
foreign keys: the GDPR engine sets them to 0 when that person is anonymized.
"""

from __future__ import annotations

from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from core.contracts import Field


class RecordColumns:
    """Mixin of a record table's shared columns (Piccolo copies them into each table)."""

    tenant_id = Integer(index=True)
    # Unique per tenant (a composite index in the plugin's migration); max+1 when not given.
    number = Integer()
    title = Varchar(length=200)
    description = Text(default="")
    customer_id = Integer(default=0)  # 0 = none / anonymized
    contact_person_id = Integer(default=0)  # 0 = none / anonymized
    status = Varchar(length=16, default="open")  # "open" | "closed"
    created_by = Integer(default=0)  # employee id; 0 once that employee is anonymized
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    closed_at = Timestamptz(null=True, default=None)
    deleted_at = Timestamptz(null=True, default=None)
    anonymized_at = Timestamptz(null=True, default=None)


def party_fields(rule: str | None) -> tuple[Field, Field]:
    """The personal-data fields of a record's customer and contact-person references
    (``customer_id``, ``contact_person_id``), which ``rule`` zeroes: ``fields=(*party_fields(RULE), ...)``."""
    return (
        Field("customer_id", "customer_ref", "zero", "Kund", "Customer", rule=rule),
        Field("contact_person_id", "contact_ref", "zero", "Kontaktperson", "Contact person", rule=rule),
    )
