"""The portal person who asked: a request made in the customer portal names its customer and
contact person (0 otherwise), so the portal lists the person's own requests."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-06T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "dsr request customer_id and contact_person_id"


def _params() -> dict:
    return {
        "default": 0,
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="dsr", description=DESCRIPTION)
    for column in ("customer_id", "contact_person_id"):
        manager.add_column(
            table_class_name="DsrRequest",
            tablename="dsr_request",
            column_name=column,
            db_column_name=column,
            column_class_name="Integer",
            column_class=Integer,
            params=_params(),
            schema=None,
        )

    return manager
