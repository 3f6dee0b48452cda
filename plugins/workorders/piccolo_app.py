"""The work-orders plugin's Piccolo app: its tables and migrations."""

import os

from piccolo.conf.apps import AppConfig

from plugins.workorders.tables import WORKORDER_TABLES

APP_CONFIG = AppConfig(
    app_name="workorders",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=list(WORKORDER_TABLES),
    migration_dependencies=[],
    commands=[],
)
