"""The application's own route list, turned into requests another tenant must not get through.

Nothing here names a plugin's endpoint. Routes come from ``app.routes``; the tables that a
path parameter may point into come from the Piccolo apps (every table with ``tenant_id``),
matched on the parameter's name (``work_order_id`` -> ``WorkOrder``; no match -> every
tenant table of the route's apps); a route's apps are those its plugin registers
(``register_piccolo_apps``), the plugin being the one whose package holds the handler, for
built-in and installed plugins alike (gallra-contracts); request bodies are the smallest
ones the route's OpenAPI schema accepts. A new endpoint is therefore in the matrix the moment it is mounted.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute
from piccolo.table import Table

# Person kinds a path may name (``/people/{kind}/{person_id}``): the kind's word picks the
# table the id points into, exactly like a parameter name does.
STR_PARAM_VALUES: dict[str, tuple[str, ...]] = {"kind": ("employee", "customer", "contact")}

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def tokens_of_table(table: type[Table]) -> set[str]:
    words = set(_CAMEL.sub("_", table.__name__).lower().split("_"))
    return words | set(table._meta.tablename.split("_"))


def tokens_of_param(name: str) -> set[str]:
    return {w for w in name.lower().split("_") if w and w != "id"}


@dataclass
class Operation:
    method: str
    path: str  # Litestar form, e.g. /api/customers/{customer_id:int}
    openapi_path: str  # OpenAPI form, e.g. /api/customers/{customer_id}
    app_name: str  # the plugin whose package holds the handler ("core" for core)
    apps: tuple[str, ...]  # the Piccolo apps that plugin registers: where its ids point
    params: list[tuple[str, type]]
    public: bool
    body_schema: dict | None = None
    body: Any = None  # the smallest body the schema accepts (None: no body)
    full_body: Any = None  # every optional field too, with its smallest value
    query_required: dict[str, Any] = field(default_factory=dict)

    @property
    def int_params(self) -> list[str]:
        return [n for n, t in self.params if t is int]

    def url(self, values: dict[str, Any]) -> str:
        out = self.openapi_path
        for name, value in values.items():
            out = out.replace("{" + name + "}", str(value))
        return out

    def __str__(self) -> str:
        return f"{self.method} {self.openapi_path}"


@functools.lru_cache(maxsize=4)
def plugin_packages(host: Any) -> list[tuple[str, str, tuple[str, ...]]]:
    """(package, plugin, Piccolo app names) of every plugin the host has, longest package
    first: the package its hooks live in (a module plugin's own package, else the package of
    its object's class) and the apps its ``register_piccolo_apps`` hook names."""
    found: dict[str, tuple[str, list[str]]] = {}
    for name, plugin in host.pm.list_name_plugin():
        if inspect.ismodule(plugin) and hasattr(plugin, "__path__"):
            package = plugin.__name__
        elif inspect.ismodule(plugin):
            package = plugin.__name__.rpartition(".")[0]
        else:
            package = type(plugin).__module__.rpartition(".")[0]
        package = package or name
        apps: list[str] = []
        for result in host.call_plugin(name, "register_piccolo_apps"):
            for path in result or ():
                apps.append(importlib.import_module(path).APP_CONFIG.app_name)
        _owner, known = found.setdefault(package, (name, []))
        known.extend(a for a in apps if a not in known)
    return sorted(
        ((package, owner, tuple(apps)) for package, (owner, apps) in found.items()),
        key=lambda item: -len(item[0]),
    )


def owner_of(host: Any, module: str) -> tuple[str, tuple[str, ...]]:
    """The plugin whose package holds ``module``, and its Piccolo apps ("core" otherwise)."""
    for package, owner, apps in plugin_packages(host):
        if module == package or module.startswith(package + "."):
            return owner, apps
    return "core", ("core",)


def operations(app: Litestar) -> list[Operation]:
    from core.plugins import get_host

    host = getattr(app.state, "host", None) or get_host()
    schema = app.openapi_schema.to_schema()
    paths = schema.get("paths", {})
    out: list[Operation] = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        params = [(p.name, p.type) for p in route.path_parameters.values()]
        openapi_path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods):
                if method in ("HEAD", "OPTIONS"):
                    continue
                op_schema = paths.get(openapi_path, {}).get(method.lower(), {})
                body = (
                    op_schema.get("requestBody", {})
                    .get("content", {})
                    .get("application/json", {})
                    .get("schema")
                )
                query = {
                    p["name"]: p.get("schema", {})
                    for p in op_schema.get("parameters", [])
                    if p.get("in") == "query" and p.get("required")
                }
                owner, apps = owner_of(host, handler.fn.__module__)
                out.append(
                    Operation(
                        method=method,
                        path=route.path,
                        openapi_path=openapi_path,
                        app_name=owner,
                        apps=apps,
                        params=params,
                        public=bool(handler.opt.get("public")),
                        body_schema=_resolve(body, schema) if body else None,
                        body=minimal(body, schema) if body else None,
                        full_body=minimal(body, schema, every=True) if body else None,
                        query_required={
                            k: minimal(_resolve(v, schema), schema) for k, v in query.items()
                        },
                    )
                )
    return out


def _resolve(node: Any, root: dict) -> Any:
    if isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"].split("/")[-1]
        return _resolve(root["components"]["schemas"][ref], root)
    return node


