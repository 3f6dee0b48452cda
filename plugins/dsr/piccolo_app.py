"""The data-subject requests plugin's Piccolo app: its table and migrations."""

import os

from piccolo.conf.apps import AppConfig

from plugins.dsr.tables import TABLES

APP_CONFIG = AppConfig(
    app_name="dsr",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=list(TABLES),
    migration_dependencies=[],
    commands=[],
)
