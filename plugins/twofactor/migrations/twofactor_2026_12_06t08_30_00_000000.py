"""Which factor (#21.3): a context may require a strong factor (an authenticator app or a
passkey, never SMS), and a tenant may require one of every administrator."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-06T08:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "strong factor rules (strong_required per context, admins_strong per tenant)"

_PARAMS = {
    "default": False,
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
    manager = MigrationManager(migration_id=ID, app_name="twofactor", description=DESCRIPTION)
    manager.add_column(
        table_class_name="TwoFactorContextSetting",
        tablename="twofactor_context",
        column_name="strong_required",
        db_column_name="strong_required",
        column_class_name="Boolean",
        column_class=Boolean,
        params=dict(_PARAMS),
        schema=None,
    )
    manager.add_column(
        table_class_name="TwoFactorSettings",
        tablename="twofactor_settings",
        column_name="admins_strong",
        db_column_name="admins_strong",
        column_class_name="Boolean",
        column_class=Boolean,
        params=dict(_PARAMS),
        schema=None,
    )
    return manager
