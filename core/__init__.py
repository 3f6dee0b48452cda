"""Gallra's minimal host: everything a module plugin needs, nothing module-specific.

Piccolo finds its configuration through PICCOLO_CONF; we point it at ours before any
table is used so that every Table resolves the same engine.
"""

import os

os.environ.setdefault("PICCOLO_CONF", "core.piccolo_conf")

__version__ = "0.1.0"
