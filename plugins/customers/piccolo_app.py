"""The customers plugin's Piccolo app: its tables and migrations."""

import os

from piccolo.conf.apps import AppConfig

from plugins.customers.tables import CUSTOMER_TABLES

APP_CONFIG = AppConfig(
    app_name="customers",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=list(CUSTOMER_TABLES),
    migration_dependencies=[],
    commands=[],
)
