"""The privacy plugin's Piccolo app: its tables and migrations."""

import os

from piccolo.conf.apps import AppConfig

from plugins.privacy.tables import TABLES

APP_CONFIG = AppConfig(
    app_name="privacy",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=list(TABLES),
    migration_dependencies=[],
    commands=[],
)
