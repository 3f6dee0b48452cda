"""Server-rendered web pages: the Jinja2 environment, language, CSRF and page helpers.

Pages live beside the code they show: core pages in :mod:`core.pages.routes`, a plugin's
pages in ``plugins/<name>/pages.py`` with templates in ``plugins/<name>/templates/<name>/``,
returned from the plugin's ``register_routes`` like its API. The environment finds every
plugin's ``templates`` folder through the plugin host (core imports no plugin), so a page
template of a plugin extends ``base.html`` and uses the macros in ``macros.html``.

Language: Swedish unless the person chose another (the ``gallra_lang`` cookie set by the
switch in the footer), else the employee's own language, else the organization's. Texts are
gettext messages with English ids; core's catalogs are in ``core/locale``, a plugin may add
``plugins/<name>/locale/<lang>/LC_MESSAGES/messages.mo`` that is merged over them.

CSRF: every page form carries the token of the ``gallra_csrf`` cookie (double submit) and
:func:`read_form` refuses a POST whose token does not match, or whose Origin is another site.
Only page routes call it; the JSON API (fetch with a JSON body, which a cross-site form
cannot send) is unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, unquote, urlsplit

from babel.support import NullTranslations, Translations
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, select_autoescape
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect

from core.auth import SessionUser
from core.errors import GallraError, _
from core.pages import formats
from core.security import constant_equals, new_token
from core.web import cross_site, is_https, user_of

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
LOCALE_DIR = HERE.parent / "locale"
LANGUAGES = ("sv", "en")
DEFAULT_LANGUAGE = "sv"
LANG_COOKIE = "gallra_lang"
CSRF_COOKIE = "gallra_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
FLASH_COOKIE = "gallra_flash"
_STATE_CSRF = "gallra_new_csrf"
_STATE_LANG = "gallra_lang"


class LoginRequired(HTTPException):
    """A page needs a logged-in person: the handler answers with a redirect to /login (an
    employee's), or to ``login_page`` when the page has its own login (the portal's)."""

    status_code = 401

    def __init__(self, *args: Any, login_page: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.login_page = login_page


class CsrfRefused(HTTPException):
    status_code = 403


# --- plugins' folders -------------------------------------------------------------------


def _plugin_dirs(sub: str) -> dict[str, Path]:
    """``{plugin name: its <sub> folder}`` for every installed plugin that has one."""
    from core.plugins import get_host

    found: dict[str, Path] = {}
    for name, plugin in get_host().pm.list_name_plugin():
        file = getattr(plugin, "__file__", None)
        if not file:
            continue
        folder = Path(file).parent / sub
        if folder.is_dir():
            found[name] = folder
    return found


@lru_cache(maxsize=8)
def _environment(host_id: int) -> Environment:
    plugin_loaders = {
        name: FileSystemLoader(str(folder / name))
        for name, folder in _plugin_dirs("templates").items()
        if (folder / name).is_dir()
    }
    env = Environment(
        loader=ChoiceLoader(
            [FileSystemLoader(str(HERE / "templates")), PrefixLoader(plugin_loaders)]
        ),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        enable_async=False,
    )
    formats.install(env)
    return env


def environment() -> Environment:
    from core.plugins import get_host

    return _environment(id(get_host()))


@lru_cache(maxsize=8)
def _translations(lang: str, host_id: int) -> NullTranslations:
    if lang not in LANGUAGES:
        lang = DEFAULT_LANGUAGE
    base: NullTranslations = Translations.load(str(LOCALE_DIR), [lang], domain="messages")
    if not isinstance(base, Translations):
        base = Translations()
    for folder in _plugin_dirs("locale").values():
        extra = Translations.load(str(folder), [lang], domain="messages")
        if isinstance(extra, Translations):
            base.merge(extra)
    return base


def translations(lang: str) -> NullTranslations:
    from core.plugins import get_host

    return _translations(lang, id(get_host()))


# --- language ---------------------------------------------------------------------------


def language_of(connection: ASGIConnection[Any, Any, Any, Any], user: SessionUser | None) -> str:
    """The chosen language (cookie), else the person's or the organization's, else Swedish."""
    chosen = connection.cookies.get(LANG_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    if user is not None and user.language in LANGUAGES:
        return user.language
    return DEFAULT_LANGUAGE


def label(obj: Any, lang: str, base: str = "label") -> str:
    """``label_sv``/``label_en`` (or another base name) of a declaration, in the language."""
    return str(getattr(obj, f"{base}_{lang}", "") or getattr(obj, f"{base}_sv", "") or "")


# --- CSRF -------------------------------------------------------------------------------


def csrf_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """This browser's token, made on its first page (and set by :func:`render`)."""
    token = connection.cookies.get(CSRF_COOKIE, "")
    if token and 20 <= len(token) <= 128:
        return token
    state = connection.scope.setdefault("state", {})
    if _STATE_CSRF not in state:
        state[_STATE_CSRF] = new_token()
    return str(state[_STATE_CSRF])


