"""The plugin manager: discovery through entry points, allow/block lists, tenant dispatch.

First-party plugins register through the entry-point group ``gallra.plugins`` exactly as a
third party does, so the built-in modules prove the plugin API.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import pluggy

from core import hookspecs
from core.config import Settings, get_settings
from core.contracts import ModuleInfo

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "gallra.plugins"
hookimpl = pluggy.HookimplMarker("gallra")

# GDPR duties reach every installed plugin, whatever a tenant has enabled (decision 3).
GDPR_HOOKS = frozenset(
    {
        "declare_personal_data",
        "declare_retention_rules",
        "anonymize",
        "declare_search_sources",
        "declare_record_types",
    }
)


@dataclass(frozen=True)
class PluginRecord:
    name: str
    version: str
    distribution: str
    module: ModuleInfo | None


# The core's own plugins (core.builtin: delivery defaults, the core tables' declarations,
# the core's routes and jobs) sit above this kernel and register here when imported; every
# host starts with them. The kernel does not import them (#18.6): the composition roots do
# (core.app, core.cli, core.tasks, core.piccolo_conf, the test kit).
_core_plugins: dict[str, Any] = {}


def provide_core_plugin(name: str, plugin: Any) -> None:
    """Register one of the core's own plugin objects for every host built from now on."""
    _core_plugins[name] = plugin


async def await_me_maybe(value: Any) -> Any:
    """Hooks may answer with a value or with an awaitable; callers await either."""
    if inspect.isawaitable(value):
        return await value
    return value


class PluginHost:
    """Owns the pluggy manager and knows which plugins are modules."""

    def __init__(self, settings: Settings | None = None, load_entry_points: bool = True):
        self.settings = settings or get_settings()
        self.pm = pluggy.PluginManager("gallra")
        self.pm.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}
        if "core" not in _core_plugins:
            # Fail closed: without the core's plugin no GDPR duty of the core tables is
            # declared and no message is delivered.
            raise RuntimeError(
                "The core's plugin is not loaded: import core.builtin before building a host"
            )
        for name, plugin in _core_plugins.items():
            self.pm.register(plugin, name=name)
        if load_entry_points:
            self.load_entry_points()

    # -- discovery ------------------------------------------------------------------
    def load_entry_points(self) -> None:
        allow = set(self.settings.plugins_allow)
        block = set(self.settings.plugins_block)
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if allow and ep.name not in allow:
                continue
            if ep.name in block:
                continue
            if self.pm.has_plugin(ep.name):
                continue
            plugin = ep.load()
            dist = ep.dist
            self.add(
                plugin,
                name=ep.name,
                version=dist.version if dist else "0",
                distribution=dist.name if dist else "?",
            )
        unknown = allow - set(self.records)
        if unknown:
            log.warning("GALLRA_PLUGINS names plugins that are not installed: %s", sorted(unknown))

    def add(self, plugin: Any, name: str, version: str = "0", distribution: str = "local") -> None:
        """Register a plugin object (a module or any object with @hookimpl functions)."""
        self.pm.register(plugin, name=name)
        info = None
        describe = getattr(plugin, "describe_module", None)
        if describe is not None:
            info = describe()
        self.records[name] = PluginRecord(name, version, distribution, info)

    # -- questions ------------------------------------------------------------------
    @property
    def hook(self) -> Any:
        """Hook caller reaching every installed plugin."""
        return self.pm.hook

    def plugin_names(self) -> list[str]:
        return sorted(self.records)

    def modules(self) -> dict[str, ModuleInfo]:
        return {n: r.module for n, r in sorted(self.records.items()) if r.module is not None}

    def plugin(self, name: str) -> Any:
        return self.pm.get_plugin(name)

    def call_plugin(self, plugin_name: str, hook_name: str, **kwargs: Any) -> Any:
        """Call one hook of one plugin (GDPR sweeps work a plugin at a time)."""
        others = [p for n, p in self.pm.list_name_plugin() if n != plugin_name]
        return self.pm.subset_hook_caller(hook_name, remove_plugins=others)(**kwargs)

    def hook_without(self, hook_name: str, disabled: Iterable[str]) -> Any:
        if hook_name in GDPR_HOOKS:
            return getattr(self.pm.hook, hook_name)
        remove = [p for p in (self.pm.get_plugin(n) for n in disabled) if p is not None]
        if not remove:
            return getattr(self.pm.hook, hook_name)
        return self.pm.subset_hook_caller(hook_name, remove_plugins=remove)

    async def enabled_modules(self, tenant_id: int) -> set[str]:
        """The modules the tenant has on: its stored choice, else the module's default."""
        from core.tables import TenantModule

        known = self.modules()
        rows = await TenantModule.select(TenantModule.module, TenantModule.enabled).where(
            TenantModule.tenant_id == tenant_id
        )
        choice = {r["module"]: bool(r["enabled"]) for r in rows}
        return {name for name, info in known.items() if choice.get(name, info.enabled_by_default)}

    async def for_tenant(self, tenant_id: int) -> TenantHooks:
        enabled = await self.enabled_modules(tenant_id)
        disabled = [n for n in self.modules() if n not in enabled]
        return TenantHooks(self, disabled)

    def piccolo_apps(self) -> list[str]:
        apps: list[str] = ["core.piccolo_app"]
        for result in self.pm.hook.register_piccolo_apps():
            for app in result or ():
                if app not in apps:
                    apps.append(app)
        return apps

    def collect(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Flatten a list-returning hook into one list."""
        out: list[Any] = []
        for result in getattr(self.pm.hook, hook_name)(**kwargs):
            out.extend(result or ())
        return out

    def collect_by_plugin(self, hook_name: str) -> dict[str, list[Any]]:
        """A list-returning hook's answers keyed by the plugin that gave them."""
        out: dict[str, list[Any]] = {}
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            result = impl.function()
            out.setdefault(impl.plugin_name, []).extend(result or ())
        return out


class TenantHooks:
    """Hook callers for one tenant: disabled modules do not hear them (GDPR hooks excepted)."""

    def __init__(self, host: PluginHost, disabled: list[str]):
        self._host = host
        self.disabled = frozenset(disabled)

    def __getattr__(self, hook_name: str) -> Any:
        return self._host.hook_without(hook_name, self.disabled)


_host: PluginHost | None = None


def get_host() -> PluginHost:
    """The process-wide plugin host, built on first use from the settings."""
    global _host
    if _host is None:
        _host = PluginHost()
    return _host


def set_host(host: PluginHost | None) -> None:
    """Replace the process-wide host (tests build their own)."""
    global _host
    _host = host
