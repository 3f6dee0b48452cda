"""The contracts plugin's Piccolo app: its tables and migrations."""

import os

from piccolo.conf.apps import AppConfig

from gallra_contracts.tables import CONTRACT_TABLES

APP_CONFIG = AppConfig(
    app_name="contracts",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=list(CONTRACT_TABLES),
    migration_dependencies=[],
    commands=[],
)