def _csrf_cookie(connection: ASGIConnection[Any, Any, Any, Any], token: str) -> Cookie:
    return Cookie(
        key=CSRF_COOKIE,
        value=token,
        httponly=True,
        samesite="lax",
        secure=is_https(connection),
        path="/",
    )


def _same_origin(request: Request[Any, Any, Any]) -> bool:
    return not cross_site(request.headers)  # the same rule as the JSON API's (core.app)


async def read_form(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The POSTed form as ``{name: value}`` (last value wins; see :func:`read_form_lists`),
    after the CSRF check. Every page POST handler starts with this."""
    values = await read_form_lists(request)
    return {k: v[-1] for k, v in values.items()}


async def read_form_lists(request: Request[Any, Any, Any]) -> dict[str, list[str]]:
    form = await request.form()
    values: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            values.setdefault(key, []).append(value)
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = (values.get(CSRF_FIELD) or [""])[-1] or request.headers.get(CSRF_HEADER, "")
    if not cookie or not sent or not constant_equals(cookie, sent) or not _same_origin(request):
        raise CsrfRefused(
            _("The form was too old or came from another site. Reload the page and try again.")
        )
    values.pop(CSRF_FIELD, None)
    return values


# --- users ------------------------------------------------------------------------------


async def page_user(request: Request[Any, Any, Any]) -> SessionUser:
    """The logged-in employee, or :class:`LoginRequired` (a redirect to the login page)."""
    user = await user_of(request)
    if user is None:
        raise LoginRequired(_("Log in first."))
    return user


async def page_admin(request: Request[Any, Any, Any]) -> SessionUser:
    user = await page_user(request)
    if not user.is_admin:
        raise PermissionDeniedException(_("Only an administrator of the organization may do this."))
    return user


# --- flash messages ---------------------------------------------------------------------


def set_flash(response: Response[Any], message: str) -> Response[Any]:
    """A one-time notice shown on the next page (after a redirect)."""
    response.set_cookie(FLASH_COOKIE, quote(message[:500]), httponly=True, samesite="lax", path="/")
    return response


def redirect(path: str, flash: str | None = None) -> Response[Any]:
    response: Response[Any] = Redirect(path=path, status_code=303)
    if flash:
        set_flash(response, flash)
    return response


def safe_next(value: str | None, default: str = "/") -> str:
    """A local path to go on to after login; anything else (another site) is the default."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value


# --- navigation -------------------------------------------------------------------------


@dataclass
class NavItem:
    name: str
    label: str
    description: str
    href: str | None
    current: bool


def _page_paths(request: Request[Any, Any, Any]) -> set[str]:
    cache = request.app.state.get("gallra_page_paths")
    if cache is None:
        cache = {route.path for route in request.app.routes}
        request.app.state["gallra_page_paths"] = cache
    return cache


def account_links(request: Request[Any, Any, Any]) -> list[tuple[str, str]]:
    """``(path, message id)`` of every page route marked ``opt={"account_menu": text}``: the
    person's own pages (such as their remembered devices), shown beside their name."""
    cache = request.app.state.get("gallra_account_links")
    if cache is None:
        found: dict[str, str] = {}
        for route in request.app.routes:
            for handler in getattr(route, "route_handlers", ()):
                text = (handler.opt or {}).get("account_menu")
                if text and "{" not in route.path:
                    found[route.path] = str(text)
        cache = sorted(found.items())
        request.app.state["gallra_account_links"] = cache
    return cache


async def navigation(request: Request[Any, Any, Any], user: SessionUser, lang: str) -> list[NavItem]:
    """The organization's enabled modules; a module with pages at ``/<name>`` is a link."""
    from core.plugins import get_host
    from core.tenancy import enabled_modules

    host = get_host()
    enabled = await enabled_modules(host, user.tenant_id)
    paths = _page_paths(request)
    items = []
    for name, info in host.modules().items():
        if name not in enabled:
            continue
        href = f"/{name}" if f"/{name}" in paths else None
        items.append(
            NavItem(
                name=name,
                label=label(info, lang),
                description=label(info, lang, "description"),
                href=href,
                current=href is not None and (
                    request.url.path == href or request.url.path.startswith(href + "/")
                ),
            )
        )
    items.sort(key=lambda i: i.label.lower())
    return items


# --- rendering --------------------------------------------------------------------------


async def render(
    request: Request[Any, Any, Any],
    template: str,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
    user: SessionUser | None = None,
) -> Response[str]:
    """Render a page with the person's language, the CSRF token, navigation and flash."""
    if user is None:
        user = await user_of(request)
    lang = language_of(request, user)
    nav = await navigation(request, user, lang) if user is not None else []
    return render_now(request, template, context, status_code, user, nav)


def render_now(
    request: Request[Any, Any, Any],
    template: str,
    context: Mapping[str, Any] | None,
    status_code: int,
    user: SessionUser | None,
    nav: list[NavItem],
) -> Response[str]:
    lang = language_of(request, user)
    t = translations(lang)
    token = csrf_token(request)
    flash_raw = request.cookies.get(FLASH_COOKIE)
    ctx: dict[str, Any] = {
        "_": t.gettext,
        "gettext": t.gettext,
        "ngettext": t.ngettext,
        "lang": lang,
        "languages": LANGUAGES,
        "user": user,
        "csrf_token": token,
        "csrf_field": CSRF_FIELD,
        "request": request,
        "path": request.url.path,
        "flash": unquote(flash_raw) if flash_raw else None,
        "nav": nav,
        "errors": {},
        "values": {},
        "label": lambda obj, base="label": label(obj, lang, base),
        "account_links": account_links(request) if user is not None else [],
    }
    ctx.update(context or {})
    html = environment().get_template(template).render(ctx)
    response: Response[str] = Response(
        html,
        status_code=status_code,
        media_type="text/html; charset=utf-8",
        headers={
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "same-origin",
            "Content-Security-Policy": (
                "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                "script-src 'self'; frame-ancestors 'none'; form-action 'self'"
            ),
        },
    )
    if request.cookies.get(CSRF_COOKIE) != token:
        response.cookies.append(_csrf_cookie(request, token))
    if flash_raw:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def t_for(request: Request[Any, Any, Any], user: SessionUser | None) -> NullTranslations:
    return translations(language_of(request, user))


__all__ = [
    "CsrfRefused",
    "LoginRequired",
    "environment",
    "language_of",
    "page_admin",
    "page_user",
    "read_form",
    "read_form_lists",
    "redirect",
    "render",
    "safe_next",
    "set_flash",
    "t_for",
    "translations",
]


# --- errors on pages --------------------------------------------------------------------


def _error_page(request: Request[Any, Any, Any], status: int, message: str) -> Response[str]:
    # Exception handlers are synchronous: the person looked up earlier in this request (if
    # any) gives the language and the header; no navigation on an error page.
    state = request.scope.get("state", {})
    user = state.get("gallra_user") if isinstance(state, dict) else None
    return render_now(
        request, "error.html", {"status": status, "message": message}, status, user, []
    )


def _on_login_required(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    login_page = getattr(exc, "login_page", None)
    if login_page is not None:
        return Redirect(path=login_page, status_code=303)
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    if request.headers.get("hx-request") == "true":
        # An htmx request (a picker's suggestions, a live filter) after the session ended:
        # the whole page goes to the login page, instead of a login form inside a list.
        back = request.headers.get("hx-current-url", "")
        back_path = urlsplit(back).path + (("?" + urlsplit(back).query) if urlsplit(back).query else "")
        target = safe_next(back_path, target)
        return Response("", status_code=204, headers={"HX-Redirect": f"/login?next={quote(target, safe='')}"})
    return Redirect(path=f"/login?next={quote(target, safe='')}", status_code=303)


def page_error(request: Request[Any, Any, Any], status: int, message: str) -> Response[str]:
    """An error page (``message`` already translated, or a message id the page translates)."""
    return _error_page(request, status, message)


def _on_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    from core.refusals import coded

    err = coded(exc)
    if err is not None:
        # the framework's refusal of the request's shape, coded and in the page's language
        return _on_gallra_error(request, err)
    return _error_page(request, exc.status_code, exc.detail)


def _on_gallra_error(request: Request[Any, Any, Any], exc: GallraError) -> Response[Any]:
    # A refusal the handler did not show beside a field itself: still a page a person can
    # read, in the page's language (the message is translated here, not in the service).
    state = request.scope.get("state", {})
    user = state.get("gallra_user") if isinstance(state, dict) else None
    return _error_page(request, exc.status, exc.text(translations(language_of(request, user))))


def page_exception_handlers() -> dict[Any, Any]:
    """Exception handlers for page routes: HTML instead of the API's problem details."""
    return {
        LoginRequired: _on_login_required,
        HTTPException: _on_http_exception,
        GallraError: _on_gallra_error,
    }


from functools import partial  # noqa: E402

from litestar import Controller, get, post  # noqa: E402

# Page handlers are not part of the API: they stay out of the OpenAPI document.
page_get = partial(get, include_in_schema=False)
page_post = partial(post, include_in_schema=False)


class PageController(Controller):
    """Base of every page controller: HTML errors, a redirect to login, no OpenAPI entry.

    ``steps`` declares the buttons on a record's page that each take the record one step
    (a request marked verified, an incident's authority notified): ``{path: step}`` gives
    ``POST /{record_id}/<path>``, answered by the controller's own
    ``_step(request, record_id, step)``, so a page states its steps once instead of
    writing a handler per button."""

    include_in_schema = False
    exception_handlers = page_exception_handlers()
    steps: ClassVar[Mapping[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for path, step in cls.__dict__.get("steps", {}).items():
            setattr(cls, f"step_{step}", _step_handler(path, step))


def _step_handler(path: str, step: str) -> Any:
    """The handler of one of ``PageController.steps``."""

    async def handler(self: Any, request: Request[Any, Any, Any], record_id: FromPath[int]) -> Response[Any]:
        return await self._step(request, record_id, step)

    handler.__name__ = handler.__qualname__ = f"step_{step}"
    return page_post(f"/{{record_id:int}}/{path}")(handler)
