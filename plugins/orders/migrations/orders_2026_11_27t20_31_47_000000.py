"""Indexes Piccolo's column API cannot express (composite).

Raw steps of a migration run before its tables are created, so they live in their own
migration after the one that creates the tables.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-27T20:31:47:000000"
VERSION = "1.38.0"
DESCRIPTION = "orders indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="orders", description=DESCRIPTION)

    async def indexes():
        from piccolo.querystring import QueryString

        from core.db import get_engine

        engine = get_engine()
        for sql in (
            # The order number is unique within a tenant (deleted orders included).
            "CREATE UNIQUE INDEX IF NOT EXISTS sales_order_number_uniq "
            "ON sales_order (tenant_id, number)",
            "CREATE INDEX IF NOT EXISTS sales_order_customer_idx "
            "ON sales_order (tenant_id, customer_id)",
            "CREATE INDEX IF NOT EXISTS sales_order_contact_idx "
            "ON sales_order (tenant_id, contact_person_id)",
            "CREATE INDEX IF NOT EXISTS sales_order_line_parent_idx "
            "ON sales_order_line (tenant_id, order_id)",
            "CREATE INDEX IF NOT EXISTS sales_order_comment_parent_idx "
            "ON sales_order_comment (tenant_id, order_id)",
        ):
            await engine.run_querystring(QueryString(sql))

    manager.add_raw(indexes)
    return manager
