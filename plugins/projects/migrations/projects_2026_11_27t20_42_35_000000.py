"""Indexes Piccolo's column API cannot express (composite, partial).

Raw steps of a migration run before its tables are created, so they live in their own
migration after the one that creates the tables.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-27T20:42:35:000000"
VERSION = "1.38.0"
DESCRIPTION = "projects indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="projects", description=DESCRIPTION)

    async def indexes():
        from piccolo.querystring import QueryString

        from core.db import get_engine

        engine = get_engine()
        for sql in (
            "CREATE UNIQUE INDEX IF NOT EXISTS project_number_uniq ON project (tenant_id, number)",
            "CREATE INDEX IF NOT EXISTS project_tenant_status_idx ON project (tenant_id, status)",
            "CREATE INDEX IF NOT EXISTS sub_project_project_idx ON sub_project (tenant_id, project_id)",
            "CREATE INDEX IF NOT EXISTS project_extra_cost_project_idx ON project_extra_cost (tenant_id, project_id)",
            "CREATE INDEX IF NOT EXISTS project_payment_plan_project_idx "
            "ON project_payment_plan (tenant_id, project_id)",
            "CREATE INDEX IF NOT EXISTS project_installment_project_idx ON project_installment (tenant_id, project_id)",
            "CREATE INDEX IF NOT EXISTS project_installment_plan_idx "
            "ON project_installment (tenant_id, payment_plan_id)",
            "CREATE INDEX IF NOT EXISTS project_partner_invitation_project_idx "
            "ON project_partner_invitation (tenant_id, project_id)",
        ):
            await engine.run_querystring(QueryString(sql))

    manager.add_raw(indexes)
    return manager
