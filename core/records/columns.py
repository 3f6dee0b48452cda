"""The columns records' tables share, written once: a plugin's table inherits them (Piccolo
copies a mixin's columns into each table that names it) and adds only its own.

* :class:`Kept`: when a row was made and last changed, and the two marks of retention,
  the soft delete (a clock) and the anonymization (the engine's marker);
* :class:`Closable`: :class:`Kept` and ``closed_at`` (the clock of a record that closes);
* :class:`RecordColumns`: a numbered record (a case, a work order, an order): tenant,
  number, title, description, customer and contact-person references, status, who
  created it, and :class:`Closable`'s clocks;
* :class:`EndCustomerColumns`: the end customer a record is for (a case, a work order);
* :class:`LinkSignedColumns`: a row the customer signs through an e-mailed link.

``class WorkOrder(RecordColumns, EndCustomerColumns, Table, tablename="work_order")`` and
then only the record's own columns. References are plain integer ids (0 = none or
anonymized), never foreign keys: the GDPR engine sets them to 0 when that person is
anonymized. :func:`party_fields` and :func:`end_customer_fields` declare the personal data
of these columns for a record spec, :func:`numbered_spec` the spec of a
:class:`RecordColumns` table.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from core.contracts import Field, RecordSpec


class Kept:
    """Mixin: the times of a row the record layer and retention read."""

    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    deleted_at = Timestamptz(null=True, default=None)
    anonymized_at = Timestamptz(null=True, default=None)


class Closable(Kept):
    """Mixin: :class:`Kept` and when the record was closed."""

    closed_at = Timestamptz(null=True, default=None)


class RecordColumns(Closable):
    """Mixin of a numbered record table's shared columns."""

    tenant_id = Integer(index=True)
    # Unique per tenant (a composite index in the plugin's migration); max+1 when not given.
    number = Integer()
    title = Varchar(length=200)
    description = Text(default="")
    customer_id = Integer(default=0)  # 0 = none / anonymized
    contact_person_id = Integer(default=0)  # 0 = none / anonymized
    status = Varchar(length=16, default="open")  # "open" | "closed"
    created_by = Integer(default=0)  # employee id; 0 once that employee is anonymized


class EndCustomerColumns:
    """Mixin: the end customer, the person the work is for when the customer is, say, a
    landlord (core.records.shapes.EndCustomerIn is its request shape)."""

    end_customer_name = Varchar(length=200, default="")
    end_customer_address = Varchar(length=400, default="")
    end_customer_phone = Varchar(length=32, null=True, default=None)  # E.164
    end_customer_email = Varchar(length=254, null=True, default=None)


class LinkSignedColumns:
    """Mixin: a row the customer signs through an e-mailed link (a quote, a payment plan;
    core.approvals.send_link, row_by_link and approver_values write these): where it was
    sent and when, the link's token (only its SHA-256; the token is only in the e-mail),
    who signed it (the phone masked, as the SMS signature shows it) and when it was declined
    (the portal; approver_* say who). The time it was signed is the row's own column."""

    sent_to_email = Varchar(length=254, default="")
    public_token_hash = Varchar(length=64, null=True, default=None, unique=True)
    approver_name = Varchar(length=200, default="")
    approver_email = Varchar(length=254, default="")
    approver_phone = Varchar(length=40, default="")
    declined_at = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)


def party_fields(rule: str | None) -> tuple[Field, Field]:
    """The personal-data fields of a record's customer and contact-person references
    (``customer_id``, ``contact_person_id``), which ``rule`` zeroes: ``fields=(*party_fields(RULE), ...)``."""
    return (
        Field("customer_id", "customer_ref", "zero", "Kund", "Customer", rule=rule),
        Field("contact_person_id", "contact_ref", "zero", "Kontaktperson", "Contact person", rule=rule),
    )


def end_customer_fields(rule: str | None) -> tuple[Field, ...]:
    """The personal-data fields of :class:`EndCustomerColumns` under ``rule``: the name and
    address become the organization's anonymization word, the phone and e-mail (fixed
    formats, nullable) null."""
    return (
        Field("end_customer_name", "name", "replace", "Slutkund, namn", "End customer, name", rule=rule),
        Field("end_customer_address", "address", "replace", "Slutkund, adress", "End customer, address", rule=rule),
        Field("end_customer_phone", "phone", "null", "Slutkund, telefon", "End customer, phone", rule=rule),
        Field("end_customer_email", "email", "null", "Slutkund, e-post", "End customer, e-mail", rule=rule),
    )


NUMBERED: dict[str, Any] = {
    "number_column": "number", "status_column": "status",
    "customer_column": "customer_id", "contact_column": "contact_person_id",
    "search_columns": ("title",), "filters": ("status", "customer_id"),
    "choices": (("status", ("open", "closed")),),
    "sort": ("number", "title", "created_at", "updated_at", "closed_at"), "default_sort": "-number",
    "not_personal": ((("status",), "a state from a fixed list"),),
}


def numbered_spec(**given: Any) -> RecordSpec:
    """The :class:`RecordSpec` of a :class:`RecordColumns` table, its columns named once
    here: numbered, open or closed, for a customer and contact person, searched by title,
    filtered by status and customer, newest number first, ``status`` not personal. ``given``
    names the rest (name, table, labels, path, fields, rules ...) and overrides these."""
    return RecordSpec(**(NUMBERED | given))
