"""The activity table: comments, notes, work reports and conversation messages of any record."""

from __future__ import annotations

from piccolo.columns import BigInt, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.tables import TenantTable


class Activity(TenantTable):
    """One entry attached to (plugin, record_type, record_id) of a tenant.

    ``author_id`` is the employee who wrote it (None for a customer in the portal or the
    system); ``author_name`` is kept so an entry still reads well after the author left,
    and is anonymized with the employee (rule core.employees) through ``author_id``.
    """

    tenant_id = Integer()
    plugin = Varchar(length=63)
    record_type = Varchar(length=63)
    record_id = BigInt()
    kind = Varchar(length=16)
    body = Text(default="")
    author_id = Integer(null=True, default=None)
    author_name = Varchar(length=200, default="")
    created_at = Timestamptz(default=TimestamptzNow())


ACTIVITY_TABLES: list[type[Table]] = [Activity]
