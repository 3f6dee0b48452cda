"""The plugin manager: discovery through entry points, allow/block lists, tenant dispatch.

First-party plugins register through the entry-point group ``gallra.plugins`` exactly as a
third party does, so the built-in modules prove the plugin API.
"""

from __future__ import annotations

import inspect
import logging
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import import_module, metadata, resources
from typing import Any, TypeVar

import pluggy

from core import hookspecs
from core.config import Settings, get_settings
from core.contracts import KIND_DECLARATIONS, ModuleInfo

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
        "declare_records",
    }
)

# Hooks whose answers the core also derives from the record specs of ``declare_records``
# (one declaration per record instead of four that drift apart).
DERIVED_FROM_RECORDS = frozenset(
    {
        "declare_personal_data",
        "declare_retention_rules",
        "declare_search_sources",
        "declare_record_types",
    }
)


K = TypeVar("K")


class PluginError(RuntimeError):
    """The installed plugins do not fit together; Gallra refuses to start (fail closed)."""


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
        self.check()

    def check(self) -> None:
        """Refuse to start with plugins that cannot work: a ``@hookimpl`` whose name is no
        hook of core/hookspecs.py (a misspelt hook would never be called), or two plugins
        declaring the same kind (who would answer is a guess). Raises :class:`PluginError`
        naming the plugin."""
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            name = self.pm.get_name(exc.plugin) or repr(exc.plugin)
            unknown = sorted(
                attr
                for attr in dir(exc.plugin)
                if self.pm.parse_hookimpl_opts(exc.plugin, attr) is not None
                and attr not in hookspecs.HOOK_NAMES
            )
            raise PluginError(
                f"plugin {name!r} implements {', '.join(map(repr, unknown)) or 'a hook'} which is "
                "not a Gallra hook (see core/hookspecs.py and docs/hooks.md): a misspelt name "
                "would never be called"
            ) from exc
        self.kind_owners()

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

    def plugin_label(self, name: str, lang: str) -> str:
        """What a person reads for a plugin: its module's label, else (a service plugin such
        as two-factor) what its record specs share ("Tvåfaktorsautentisering – …"), never
        the raw plugin name unless nothing else is known."""
        record = self.records.get(name)
        if record is not None and record.module is not None:
            return record.module.label_en if lang == "en" else record.module.label_sv
        plurals = [
            (spec.plural_en if lang == "en" else spec.plural_sv) or ""
            for spec in self.records_by_plugin().get(name, [])
        ]
        heads = {p.split(" – ")[0] for p in plurals if p}
        if len(heads) == 1:
            return heads.pop()
        return ", ".join(sorted(heads)) or name

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
        """The modules the tenant has on: its stored choice, else the module's default.

        Read once per request (the module guard, the tenant's hooks and the handler all ask);
        ``core.tenancy.set_module_enabled`` drops the cached answer (key: :func:`modules_key`)."""
        from core.db import request_cache

        cache = request_cache()
        key = modules_key(self, tenant_id)
        if cache is not None and key in cache:
            return set(cache[key])
        result = await self._read_enabled_modules(tenant_id)
        if cache is not None:
            cache[key] = frozenset(result)
        return result

    def remember_enabled_modules(self, tenant_id: int, choice: dict[str, bool]) -> None:
        """Keep, for the rest of this request, the modules the tenant has on given its
        stored choices (``tenant_module`` rows read by the caller in this request: the
        session's statement reads them with the session, saving a round trip). Outside a
        request nothing is kept."""
        from core.db import request_cache

        cache = request_cache()
        if cache is not None:
            cache[modules_key(self, tenant_id)] = frozenset(self._modules_on(choice))

    async def _read_enabled_modules(self, tenant_id: int) -> set[str]:
        from core.tables import TenantModule

        rows = await TenantModule.select(TenantModule.module, TenantModule.enabled).where(
            TenantModule.tenant_id == tenant_id
        )
        return self._modules_on({r["module"]: bool(r["enabled"]) for r in rows})

    def _modules_on(self, choice: dict[str, bool]) -> set[str]:
        known = self.modules()
        on = {name for name, info in known.items() if choice.get(name, info.enabled_by_default)}
        # A module needing one that is off (or missing) is off too, transitively.
        while dropped := {name for name in on if not set(known[name].requires) <= on}:
            on -= dropped
        return on

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
        if hook_name in DERIVED_FROM_RECORDS and not kwargs:
            return [item for items in self.collect_by_plugin(hook_name).values() for item in items]
        out: list[Any] = []
        for result in getattr(self.pm.hook, hook_name)(**kwargs):
            out.extend(result or ())
        return out

    def collect_by_plugin(self, hook_name: str) -> dict[str, list[Any]]:
        """A list-returning hook's answers keyed by the plugin that gave them; for the
        declarations a record spec implies, what the plugin's specs derive comes first."""
        out: dict[str, list[Any]] = {}
        if hook_name in DERIVED_FROM_RECORDS:
            for owner, specs in self.records_by_plugin().items():
                module = self.records[owner].module if owner in self.records else None
                area = module.area if module else ""
                for spec in specs:
                    out.setdefault(owner, []).extend(_derive(spec, hook_name, area))
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            result = impl.function()
            out.setdefault(impl.plugin_name, []).extend(result or ())
        return out

    def records_by_plugin(self) -> dict[str, list[Any]]:
        """Every plugin's record specs (``declare_records``), by the plugin that declared them."""
        out: dict[str, list[Any]] = {}
        for impl in self.pm.hook.declare_records.get_hookimpls():
            answer: Any = impl.function()  # pluggy types a hook's answer as object
            specs = list(answer or ())
            names = [s.name for s in specs]
            if len(names) != len(set(names)):
                raise ValueError(f"plugin {impl.plugin_name!r} declares a record name twice: {names}")
            out.setdefault(impl.plugin_name, []).extend(specs)
        return out

    def record_spec(self, plugin: str, name: str) -> Any:
        """The spec of one record of one plugin (KeyError when there is none)."""
        for spec in self.records_by_plugin().get(plugin, []):
            if spec.name == name:
                return spec
        raise KeyError(f"{plugin}.{name}")


    # -- kinds: who owns a kind of person, of portal item... ---------------------------
    def kind_owners(self) -> dict[type, dict[str, tuple[str, Any]]]:
        """Every ``declare_kinds`` declaration of the installed plugins, by declaration type
        and kind: ``{PersonKind: {"customer": ("customers", PersonKind(...))}}``.

        Raises :class:`PluginError` when two plugins declare the same kind, or a plugin
        answers something that is not a kind declaration."""
        owners: dict[type, dict[str, tuple[str, Any]]] = {t: {} for t in KIND_DECLARATIONS}
        for plugin_name, declared in self.collect_by_plugin("declare_kinds").items():
            for decl in declared:
                kinds = owners.get(type(decl))
                if kinds is None:
                    raise PluginError(
                        f"plugin {plugin_name!r}: declare_kinds answered {type(decl).__name__}; "
                        f"expected {' or '.join(t.__name__ for t in KIND_DECLARATIONS)}"
                    )
                if decl.kind in kinds:
                    first = kinds[decl.kind][0]
                    raise PluginError(
                        f"plugins {first!r} and {plugin_name!r} both declare the "
                        f"{type(decl).__name__} {decl.kind!r}; only one plugin may own a kind"
                    )
                kinds[decl.kind] = (plugin_name, decl)
        return owners

    def kinds(self, of: type[K], disabled: Iterable[str] = ()) -> dict[str, K]:
        """The declarations of type ``of`` by kind, leaving out the plugins in ``disabled``."""
        off = set(disabled)
        return {
            kind: decl
            for kind, (plugin_name, decl) in self.kind_owners()[of].items()
            if plugin_name not in off
        }


