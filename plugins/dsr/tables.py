"""The data-subject requests module's tables.

A request names the person who asked by what they gave (name, e-mail, phone): the least
that proves who asked for what. The assignee and the employee who recorded the request are
plain integer ids (0 = none, or that employee anonymized), never foreign keys.
"""

from __future__ import annotations

from piccolo.columns import Date, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.tables import TenantTable


class DsrRequest(TenantTable, tablename="dsr_request"):
    """One request of a person under articles 15-21 and its legal deadline (article 12(3))."""

    tenant_id = Integer(index=True)
    number = Integer()
    kind = Varchar(length=16)  # access | portability | correction | erasure | restriction | objection
    status = Varchar(length=16, default="received", index=True)
    # staff (recorded by an employee) | public (the page) | portal (a logged-in portal person)
    channel = Varchar(length=8, default="staff")
    details = Text(default="")  # what the person wrote
    requester_name = Varchar(length=200, default="")
    requester_email = Varchar(length=254, null=True, default=None)
    requester_phone = Varchar(length=32, null=True, default=None)
    language = Varchar(length=2, default="sv")  # the language the person is answered in
    # The portal person who asked while logged in (channel "portal"): their customer, and the
    # contact person (0 for a private customer). 0 for other requests, and once that customer
    # or contact person is anonymized (declared references).
    customer_id = Integer(default=0)
    contact_person_id = Integer(default=0)
    assignee_id = Integer(default=0, index=True)
    created_by = Integer(default=0)
    received_on = Date()
    due_on = Date()
    extension_months = Integer(default=0)  # 0, 1 or 2
    extension_reason = Text(default="")
    extended_at = Timestamptz(null=True, default=None)
    verified_at = Timestamptz(null=True, default=None)
    answer = Text(default="")  # what was done (correction, restriction) or why refused
    answered_at = Timestamptz(null=True, default=None)
    export_id = Integer(default=0)  # the access export (core.gdpr.subjects) delivered to the person
    reminded_week_at = Timestamptz(null=True, default=None)
    reminded_day_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    closed_at = Timestamptz(null=True, default=None)  # answered or refused: the retention clock
    deleted_at = Timestamptz(null=True, default=None)
    anonymized_at = Timestamptz(null=True, default=None)


class DsrPending(TenantTable, tablename="dsr_pending"):
    """A step the person has not confirmed yet: a request asked on the public page waiting
    for the link or code (``purpose`` "ask"), or an answer waiting for the person to verify
    again before the download (``purpose`` "download", ``request_id`` set). Only the hashes
    of the link's token and of the code are stored; a row is deleted once used, and at the
    latest a day after it expired."""

    tenant_id = Integer(index=True)
    purpose = Varchar(length=8, default="ask")
    request_id = Integer(default=0)
    kind = Varchar(length=16, default="")
    details = Text(default="")
    email = Varchar(length=254, null=True, default=None)
    phone = Varchar(length=32, null=True, default=None)
    language = Varchar(length=2, default="sv")
    token_hash = Varchar(length=64, unique=True)
    code_hash = Varchar(length=64, default="")
    confirmed_at = Timestamptz(null=True, default=None)  # a download's code was entered
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()


TABLES: list[type[Table]] = [DsrRequest, DsrPending]
