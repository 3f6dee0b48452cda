"""One login system (#18.6): sessions and link tokens of every kind of person.

``session`` and ``password_reset_token`` gain ``kind`` ("employee" | "portal") and
``subject_id`` (the person's id within the kind); the link tokens gain ``purpose``
("reset" | "invite"). The customer portal's own copies of these tables go in the
customers app's migration of the same change, which moves their rows here.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-06T03:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "kind and subject_id on session and password_reset_token"


def _params(default, length=None, index=False):
    params = {
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
    if length is not None:
        params["length"] = length
    return params


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)

    for class_name, tablename in (("Session", "session"), ("PasswordResetToken", "password_reset_token")):
        manager.add_column(
            table_class_name=class_name,
            tablename=tablename,
            column_name="kind",
            db_column_name="kind",
            column_class_name="Varchar",
            column_class=Varchar,
            params=_params("employee", length=16),
            schema=None,
        )
        manager.add_column(
            table_class_name=class_name,
            tablename=tablename,
            column_name="subject_id",
            db_column_name="subject_id",
            column_class_name="Integer",
            column_class=Integer,
            params=_params(0, index=True),
            schema=None,
        )

    manager.add_column(
        table_class_name="PasswordResetToken",
        tablename="password_reset_token",
        column_name="purpose",
        db_column_name="purpose",
        column_class_name="Varchar",
        column_class=Varchar,
        params=_params("reset", length=8),
        schema=None,
    )

    return manager
