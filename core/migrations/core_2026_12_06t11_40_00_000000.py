from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt, Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-06T11:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "record_number: each numbering's counter (core.numbering.take_number)"


def _params(default: int, index: bool) -> dict:
    return {
        "default": default,
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": index,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    manager.add_table(class_name="RecordNumber", tablename="record_number", schema=None, columns=None)
    for name, column_class, index in (
        ("tenant_id", Integer, True),
        ("numbering", BigInt, False),
        ("last", Integer, False),
    ):
        manager.add_column(
            table_class_name="RecordNumber",
            tablename="record_number",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=_params(0, index),
            schema=None,
        )
    return manager
