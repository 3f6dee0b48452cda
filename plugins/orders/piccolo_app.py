"""The orders plugin's Piccolo app: its tables and migrations."""

import os

from piccolo.conf.apps import AppConfig

from plugins.orders.tables import ORDER_TABLES

APP_CONFIG = AppConfig(
    app_name="orders",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=list(ORDER_TABLES),
    migration_dependencies=[],
    commands=[],
)
