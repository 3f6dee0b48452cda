"""The cases module's table: cases and service cases in one table, told apart by ``kind``.

References to customers and contact persons are plain integer ids (0 = none or anonymized),
never foreign keys: the GDPR engine sets them to 0 when that customer or contact person is
anonymized (M14, M15), which a foreign key would forbid, and this plugin must not import
the customers plugin.
"""

from __future__ import annotations

from piccolo.columns import Varchar
from piccolo.table import Table

from core.records.columns import EndCustomerColumns, RecordColumns
from core.tables import TenantTable


class Case(RecordColumns, EndCustomerColumns, TenantTable, tablename="case_record"):
    """A case (Ärende, kind "case") or a service case (Serviceärende, kind "service"): the
    record layer's columns and the end customer (core.records.columns), and its kind."""

    kind = Varchar(length=16, default="case")


CASE_TABLES: list[type[Table]] = [Case]
