"""The cases plugin's Piccolo app: its tables and migrations."""

import os

from piccolo.conf.apps import AppConfig

from plugins.cases.tables import CASE_TABLES

APP_CONFIG = AppConfig(
    app_name="cases",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=list(CASE_TABLES),
    migration_dependencies=[],
    commands=[],
)
