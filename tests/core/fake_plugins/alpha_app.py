"""The alpha plugin's Piccolo app (never migrated: tests only resolve it)."""

import os

from piccolo.columns import Integer, Varchar
from piccolo.conf.apps import AppConfig
from piccolo.table import Table


class AlphaThing(Table, tablename="alpha_thing"):
    tenant_id = Integer(index=True)
    name = Varchar(length=100)


APP_CONFIG = AppConfig(
    app_name="alpha",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "alpha_migrations"),
    table_classes=[AlphaThing],
    migration_dependencies=[],
    commands=[],
)
