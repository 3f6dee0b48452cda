"""Tables of the GDPR engine: each tenant's retention choices and the audit of every run.

They belong to the core's Piccolo app (core/piccolo_app.py lists them), so their
migrations live in core/migrations.
"""

from __future__ import annotations

from piccolo.columns import BigInt, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from core.tables import IdTable, TenantTable


class RetentionSetting(TenantTable, tablename="gdpr_retention_setting"):
    """A tenant's choice for one retention rule; a missing row means the rule's default.

    Unique on (tenant_id, rule_key) (see the index migration). The module settings
    endpoints and /api/gdpr/retention read and write these same rows, so both agree.
    """

    tenant_id = Integer(index=True)
    rule_key = Varchar(length=120)
    mode = Varchar(length=16)
    days = Integer()
    changed_at = Timestamptz(default=TimestamptzNow())


class GdprRun(TenantTable, tablename="gdpr_run"):
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


class SearchField(IdTable, tablename="gdpr_search_field"):
    """One indexed place: a (table, column) pair named by a search source. Term rows carry
    this small id instead of the names; a new pair makes ``ensure_index`` index its table."""

    tbl = Varchar(length=63)
    col = Varchar(length=63)


class SearchTerm(TenantTable, tablename="gdpr_search_term"):
    """One normalized search term of one record's field (see core/gdpr/search.py).

    ``kind``: e (e-mail), p (phone digits), n (identity/organization number digits),
    w (word), i (IP), c/k/m (customer/contact/employee reference). Kept current in the
    writing transaction; never holds values of anonymized records.
    """

    tenant_id = Integer()
    kind = Varchar(length=1)
    term = Varchar(length=120)
    field_id = Integer()
    record_id = BigInt()


class SearchDirty(IdTable, tablename="gdpr_search_dirty"):
    """Rows written since the index last saw them; database triggers add them, the
    commit of the writing transaction (or the next search) reindexes and removes them."""

    tbl = Varchar(length=63)
    record_id = BigInt()


class SubjectExport(TenantTable, tablename="gdpr_subject_export"):
    """A data subject's access export (JSON and HTML), deleted 7 days after it is made."""

    tenant_id = Integer(index=True)
    token = Varchar(length=64, unique=True)
    status = Varchar(length=16, default="pending")  # pending | done | error
    requested_by = Integer(null=True, default=None)
    identifiers_hash = Varchar(length=64, default="")
    records = Integer(default=0)
    document = Text(default="")
    html = Text(default="")
    error = Varchar(length=200, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    finished_at = Timestamptz(null=True, default=None)
    expires_at = Timestamptz()
    anonymized_at = Timestamptz(null=True, default=None)


GDPR_TABLES.extend([SearchField, SearchTerm, SearchDirty, SubjectExport])
