"""Creates kit_fake_thing but forgets its ``note`` column (the kit must say so)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Timestamptz, Varchar

ID = "2026-11-28T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = ""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="kit_fake", description=DESCRIPTION)
    manager.add_table(class_name="Thing", tablename="kit_fake_thing", schema=None, columns=None)
    for name, cls, params in (
        ("tenant_id", Integer, {"default": 0}),
        ("name", Varchar, {"length": 200, "default": ""}),
        ("status", Varchar, {"length": 16, "default": "open"}),
        ("closed_at", Timestamptz, {"null": True, "default": None}),
        ("anonymized_at", Timestamptz, {"null": True, "default": None}),
    ):
        manager.add_column(
            table_class_name="Thing", tablename="kit_fake_thing", column_name=name,
            db_column_name=name, column_class_name=cls.__name__, column_class=cls, params=params,
        )
    return manager
