"""The Litestar application factory: core routes plus every installed plugin's routes."""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from litestar import Litestar, Request, Response, get
from litestar.datastructures import Headers
from litestar.di import Provide
from litestar.exceptions import (
    ClientException,
    HTTPException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components
from litestar.router import Router
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_409_CONFLICT,
    HTTP_415_UNSUPPORTED_MEDIA_TYPE,
)

from core import builtin as _builtin  # noqa: F401  (the core's own plugin, for every host: #18.6)
from core.context import request_context
from core.db import pooled, raw, request_scope
from core.migrate import pending_migrations
from core.openapi import SECURITY_SCHEMES
from core.openapi import document as document_api
from core.plugins import PluginHost, await_me_maybe, get_host
from core.problems import api_exception_handlers
from core.routes.admin import EmployeesController, GroupsController, ModulesController
from core.routes.auth import AuthController
from core.routes.platform import PlatformController
from core.routes.schemas import HealthOut
from core.tenancy import TenancyError
from core.web import cross_site, provide_admin, provide_user

log = logging.getLogger(__name__)


class PendingMigrations(SystemExit):
    pass


def _tenancy_error(_: Request[Any, Any, Any], exc: TenancyError) -> Response[Any]:
    return Response({"status_code": 400, "detail": str(exc)}, status_code=HTTP_400_BAD_REQUEST)


API_DESCRIPTION = """Gallra's JSON API, for integrations.

Log in with POST /api/auth/login; the session cookie it sets authenticates the calls
(security scheme sessionCookie). Lists take offset and limit and answer
{total, offset, limit, items}; most take sort (-key for descending) and some updated_since.
A query parameter an operation does not take answers 400. Errors are problem details
(RFC 9457) with a stable code and, when one field is at fault, field."""


MAX_BODY = 2 * 1024 * 1024  # bytes; nothing the API takes comes near it (files are not uploaded here)


