"""Piccolo's configuration: the engine and one app per installed plugin.

PICCOLO_CONF points here (set in core/__init__.py), so Piccolo's own CLI works too:
``piccolo migrations new customers --auto``.
"""

from piccolo.conf.apps import AppRegistry

from core import builtin  # noqa: F401  (the core's own plugin, before the host: #18.6)
from core.db import get_engine
from core.plugins import get_host

DB = get_engine()
APP_REGISTRY = AppRegistry(apps=get_host().piccolo_apps())
