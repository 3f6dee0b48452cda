import os

from piccolo.conf.apps import AppConfig

from tests.conformance.kit_fake.tables import Thing

APP_CONFIG = AppConfig(
    app_name="kit_fake",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "migrations"),
    table_classes=[Thing],
    migration_dependencies=[],
    commands=[],
)
