"""Importing this module declares every task of the core and of the installed plugins."""

# builtin: the core's own plugin and its sweep task; delivery: the outbox's task
from core import builtin, delivery  # noqa: F401
from core.gdpr import subjects  # noqa: F401  (the export job)
from core.plugins import get_host
from core.routes import auth  # noqa: F401

get_host()  # loading the plugins imports their task modules
