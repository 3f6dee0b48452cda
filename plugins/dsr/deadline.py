"""The legal deadline of a request, counted as article 12(3) GDPR and Regulation 1182/71
count it: one month after the day of receipt is the same date in the next month, or that
month's last day when it is shorter (31 January -> 28 or 29 February). An extension adds
up to two further months, counted the same way from the day of receipt."""

from __future__ import annotations

import calendar
from datetime import date, datetime
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Europe/Stockholm")
MAX_EXTENSION_MONTHS = 2


def add_months(day: date, months: int) -> date:
    """The same date ``months`` later, moved to the last day of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_on(received_on: date, extension_months: int = 0) -> date:
    """The last day to answer a request received on ``received_on``."""
    return add_months(received_on, 1 + extension_months)


def local_date(moment: datetime) -> date:
    """The Swedish calendar day of ``moment`` (a request at 23:30 UTC on 31 January was
    received on 1 February in Stockholm)."""
    return moment.astimezone(ZONE).date()


def days_left(due: date, today: date) -> int:
    """Whole days from ``today`` to the deadline (0 on the last day, negative after it)."""
    return (due - today).days
