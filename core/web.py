"""Request helpers shared by every route: the current user, guards, cookies."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from core.auth import SessionUser, authenticate
from core.config import get_settings
from core.context import actor_of, bind_actor
from core.errors import _

SESSION_COOKIE = "gallra_session"
_STATE_KEY = "gallra_user"


async def user_of(connection: ASGIConnection[Any, Any, Any, Any]) -> SessionUser | None:
    """The logged-in employee of this request, looked up once and remembered."""
    state = connection.scope.setdefault("state", {})
    if _STATE_KEY not in state:
        user = await authenticate(connection.cookies.get(SESSION_COOKIE))
        state[_STATE_KEY] = user
        if user is not None:
            bind_actor(actor_of(user, client_ip(connection)))
    return state[_STATE_KEY]


async def provide_user(request: Request[Any, Any, Any]) -> SessionUser:
    user = await user_of(request)
    if user is None:
        raise NotAuthorizedException(_("Log in first: no valid session (it may have timed out)."))
    return user


async def provide_admin(request: Request[Any, Any, Any]) -> SessionUser:
    user = await provide_user(request)
    if not user.is_admin:
        raise PermissionDeniedException(_("Only an administrator of the organization may do this."))
    return user


PUBLIC = {"public": True}
"""The ``opt`` of a handler reached through a public link (no login; the token is the key):
:func:`module_guard` lets it through and the handler checks the module's enablement itself."""


def module_guard(module: str) -> Any:
    """A disabled module does not exist for the tenant: every route of it answers 404."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        if handler.opt.get("public"):
            return  # a public link (opt={"public": True}): the handler checks enablement itself
        user = await user_of(connection)
        if user is None:
            return  # public or unauthenticated: the handler decides
        from core.plugins import get_host
        from core.tenancy import enabled_modules

        if module not in await enabled_modules(get_host(), user.tenant_id):
            raise NotFoundException(f"The module {module!r} is not enabled for this organization")

    return guard


def permission_guard(permission: str, message: str) -> Any:
    """Every route it guards needs ``permission`` (:meth:`SessionUser.can`: administrators
    have every one): 403 with ``message`` (a message id, marked where it is written) before
    the handler reads anything. No session: the handler's own login check answers (401, or
    a page's redirect to the login). For a module whose every route and page is for one
    permission (GDPR paperwork: "gdpr"); a record's ``can_open`` still judges each row."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        user = await user_of(connection)
        if user is not None and not user.can(permission):
            raise PermissionDeniedException(message)

    guard.__qualname__ = f"permission_guard.{permission}"
    return guard


def is_https(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    if connection.url.scheme == "https":
        return True
    if get_settings().trust_proxy:
        return connection.headers.get("x-forwarded-proto", "").lower() == "https"
    return False


def same_origin(headers: Any) -> bool:
    """Whether a request's ``Origin`` (when it has one) is this site: the host it was sent
    to, or the host of ``GALLRA_BASE_URL``. ``null`` (a sandboxed frame, a redirect from
    elsewhere) is another site; no ``Origin`` at all (a script, an old browser's GET) is not
    judged here."""
    origin = headers.get("origin")
    if origin is None:
        return True
    if origin == "null":
        return False
    netloc = urlsplit(origin).netloc.lower()
    ours = {headers.get("host", "").lower(), urlsplit(get_settings().base_url).netloc.lower()}
    return bool(netloc) and netloc in ours


def cross_site(headers: Any) -> bool:
    """A request a browser sent from another site: ``Sec-Fetch-Site: cross-site``, or an
    ``Origin`` that is not this site. Scripts and integrations send neither."""
    if headers.get("sec-fetch-site", "").lower() == "cross-site":
        return True
    return not same_origin(headers)


def client_ip(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    if get_settings().trust_proxy:
        forwarded = connection.headers.get("x-forwarded-for", "")
        if forwarded:
            return forwarded.split(",")[0].strip()[:64]
    return (connection.client.host if connection.client else "")[:64]


def private_cookie(
    connection: ASGIConnection[Any, Any, Any, Any], key: str, value: str, max_age: int | None, path: str = "/"
) -> Cookie:
    """A cookie of a login or a step of one: no script reads it (HttpOnly), other sites'
    pages do not send it along (SameSite=Lax), and only over HTTPS when the site is served
    that way (Secure). ``max_age`` None: until the browser closes."""
    return Cookie(
        key=key,
        value=value,
        httponly=True,
        samesite="lax",
        secure=is_https(connection),
        path=path,
        max_age=max_age,
    )


def session_cookie(connection: ASGIConnection[Any, Any, Any, Any], token: str) -> Cookie:
    return private_cookie(connection, SESSION_COOKIE, token, get_settings().session_max_hours * 3600)


def clear_session_cookie(response: Response[Any]) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


# Litestar 2.25 wants every dependency marked: handlers write ``admin: AuthUser``.
from litestar.di import NamedDependency  # noqa: E402

AuthUser = NamedDependency[SessionUser]
