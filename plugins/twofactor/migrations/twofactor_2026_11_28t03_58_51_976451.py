from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-28T03:58:51:976451"
VERSION = "1.38.0"
DESCRIPTION = "A challenge remembers what it decides (subject_hash)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="twofactor", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="TwoFactorChallenge",
        tablename="twofactor_challenge",
        column_name="subject_hash",
        db_column_name="subject_hash",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 64,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
