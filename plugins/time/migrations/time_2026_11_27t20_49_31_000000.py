"""Indexes Piccolo's column API cannot express (composite, partial).

Raw steps of a migration run before its tables are created, so they live in their own
migration after the one that creates the tables.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-27T20:49:31:000000"
VERSION = "1.38.0"
DESCRIPTION = "time indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="time", description=DESCRIPTION)

    async def indexes():
        from piccolo.querystring import QueryString

        from core.db import get_engine

        engine = get_engine()
        for sql in (
            'CREATE INDEX IF NOT EXISTS time_report_employee_date_idx ON time_report (tenant_id, employee_id, "date")',
            'CREATE INDEX IF NOT EXISTS time_report_date_idx ON time_report (tenant_id, "date")',
            "CREATE INDEX IF NOT EXISTS time_report_due_idx ON time_report (tenant_id, dated_at) "
            "WHERE anonymized_at IS NULL",
            'CREATE INDEX IF NOT EXISTS time_expense_employee_date_idx '
            'ON time_expense (tenant_id, employee_id, "date")',
            'CREATE INDEX IF NOT EXISTS time_expense_date_idx ON time_expense (tenant_id, "date")',
            "CREATE INDEX IF NOT EXISTS time_expense_due_idx ON time_expense (tenant_id, dated_at) "
            "WHERE anonymized_at IS NULL",
            'CREATE INDEX IF NOT EXISTS time_deviation_employee_date_idx '
            'ON time_deviation (tenant_id, employee_id, "date")',
            "CREATE INDEX IF NOT EXISTS time_deviation_due_idx ON time_deviation (tenant_id, dated_at) "
            "WHERE anonymized_at IS NULL",
            "CREATE INDEX IF NOT EXISTS time_shift_starts_idx ON time_shift (tenant_id, starts_at)",
        ):
            await engine.run_querystring(QueryString(sql))

    manager.add_raw(indexes)
    return manager
