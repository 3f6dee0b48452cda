"""The customer portal's Piccolo app: its tables and migrations.

It depends on the customer register's app, so Piccolo migrates that one first (a
topological order of ``migration_dependencies``): the register's migration that hands the
portal's tables over has run before this app's migrations take their rows.
"""

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