def modules_key(host: PluginHost, tenant_id: int) -> tuple[str, int, int]:
    """The request-cache key of a tenant's enabled modules."""
    return ("enabled_modules", id(host), int(tenant_id))


def _derive(spec: Any, hook_name: str, area: str) -> list[Any]:
    if hook_name == "declare_personal_data":
        return list(spec.personal_data())
    if hook_name == "declare_retention_rules":
        return list(spec.retention_rules())
    if hook_name == "declare_search_sources":
        return list(spec.search_sources(area))
    return [spec.record_type()] if spec.opens else []


class TenantHooks:
    """Hook callers for one tenant: disabled modules do not hear them (GDPR hooks excepted)."""

    def __init__(self, host: PluginHost, disabled: list[str]):
        self._host = host
        self.disabled = frozenset(disabled)

    def __getattr__(self, hook_name: str) -> Any:
        return self._host.hook_without(hook_name, self.disabled)

    def kinds(self, of: type[K]) -> dict[str, K]:
        """The declarations of type ``of`` (``PersonKind``, ``ApprovalKind``) by kind, from
        the modules the tenant has enabled (and service plugins)."""
        return self._host.kinds(of, self.disabled)


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


# --- hook implementations most plugins write the same way -------------------------------
# A plugin's ``__init__`` assigns them to the hook's name, so every hook a plugin implements
# stays visible by name in its ``__init__``, which states only what is its own::
#
#     describe_module, register_piccolo_apps, register_routes = module_hooks(__name__)
#     declare_records = answer_from(f"{__name__}.records", "RECORDS")
#
# What they answer is imported at the first call, so loading the plugin object loads none of
# its tables or services.

