"""Request and response shapes of /api/dsr (the public contract of the module)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from core.records.shapes import Email, RefId

Kind = Literal["access", "portability", "correction", "erasure", "restriction", "objection"]
Name = Annotated[str, msgspec.Meta(max_length=200)]
Phone = Annotated[str, msgspec.Meta(max_length=32)]
Text = Annotated[str, msgspec.Meta(max_length=10_000)]
Reason = Annotated[str, msgspec.Meta(max_length=2_000)]
Months = Annotated[int, msgspec.Meta(ge=1, le=2)]


class RequestIn(msgspec.Struct, forbid_unknown_fields=True):
    """A request the organization received (by letter, e-mail, phone) and records itself.
    ``received_on``: the day it arrived (default today); the deadline counts from it."""

    kind: Kind
    requester_name: Name = ""
    requester_email: Email | None = None
    requester_phone: Phone | None = None
    details: Text = ""
    assignee_id: RefId = 0
    received_on: date | None = None
    language: Literal["sv", "en"] = "sv"


class RequestPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Fields left out (or null) stay as they are; "" clears a text. Only an open request
    changes."""

    requester_name: Name | None = None
    requester_email: Email | None = None
    requester_phone: Phone | None = None
    details: Text | None = None
    assignee_id: RefId | None = None
    status: Literal["verified", "in_progress"] | None = None


class ExtendIn(msgspec.Struct, forbid_unknown_fields=True):
    """Extend the deadline by one or two further months (at most two in all); the reason is
    told to the person."""

    months: Months
    reason: Reason


class AnswerIn(msgspec.Struct, forbid_unknown_fields=True):
    """Answer the request: ``text`` says what was done (a correction, a restriction...)."""

    text: Text = ""


class RefuseIn(msgspec.Struct, forbid_unknown_fields=True):
    """Refuse the request (article 12(5), 12(2)): the reason is told to the person, with
    their right to complain to IMY."""

    reason: Reason


class Deadline(msgspec.Struct):
    due_on: date
    days_left: int
    overdue: bool
    extension_months: int


class RequestOut(msgspec.Struct):
    id: int
    number: int
    kind: str
    article: int
    status: str
    channel: str
    requester_name: str
    requester_email: str | None
    requester_phone: str | None
    details: str
    language: str
    assignee_id: int
    created_by: int
    received_on: date
    deadline: Deadline
    extension_reason: str
    extended_at: datetime | None
    verified_at: datetime | None
    answer: str
    answered_at: datetime | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    deleted_at: datetime | None
    anonymized_at: datetime | None
