"""The customer portal's Piccolo app: its tables and migrations. It depends on the customer
register's app, whose history created the tables before this app owned them."""

import os

from piccolo.conf.apps import AppConfig

from plugins.portal.tables import PORTAL_TABLES

APP_CONFIG = AppConfig(
    app_name="portal",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=list(PORTAL_TABLES),
    migration_dependencies=["plugins.customers.piccolo_app"],
    commands=[],
)
