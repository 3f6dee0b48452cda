"""Tables of the GDPR engine: each tenant's retention choices and the audit of every run.

They belong to the core's Piccolo app (core/piccolo_app.py lists them), so their
migrations live in core/migrations.
"""

from __future__ import annotations

from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class RetentionSetting(Table, tablename="gdpr_retention_setting"):
    """A tenant's choice for one retention rule; a missing row means the rule's default.

    Unique on (tenant_id, rule_key) (see the index migration). The module settings
    endpoints and /api/gdpr/retention read and write these same rows, so both agree.
    """

    tenant_id = Integer(index=True)
    rule_key = Varchar(length=120)
    mode = Varchar(length=16)
    days = Integer()
    changed_at = Timestamptz(default=TimestamptzNow())


class GdprRun(Table, tablename="gdpr_run"):
    """One audit row per rule per sweep, and per immediate or requested anonymization.

    Holds counts and an error text without personal data (an exception's class, never
    its message, which may quote a value).
    """

    tenant_id = Integer(index=True)
    plugin = Varchar(length=63)
    rule_key = Varchar(length=120)
    # "sweep", "immediate", "erasure", ...: why the records were anonymized.
    trigger = Varchar(length=32, default="sweep")
    started_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
    records = Integer(default=0)
    # "ok" or "error"
    outcome = Varchar(length=16, default="ok")
    error = Text(default="")


GDPR_TABLES: list[type[Table]] = [RetentionSetting, GdprRun]
