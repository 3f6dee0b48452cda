"""The OpenAPI document (/schema/openapi.json) as an integrator needs it (#18.9).

Litestar builds the document from the routes; this module adds what it cannot know:

* **Security schemes.** ``sessionCookie``: the employee's session, the cookie
  ``gallra_session`` that ``POST /api/auth/login`` sets (a script keeps it like a browser
  does). ``platformToken``: the platform administrator's bearer token
  (``GALLRA_PLATFORM_TOKEN``) for ``/api/platform``. Each operation names the one it
  needs, found from the route itself: a handler that depends on ``user`` or ``admin``
  (``core.web.provide_user``/``provide_admin``) needs the session; one guarded by
  ``platform_guard`` the token; the others are public (login, password reset, public
  links, the portal's own login, which reads its own cookie) and name none.
* **Error answers.** 401, 403, 404, 409, 413, 415 and 429, each with the RFC 9457
  problem-details schema (:class:`core.listing.Problem`, with the extension members
  ``code`` and ``field``), on the operations that can answer them (see
  :func:`problem_statuses`).

It changes no behaviour: only what the document says. ``document(app)`` runs once in
``create_app``, before the document is first built (Litestar builds it lazily).
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import SecurityScheme
from litestar.routes import HTTPRoute
from litestar.types import Empty

from core.listing import Problem
from core.web import SESSION_COOKIE

SESSION_SCHEME = "sessionCookie"
PLATFORM_SCHEME = "platformToken"

SECURITY_SCHEMES: dict[str, SecurityScheme] = {
    SESSION_SCHEME: SecurityScheme(
        type="apiKey",
        name=SESSION_COOKIE,
        security_scheme_in="cookie",
        description=(
            "The employee's session: POST /api/auth/login with tenant, e-mail and password "
            "sets this cookie; send it back on every call. It ends on logout, after "
            "inactivity, and when the person's role or password changes."
        ),
    ),
    PLATFORM_SCHEME: SecurityScheme(
        type="http",
        scheme="bearer",
        description="The platform administrator's token (GALLRA_PLATFORM_TOKEN), for /api/platform only.",
    ),
}

PROBLEM_MEDIA_TYPE = "application/problem+json"

PROBLEMS: dict[int, str] = {
    401: "Not logged in: no valid session (or platform token); log in and retry.",
    403: "Not allowed: the role or group permissions do not allow this, or a browser sent "
    "the request from another website.",
    404: "Not found: no such record in this organization, or its module is turned off.",
    409: "Conflict: the record's state does not allow this (deleted, anonymized, closed), "
    "or it conflicts with existing data; reload and retry.",
    413: "The request body is larger than 2 MiB.",
    415: "The body is not JSON: send Content-Type: application/json.",
    429: "Too many attempts (logins, reset links, SMS codes); wait and retry later.",
}

SAFE = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
SESSION_DEPENDENCIES = frozenset({"user", "admin"})


def _dependency_keys(handler: Any, path_params: Any) -> set[str]:
    """Every dependency the handler resolves, nested ones included."""
    model = handler.create_kwargs_model(path_parameters=dict.fromkeys(path_params))
    keys: set[str] = set()
    stack = [dep for batch in model.dependency_batches for dep in batch]
    while stack:
        dep = stack.pop()
        keys.add(dep.key)
        stack.extend(dep.dependencies)
    return keys


def security_of(handler: Any, path_params: Any) -> str | None:
    """The security scheme an operation needs, or None when it is public."""
    from core.routes.platform import platform_guard

    if platform_guard in handler.resolve_guards():
        return PLATFORM_SCHEME
    if _dependency_keys(handler, path_params) & SESSION_DEPENDENCIES:
        return SESSION_SCHEME
    return None


def problem_statuses(method: str, path: str, scheme: str | None, has_path_params: bool,
                     module_route: bool) -> list[int]:
    """The error answers an operation can give (beside 400, which Litestar documents):

    401 when it needs a session or token; 403 for a session (role and group permissions)
    and for every state-changing API call (a browser's cross-site request is refused);
    404 for a record in the path, or any route of a module (a module turned off answers
    404); 409, 413, 415 and 429 for a state-changing call (states and unique data;
    bodies; JSON only; throttled logins, reset links and SMS codes)."""
    out: list[int] = []
    writes = method not in SAFE
    if scheme is not None:
        out.append(401)
    if scheme == SESSION_SCHEME or writes:
        out.append(403)
    if has_path_params or module_route:
        out.append(404)
    if writes:
        out += [409, 413, 415, 429]
    return out


def _problem_response(status: int) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem,
        description=PROBLEMS[status],
        media_type=PROBLEM_MEDIA_TYPE,
        generate_examples=False,
    )


_VERBS = {"close": "Close", "reopen": "Reopen", "void": "Void"}
_PREFIXES = ("get_", "list_", "create_", "add_", "edit_", "remove_", "delete_")


def _singular(segment: str) -> str:
    word = segment.replace("-", " ").replace("_", " ")
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _a(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def conventional_description(handler: Any, method: str, path: str) -> str | None:
    """A description for a record's conventional operation without a docstring: one of
    the handler names ``get_one``, ``create``, ``edit``, ``remove``, ``close``,
    ``reopen``, ``void`` or ``get_*``, ``list_*``, ``create_*``, ``add_*``, ``edit_*``,
    ``remove_*``, ``delete_*`` on the usual path: ``/api/<records>`` for the collection,
    ``/api/<records>/{id}`` for one record, ``/api/<parents>/{id}/<records>`` for records
    of a parent. The path names the record. Anything else needs a docstring
    (tests/core/test_openapi_doc.py holds every operation to a description)."""
    name = handler.fn.__name__
    if name not in ("get_one", "create", "edit", "remove", *_VERBS) and not name.startswith(_PREFIXES):
        return None
    segments = [s for s in path.split("/") if s and s != "api"]
    if len(segments) < 2 and not (segments and method in ("GET", "POST")):
        return None
    ids = [i for i, seg in enumerate(segments) if seg.startswith("{")]
    if name in _VERBS:  # /<records>/{id}/close
        if len(segments) < 3 or not segments[-2].startswith("{"):
            return None
        return f"{_VERBS[name]} the {_singular(segments[-3])}."
    if segments[-1].startswith("{"):  # one record: /<records>/{id}
        if len(segments) < 2 or segments[-2].startswith("{"):
            return None
        noun = _singular(segments[-2])
        if method == "GET":
            return f"One {noun}, by its id."
        if method == "PATCH":
            return f"Change the {noun}: the fields sent change, the others stay."
        if method == "DELETE":
            return f"Delete the {noun}."
        return None
    noun = _singular(segments[-1])  # a collection: /<records> or /<parents>/{id}/<records>
    parent = _singular(segments[ids[-1] - 1]) if ids and ids[-1] >= 1 else None
    if method == "GET" and name.startswith(("list_", "get_")):
        plural = segments[-1].replace("-", " ")
        return f"The {parent}'s {plural}." if parent else f"The organization's {plural}."
    if method == "POST" and (name == "create" or name.startswith(("create_", "add_"))):
        return f"Add {_a(noun)} to the {parent}." if parent else f"Create {_a(noun)}."
    return None


def one_line(handler: Any) -> str | None:
    """The operation's summary: the first sentence of its description or docstring, on
    one line (the whole docstring stays its description)."""
    text = (handler.description or handler.fn.__doc__ or "").strip()
    if not text:
        return None
    first = " ".join(text.split("\n\n", 1)[0].split())
    end = first.find(". ")
    sentence = (first[: end + 1] if end != -1 else first).replace("``", "")
    if len(sentence) > SUMMARY_MAX:  # a summary is a line in a list of operations
        sentence = sentence[: SUMMARY_MAX - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return sentence


SUMMARY_MAX = 120


def _is_module_route(handler: Any) -> bool:
    """A route a plugin module registered: core.web.module_guard guards it."""
    return any(getattr(g, "__qualname__", "").startswith("module_guard.") for g in handler.resolve_guards())


def document(app: Litestar) -> None:
    """Name each API operation's security scheme and its error answers (the schemes
    themselves are in the OpenAPIConfig's components: :data:`SECURITY_SCHEMES`)."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/"):
            continue
        path_params = route.path_parameters
        for handler in route.route_handlers:
            if not handler.include_in_schema:
                continue
            method = min(m for m in handler.http_methods if m not in ("HEAD", "OPTIONS"))
            if not handler.description and not (handler.fn.__doc__ or "").strip():
                handler.description = conventional_description(handler, method, route.path)
            if handler.summary is None and (line := one_line(handler)):
                handler.summary = line
            scheme = security_of(handler, path_params)
            if scheme is not None and not handler.security:
                handler.security = [{scheme: []}]
                handler._resolved_security = Empty  # resolved again when the document is built
            statuses = problem_statuses(
                method, route.path, scheme, bool(path_params), _is_module_route(handler)
            )
            responses = dict(handler.responses or {})
            for status in statuses:
                responses.setdefault(status, _problem_response(status))
            handler.responses = responses


__all__ = ["PROBLEMS", "SECURITY_SCHEMES", "document", "problem_statuses", "security_of"]
