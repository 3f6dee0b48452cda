"""The vault plugin's Piccolo app: its tables and migrations."""

import os

from piccolo.conf.apps import AppConfig

from plugins.vault.tables import VAULT_TABLES

APP_CONFIG = AppConfig(
    app_name="vault",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=list(VAULT_TABLES),
    migration_dependencies=[],
    commands=[],
)
