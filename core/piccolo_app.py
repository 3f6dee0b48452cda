"""The core's Piccolo app: its tables and migrations."""

import os

from piccolo.conf.apps import AppConfig

from core.activity.tables import ACTIVITY_TABLES
from core.eventlog import LOG_TABLES
from core.gdpr.tables import GDPR_TABLES
from core.tables import CORE_TABLES

APP_CONFIG = AppConfig(
    app_name="core",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[*CORE_TABLES, *GDPR_TABLES, *ACTIVITY_TABLES, *LOG_TABLES],
    migration_dependencies=[],
    commands=[],
)