def minimal(node: Any, root: dict, name: str = "", every: bool = False) -> Any:
    """The smallest value the schema accepts: required fields only, shortest strings."""
    node = _resolve(node, root)
    if not isinstance(node, dict):
        return None
    if "const" in node:
        return node["const"]
    if "enum" in node:
        return node["enum"][0]
    for key in ("oneOf", "anyOf"):
        if key in node:
            options = [o for o in node[key] if _resolve(o, root).get("type") != "null"]
            if not options:
                return None
            merged = {**{k: v for k, v in node.items() if k != key}, **_resolve(options[0], root)}
            return minimal(merged, root, name, every)
    kind = node.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object":
        props = node.get("properties", {})
        keys = list(props) if every else node.get("required", [])
        return {key: minimal(props.get(key, {}), root, key, every) for key in keys}
    if kind == "array":
        n = int(node.get("minItems", 0))
        n = max(n, 1) if every else n
        return [minimal(node.get("items", {}), root, name, every) for _ in range(n)]
    if kind == "string":
        fmt = node.get("format")
        if fmt == "date":
            return "2026-01-15"
        if fmt == "date-time":
            return "2026-01-15T10:00:00Z"
        if fmt == "email" or "email" in name:
            return "someone@example.se"
        if "phone" in name or "mobile" in name:
            return "+46701234567"
        if "national_id" in name:
            return "19121212-1212"  # the tax agency's test number: valid check digit
        if fmt == "uuid":
            return "00000000-0000-4000-8000-000000000000"
        # digits: also a valid decimal (money and quantities are strings in the schema)
        n = max(int(node.get("minLength", 1)), 1)
        return ("1" * n)[: int(node.get("maxLength", n))]
    if kind == "integer":
        low = node.get("minimum", node.get("exclusiveMinimum", 0) + 1)
        return max(int(low), 1) if node.get("maximum", 2) >= 1 else int(low)
    if kind == "number":
        return max(float(node.get("minimum", 1)), 1.0)
    if kind == "boolean":
        return False
    return None


@functools.lru_cache(maxsize=1)
def tenant_tables() -> dict[str, list[type[Table]]]:
    """Every table with a tenant_id column, per Piccolo app."""
    from piccolo.conf.apps import Finder

    out: dict[str, list[type[Table]]] = {}
    for name, config in Finder().get_app_registry().app_configs.items():
        tables = [
            t
            for t in config.table_classes
            if "tenant_id" in [c._meta.name for c in t._meta.columns]
        ]
        out[name] = tables
    return out


def all_tenant_tables() -> list[type[Table]]:
    return [t for tables in tenant_tables().values() for t in tables]


def tables_for(name: str, apps: tuple[str, ...], hint: str | None = None) -> list[type[Table]]:
    """The tables an id parameter may point into: those whose name shares the parameter's
    words (or the word of the str parameter before it, like a person kind), else all of
    the apps' tenant tables followed by other modules' tables sharing those words."""
    per_app = tenant_tables()
    own = [t for app in apps for t in per_app.get(app, [])]
    words = tokens_of_param(hint) if hint else tokens_of_param(name)
    pool = own if not hint else all_tenant_tables()
    matched = [t for t in pool if words and words <= tokens_of_table(t)]
    if matched:
        return matched
    # It may be an id of another module's rows too (the customer portal's
    # /customers/{customer_id}/... routes take the customer register's ids): after the
    # apps' own tables, those of any module whose name shares its words.
    others = [t for t in all_tenant_tables() if words and words <= tokens_of_table(t) and t not in own]
    return own + others


async def ids_of(tenant_id: int, tables: list[type[Table]]) -> list[int]:
    found: set[int] = set()
    for table in tables:
        tid = table._meta.get_column_by_name("tenant_id")
        rows = await table.select(table._meta.primary_key).where(tid == tenant_id)
        found.update(int(r[table._meta.primary_key._meta.name]) for r in rows)
    return sorted(found)


async def id_combinations(op: Operation, tenant_id: int) -> list[dict[str, Any]]:
    """Every assignment of the tenant's ids (and the known str values) to the path."""
    from core.gdpr.registry import get_declarations

    names = [n for n, _ in op.params]
    types = dict(op.params)
    if names[:2] == ["plugin", "record_type"] and types.get("record_id") is int:
        combos = []
        for (plugin, record_type), rt in get_declarations().record_types.items():
            for rid in await ids_of(tenant_id, [rt.table]):
                combos.append({"plugin": plugin, "record_type": record_type, "record_id": rid})
        return combos
    str_names = [n for n in names if types[n] is not int]
    if any(n not in STR_PARAM_VALUES for n in str_names):
        return []  # a free text or token parameter: not an id of a tenant's row
    combos: list[dict[str, Any]] = []
    for values in itertools.product(*[STR_PARAM_VALUES[n] for n in str_names]):
        fixed = dict(zip(str_names, values, strict=True))
        choices: list[list[tuple[str, int]]] = []
        word: str | None = None
        for name in names:
            if types[name] is not int:
                word = fixed[name]  # a person kind names the table of the id after it
                continue
            ids = await ids_of(tenant_id, tables_for(name, op.apps, word))
            word = None
            choices.append([(name, i) for i in ids])
        for combo in itertools.product(*choices):
            combos.append({**fixed, **dict(combo)})
    return combos


async def snapshot(tenant_id: int) -> dict[str, list[dict]]:
    """Every row the tenant owns, table by table."""
    out: dict[str, list[dict]] = {}
    for table in all_tenant_tables():
        tid = table._meta.get_column_by_name("tenant_id")
        out[table._meta.tablename] = await table.select().where(tid == tenant_id).order_by(
            table._meta.primary_key
        )
    return out
