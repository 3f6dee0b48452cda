"""Plugins used only by the core tests.

They are found the way a third party's plugin is found (fake entry points pointing at these
modules) or added to a fresh :class:`core.plugins.PluginHost` directly. Each records the hook
calls it hears in :data:`CALLS`, which the tests' autouse fixture empties before every test.
"""

from __future__ import annotations

from typing import Any

# (plugin name, hook name, arguments) of every call a fake plugin heard.
CALLS: list[tuple[str, str, dict[str, Any]]] = []


def heard(plugin: str, hook: str | None = None) -> list[tuple[str, str, dict[str, Any]]]:
    return [c for c in CALLS if c[0] == plugin and (hook is None or c[1] == hook)]
