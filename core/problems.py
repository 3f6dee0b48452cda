"""The API's edge: every refusal as RFC 9457 problem details, in the request's language.

Services raise :mod:`core.errors` exceptions; Litestar's own exceptions (a path id that is
not a number, a body that does not match the schema, a missing session) come from the
framework. Both leave the API the same way: ``application/problem+json`` with ``type``,
``title``, ``status``, ``detail`` and the extension members ``code`` (stable, for programs),
``field`` (the input it is about) and ``params``. ``status_code`` is kept beside ``status``
for clients written against the earlier error body. Page routes have their own handlers
(``core.pages.page_exception_handlers``) that show the same message in HTML.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException

from core.errors import GallraError, problem_body
from core.refusals import coded

PROBLEM_JSON = "application/problem+json"
LANGUAGES = ("sv", "en")

# Litestar's exceptions by status: the code a program can rely on.
HTTP_CODES = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    423: "locked",
    429: "too_many",
    503: "unavailable",
}


def request_language(request: Request[Any, Any, Any]) -> str:
    """The first of sv/en the client accepts (``Accept-Language``); English otherwise, since
    an API client that says nothing is a program, and the codes are English."""
    header = request.headers.get("accept-language", "")
    for part in header.split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return "en"


def translations_of(request: Request[Any, Any, Any]) -> Any:
    """The catalogs of the language the API client asks for (None: English)."""
    lang = request_language(request)
    if lang == "en":
        return None
    from core.pages import translations

    return translations(lang)


def problem(request: Request[Any, Any, Any], exc: GallraError) -> Response[Any]:
    body = problem_body(exc, translations_of(request), instance=request.url.path)
    return Response(body, status_code=exc.status, media_type=PROBLEM_JSON)


def on_gallra_error(request: Request[Any, Any, Any], exc: GallraError) -> Response[Any]:
    return problem(request, exc)


def wants_html(request: Request[Any, Any, Any]) -> bool:
    """A browser asking for a page (not the API, not a program asking for JSON)."""
    path = request.url.path
    if path == "/api" or path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def on_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Litestar's own refusals (and older ``ClientException`` raises) in the same shape."""
    status = exc.status_code
    if status < 500 and wants_html(request):
        # A person's browser at an address no page answers (or a broken link): a page in
        # their language, not JSON.
        from core.pages import page_error

        err = coded(exc)
        return page_error(request, status, err.text(translations_of_page(request)) if err else str(exc.detail))
    err = coded(exc)
    if err is not None:
        coded_body = problem_body(err, translations_of(request), instance=request.url.path)
        if exc.extra:
            coded_body["extra"] = exc.extra  # the framework's own account, for older clients
        return Response(coded_body, status_code=err.status, media_type=PROBLEM_JSON, headers=exc.headers)
    if status >= 500:
        # a server fault says nothing about its cause
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": "Internal server error",
            "status": status,
            "detail": "Something went wrong on our side; it has been logged.",
            "code": "server_error",
            "status_code": status,
        }
        return Response(body, status_code=status, media_type=PROBLEM_JSON)
    t = translations_of(request)
    detail = str(exc.detail)
    body = {
        "type": "about:blank",
        "title": HTTP_CODES.get(status, "error").replace("_", " ").capitalize(),
        "status": status,
        "detail": t.gettext(detail) if t is not None else detail,
        "code": HTTP_CODES.get(status, "error"),
        "status_code": status,
        "instance": request.url.path,
    }
    if exc.extra:
        body["extra"] = exc.extra
        if isinstance(exc.extra, dict) and isinstance(exc.extra.get("field"), str):
            body["field"] = exc.extra["field"]
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=exc.headers)


def translations_of_page(request: Request[Any, Any, Any]) -> Any:
    from core.pages import language_of, translations

    state = request.scope.get("state", {})
    user = state.get("gallra_user") if isinstance(state, dict) else None
    return translations(language_of(request, user))


def api_exception_handlers() -> dict[Any, Any]:
    return {GallraError: on_gallra_error, HTTPException: on_http_exception}
