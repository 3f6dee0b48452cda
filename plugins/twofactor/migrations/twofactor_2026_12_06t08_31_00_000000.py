"""Passkeys (WebAuthn credentials) as a second factor: the table twofactor_passkey."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-06T08:31:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Passkeys (WebAuthn)"

TABLE = "twofactor_passkey"
# (column, class, extra params): every column of plugins.twofactor.tables.TwoFactorPasskey
COLUMNS = (
    ("tenant_id", Integer, {"default": 0, "index": True}),
    ("person_kind", Varchar, {"length": 16, "default": ""}),
    ("employee_id", Integer, {"default": 0, "index": True}),
    ("customer_id", Integer, {"default": 0, "index": True}),
    ("contact_id", Integer, {"default": 0, "index": True}),
    ("credential_id", Varchar, {"length": 1400, "default": "", "unique": True}),
    ("public_key", Text, {"default": ""}),
    ("sign_count", Integer, {"default": 0}),
    ("name", Varchar, {"length": 80, "default": ""}),
    ("created_at", Timestamptz, {"default": TimestamptzNow()}),
    ("last_used_at", Timestamptz, {"default": None, "null": True}),
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="twofactor", description=DESCRIPTION)
    manager.add_table(class_name="TwoFactorPasskey", tablename=TABLE, schema=None, columns=None)
    for name, column_class, extra in COLUMNS:
        params = {
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
            **extra,
        }
        manager.add_column(
            table_class_name="TwoFactorPasskey",
            tablename=TABLE,
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )
    return manager
