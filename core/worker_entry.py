"""Module given to ``dramatiq`` by ``gallra worker``: broker first, then every task."""

from core.config import get_settings
from core.worker import DatabasePool, setup_broker

broker = setup_broker(get_settings().broker_url)
broker.add_middleware(DatabasePool())

from core import tasks  # noqa: E402,F401  (declares the core's tasks and loads plugins)