def _too_large(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    return Response(
        {
            "status_code": 413,
            "detail": f"The request is larger than {MAX_BODY // (1024 * 1024)} MiB; send less data.",
        },
        status_code=413,
    )


MAX_ID = 2_147_483_647  # ids are 32-bit in every table


async def _check_request(request: Request[Any, Any, Any]) -> None:
    """Input no database can take, refused for every route in one place (the database
    would answer with an error, a 500): an id in a path that no row can have is "not
    found"; text with the NUL character, which PostgreSQL cannot store, is a 400; so is
    JSON nested deeper than the decoder's stack (see :func:`_check_json`)."""
    if request.scope.get("query_string") and request.scope["path"].startswith("/api/"):
        check_query_names(request)  # (no query string: no name to refuse)
    params = request.route_handler.parsed_fn_signature.parameters
    for name, value in request.path_params.items():
        if isinstance(value, int) and not 0 <= value <= MAX_ID:
            kwarg = getattr(params.get(name), "kwarg_definition", None)
            if any(getattr(kwarg, b, None) is not None for b in ("ge", "gt", "le", "lt")):
                continue  # the route declares its own bounds: its validation answers 400
            raise NotFoundException(f"There is no record with {name} {value}.")
    scope = request.scope
    if b"%00" in scope.get("query_string", b"") or "\x00" in scope.get("path", ""):
        raise ClientException(NUL_REFUSED)
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        body = await request.body()  # read once: Litestar keeps it for the handler
        form = "form-urlencoded" in request.headers.get("content-type", "")
        if b"\x00" in body or (form and b"%00" in body):
            raise ClientException(NUL_REFUSED)
        await _check_json(request, body)


_QUERY_NAMES: dict[tuple[int, frozenset[str]], tuple[Any, frozenset[str] | None]] = {}


def accepted_query_names(handler: Any, path_params: Any) -> frozenset[str] | None:
    """The query parameter names ``handler`` declares, its dependencies' included (what
    Litestar's own parameter model of the route expects), or None when it takes the whole
    query string (a ``query`` argument). Computed once per handler (the cache holds the
    handler, so its id is not reused by another while cached)."""
    key = (id(handler), frozenset(path_params))
    cached = _QUERY_NAMES.get(key)
    if cached is None or cached[0] is not handler:
        model = handler.create_kwargs_model(path_parameters=dict.fromkeys(path_params))
        names = (
            None
            if "query" in model.expected_reserved_kwargs
            else frozenset(p.field_alias for p in model.expected_query_params)
        )
        cached = _QUERY_NAMES[key] = (handler, names)
    return cached[1]


def check_query_names(request: Request[Any, Any, Any]) -> None:
    """An API route answers 400 for a query parameter it does not declare (#18.9): a
    misspelt filter (``?custmer=4``) or paging word (``?page=2`` on an offset list) would
    otherwise be ignored and answer everything, which an integration cannot tell from a
    right answer. Pages (outside ``/api/``) do not check: browsers, bookmarks and
    trackers add parameters (``utm_source``, ``fbclid``) that a person cannot remove, and
    a page shows what it lists, so nothing is silently wrong there."""
    accepted = accepted_query_names(request.route_handler, request.path_params)
    if accepted is None:
        return
    unknown = sorted(set(request.query_params) - accepted)
    if unknown:
        names = ", ".join(repr(n[:40]) for n in unknown[:5])
        allowed = ", ".join(sorted(accepted)) or "none"
        raise ClientException(
            f"Unknown query parameter{'s' if len(unknown) > 1 else ''} {names}; "
            f"this operation takes: {allowed}.",
            extra={"field": unknown[0][:40]},
        )


NUL_REFUSED = "Text may not contain the NUL character (\\u0000); remove it and send again."
MAX_JSON_DEPTH = 64
"""Arrays and objects inside each other; nothing the API takes comes near it."""
TOO_DEEP = (
    f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep (arrays or objects inside "
    "each other); send flatter data."
)


async def _check_json(request: Request[Any, Any, Any], body: bytes) -> None:
    """A JSON body that is nested too deeply (the decoder would run out of stack: a 500)
    or holds the NUL character is a 400, for every route. The decoded value is kept by
    Litestar, so the handler does not decode the body a second time."""
    if body.lstrip()[:1] not in (b"[", b"{"):
        return  # not JSON (a form, or a scalar that nests nothing)
    if b"\\u0000" not in body and body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return  # too few brackets to be too deep: no need to decode here
    try:
        value = await request.json()
    except RecursionError:
        raise ClientException(TOO_DEEP) from None
    except Exception:
        return  # not JSON: the handler's decoder answers 400
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise ClientException(NUL_REFUSED)
        elif isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise ClientException(TOO_DEEP)
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                if isinstance(key, str):
                    stack.append((key, depth))
                stack.append((child, depth + 1))


def _integrity_error(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # A unique constraint lost a race: a conflict the person can retry, not a server fault.
    log.info("integrity error: %s", type(exc).__name__)
    return Response(
        {"status_code": 409, "detail": "This conflicts with existing data; reload and try again."},
        status_code=HTTP_409_CONFLICT,
    )


@get("/health", tags=["platform"])
async def health() -> Response[HealthOut]:
    """Database and broker reachability, for load balancers and monitoring."""
    from core.worker import check_broker, get_broker

    try:
        await raw("SELECT 1")
        db_ok = True
    except Exception:
        db_ok = False
    broker_ok = check_broker(get_broker())
    status: Literal["ok", "degraded"] = "ok" if db_ok and broker_ok else "degraded"
    return Response(
        HealthOut(status=status, database=db_ok, broker=broker_ok),
        status_code=200 if status == "ok" else 503,
    )


def _integrity_types() -> list[type[Exception]]:
    import sqlite3

    types: list[type[Exception]] = [sqlite3.IntegrityError]
    try:
        import asyncpg

        types.append(asyncpg.exceptions.IntegrityConstraintViolationError)
    except ImportError:  # pragma: no cover
        pass
    return types


def _tenant_scope_middleware(app: Any) -> Any:
    """Each HTTP request gets its own tenant scope, which authentication narrows to the
    request's tenant (PostgreSQL row-level security; see core.rls)."""

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        with request_scope(), request_context():
            await app(scope, receive, send)

    return middleware


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CROSS_SITE_REFUSED = (
    "This request came from another website and was refused. Use Gallra's own pages, or "
    "call the API from a script or integration."
)
JSON_ONLY = "The API takes JSON only: send the body with Content-Type: application/json."


def check_api_request(headers: Any, method: str) -> None:
    """The JSON API's edge, for every route under ``/api/`` (login CSRF, finding #17.9).

    A browser lets any website send a form or a ``text/plain`` body to another site, with
    that site's cookies, but no ``application/json`` body (that needs CORS, which Gallra
    does not answer). So a state-changing request is refused (403) when a browser says it
    comes from another site (``Origin`` or ``Sec-Fetch-Site``), and a body that is not
    ``application/json`` is a 415. Scripts and integrations send neither header and JSON,
    so they pass; the pages (outside ``/api/``) have their own CSRF tokens."""
    if method in SAFE_METHODS:
        return
    if cross_site(headers):
        raise PermissionDeniedException(CROSS_SITE_REFUSED)
    length = headers.get("content-length")
    has_body = "transfer-encoding" in headers or (length is not None and length.strip() != "0")
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if has_body and media_type != "application/json":
        raise HTTPException(status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE, detail=JSON_ONLY)


def _api_edge_middleware(app: Any) -> Any:
    """:func:`check_api_request` before any route of ``/api/`` runs, its guards included."""

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS and scope["path"].startswith("/api/"):
            check_api_request(Headers.from_scope(scope), scope["method"])  # (a safe method passes)
        await app(scope, receive, send)

    return middleware


def _metrics_route() -> Any:
    """``GET /metrics`` for Prometheus (:mod:`core.metrics`), guarded like the platform
    API: the bearer token of GALLRA_PLATFORM_TOKEN, closed when none is set."""
    from core.metrics import render
    from core.routes.platform import platform_guard

    @get("/metrics", guards=[platform_guard], include_in_schema=False, sync_to_thread=False)
    def metrics() -> Response[bytes]:
        return Response(render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return metrics


def _observability_middleware() -> list[Any]:
    from core.metrics import metrics_middleware

    return [metrics_middleware]


def module_settings(host: PluginHost, name: str, mounted: set[Any]) -> list[Any]:
    """The gear of a module that owns retention rules: ``GET/PUT /api/<module>/settings``
    and the page ``/<module>/settings``, derived from its declarations, so no plugin wires
    them by hand. A service plugin (no module, such as two-factor) has its own settings; a
    plugin that mounts either path itself (``mounted``: its handlers' paths) keeps its own."""
    from core.gdpr.registry import get_declarations
    from core.gdpr.routes import module_settings_router
    from core.pages.records import module_settings_pages

    if name not in host.modules() or not get_declarations(host).rules_of_module(name):
        return []
    api = [] if f"/api/{name}/settings" in mounted else [module_settings_router(name)]
    return api + ([] if f"/{name}/settings" in mounted else [module_settings_pages(name)])


def create_app(
    host: PluginHost | None = None, check_migrations: bool = True, debug: bool = False
) -> Litestar:
    host = host or get_host()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if check_migrations:
            pending = await pending_migrations()
            if pending:
                raise PendingMigrations(
                    f"{len(pending)} database migration(s) have not been applied "
                    f"({', '.join(pending[:5])}). Run: gallra migrate"
                )
        async with pooled():  # PostgreSQL: at most GALLRA_DB_POOL_MAX connections per process
            results = host.hook.start_up(app=app)
            try:
                for result in results:
                    await await_me_maybe(result)
            finally:
                for result in results:  # a start-up that failed leaves the rest unstarted
                    if inspect.iscoroutine(result):
                        result.close()
            yield

    plugin_routers = []
    from core.pages.routes import page_routers
    from core.web import module_guard

    modules = host.modules()
    for impl in host.pm.hook.register_routes.get_hookimpls():
        answer: Any = impl.function()  # pluggy types a hook's answer as object
        name = impl.plugin_name
        handlers = list(answer or [])
        handlers += module_settings(host, name, {getattr(h, "path", None) for h in handlers})
        if not handlers:
            continue
        guards = [module_guard(name)] if name in modules else []
        plugin_routers.append(Router(path="/", route_handlers=handlers, guards=guards))

    exception_handlers: dict[Any, Any] = {
        **api_exception_handlers(),
        TenancyError: _tenancy_error,
    }
    for t in _integrity_types():
        exception_handlers[t] = _integrity_error
    exception_handlers[RequestEntityTooLarge] = _too_large

    app = Litestar(
        route_handlers=[
            health,
            _metrics_route(),
            AuthController,
            PlatformController,
            ModulesController,
            EmployeesController,
            GroupsController,
            *plugin_routers,
            *page_routers(),
        ],
        dependencies={"user": Provide(provide_user), "admin": Provide(provide_admin)},
        exception_handlers=exception_handlers,
        openapi_config=OpenAPIConfig(
            title="Gallra",
            version="0.1.0",
            path="/schema",
            description=API_DESCRIPTION,
            components=Components(security_schemes=dict(SECURITY_SCHEMES)),
            use_handler_docstrings=True,
        ),
        lifespan=[lifespan],
        request_max_body_size=MAX_BODY,
        before_request=_check_request,
        middleware=[*_observability_middleware(), _tenant_scope_middleware, _api_edge_middleware],
        debug=debug,
    )
    app.state.host = host
    document_api(app)
    return app


__all__ = ["HTTPException", "create_app"]