MANIFEST = "module.toml"
"""The file beside a plugin's ``__init__`` stating its :class:`ModuleInfo` (the fields by
name: ``name``, ``label_sv``, ``label_en``, ``description_sv``, ``description_en``, ``area``,
``enabled_by_default``, ``requires``): what a tenant administrator reads, kept as data."""


def module_info_of(package: str) -> ModuleInfo:
    """The :class:`ModuleInfo` in ``package``'s ``module.toml``; an unknown or missing field
    raises at once (the plugin fails to load rather than describe itself wrongly)."""
    data = tomllib.loads((resources.files(package) / MANIFEST).read_text(encoding="utf-8"))
    if "requires" in data:
        data["requires"] = tuple(data["requires"])
    return ModuleInfo(**data)


def describes(info: ModuleInfo) -> Any:
    """``describe_module``: the plugin is the module ``info`` describes."""

    @hookimpl
    def describe_module() -> ModuleInfo:
        return info

    return describe_module


def module_hooks(package: str) -> tuple[Any, Any, Any]:
    """``describe_module``, ``register_piccolo_apps`` and ``register_routes`` of a module
    plugin laid out as Gallra's own: described in ``<package>/module.toml``
    (:func:`module_info_of`), its tables in ``<package>.piccolo_app``, its routes and pages
    from ``<package>.routes.route_handlers()`` and ``<package>.pages.pages()``."""
    return describes(module_info_of(package)), piccolo_app_of(package), routes_of(package)


def answer_from(module: str, attr: str) -> Any:
    """A hook implementation without arguments that answers ``attr`` of ``module``, or what
    it returns when ``attr`` is a function:
    ``declare_records = answer_from("plugins.x.records", "RECORDS")``,
    ``declare_search_sources = answer_from("plugins.x.gdpr", "search_sources")``."""

    @hookimpl
    def answer() -> Any:
        value = getattr(import_module(module), attr)
        return value() if inspect.isfunction(value) else value

    return answer


def piccolo_app_of(package: str) -> Any:
    """``register_piccolo_apps``: the plugin's ``<package>.piccolo_app``."""

    @hookimpl
    def register_piccolo_apps() -> Sequence[str]:
        return [f"{package}.piccolo_app"]

    return register_piccolo_apps


def routes_of(package: str) -> Any:
    """``register_routes``: ``<package>.routes.route_handlers()`` and ``<package>.pages.pages()``."""

    @hookimpl
    def register_routes() -> Sequence[Any]:
        return [*import_module(f"{package}.routes").route_handlers(), *import_module(f"{package}.pages").pages()]

    return register_routes


def anonymize_by(name: str, module: str) -> Any:
    """``anonymize``: ``<module>.anonymize(context)`` when the context is plugin ``name``'s."""

    @hookimpl
    def anonymize(context: Any) -> Any:
        if context.plugin != name:
            return None
        return import_module(module).anonymize(context)

    return anonymize
