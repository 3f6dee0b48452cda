"""Module given to ``dramatiq`` by ``gallra worker``: broker first, then every task."""

from core.config import get_settings
from core.worker import setup_broker

broker = setup_broker(get_settings().broker_url)

from core import tasks  # noqa: E402,F401  (declares the core's tasks and loads plugins)
