"""Importing this module declares every task of the core and of the installed plugins."""

from core import builtin  # noqa: F401  (the core's own plugin and its sweep task)
from core import delivery  # noqa: F401
from core.plugins import get_host
from core.gdpr import subjects  # noqa: F401  (the export job)
from core.routes import auth  # noqa: F401

get_host()  # loading the plugins imports their task modules
