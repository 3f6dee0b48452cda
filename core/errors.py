"""The refusals services raise, with a stable code, translated only at the edge.

A service says *what* went wrong as an exception with a machine code (``case.not_open``),
an English message id that is also a gettext msgid (``"Case %(number)s is not closed."``)
and the parameters that fill it. It imports nothing of HTTP. The edge turns it into what
the person in front of it reads:

* the API answers RFC 9457 problem details (``application/problem+json``) with ``code``,
  ``field`` and ``params`` as extension members and ``detail`` in the request's language
  (``Accept-Language``; English by default), see :func:`problem_body`;
* a page shows the message beside the field it names, in the page's language
  (``core.pages.forms.error_of``);
* the CLI prints the English text.

Messages are literal strings, never f-strings: the catalog extraction
(``core/pages/catalog.py``) finds every ``raise Invalid(..., "...")`` in services as well as
pages, and the catalog test fails on a message without a Swedish text. Parameters never
carry a password, code, token or a decrypted value (messages end up in logs); a value the
person typed is not repeated either, only what names the record (its number).
"""

from __future__ import annotations

from typing import Any, Protocol


class _Translations(Protocol):
    def gettext(self, message: str) -> str: ...


class Label(str):
    """A parameter that is itself a message id (the record's kind, "Case"): translated with
    the message, so "Case 5" reads "Ärende 5" on a Swedish page."""


class GallraError(Exception):
    """Base of every refusal a person may see. ``status`` is the HTTP status at the edge."""

    status: int = 400
    default_code: str = "error"
    title: str = "Bad request"

    def __init__(
        self, message: str, /, *, code: str | None = None, field: str | None = None, **params: Any
    ) -> None:
        self.message = message
        self.code = code or self.default_code
        self.field = field
        self.params = params
        super().__init__(f"{field}: {self.text()}" if field else self.text())

    def text(self, t: _Translations | None = None) -> str:
        """The message in the language of ``t`` (English without), parameters filled in."""
        template = t.gettext(self.message) if t is not None else self.message
        if not self.params:
            return template
        params = {
            k: (t.gettext(v) if t is not None and isinstance(v, Label) else v)
            for k, v in self.params.items()
        }
        try:
            return template % params
        except (KeyError, ValueError, TypeError):  # a broken translation: the English one
            return self.message % self.params

    # the same attribute names the older exceptions had, so callers keep working
    @property
    def status_code(self) -> int:
        return self.status

    @property
    def detail(self) -> str:
        return self.text()


class Invalid(GallraError, ValueError):
    """Bad input, usually in one named field: ``Invalid("number", "…", code=…)``."""

    status = 400
    default_code = "invalid"
    title = "Invalid input"

    def __init__(self, field: str | None, message: str, /, *, code: str | None = None, **params: Any):
        super().__init__(message, code=code, field=field, **params)


class FieldErrors(Invalid):
    """Several bad fields at once: a form shows every message beside its field, not only the
    first (issue #20.7). ``errors`` are the single refusals in the order they were found; the
    first one gives this one's field, code and message, so a caller that reads one error
    still reads a sensible one. Raise it with :class:`Checks`."""

    def __init__(self, errors: list[GallraError]) -> None:
        if not errors:
            raise ValueError("FieldErrors needs at least one error")
        first = errors[0]
        super().__init__(first.field, first.message, code=first.code, **first.params)
        self.errors: tuple[GallraError, ...] = tuple(errors)


class Checks:
    """Run a record's field checks and refuse with all of them together::

        checks = Checks()
        email = checks(normalize_email, data.email, "email")
        phone = checks(normalize_phone, data.phone, "phone")
        checks.done()   # raises the one error, or FieldErrors with every one

    A check that raises :class:`Invalid` is recorded and answers None; any other exception
    passes through."""

    def __init__(self) -> None:
        self.errors: list[GallraError] = []

    def __call__(self, check: Any, /, *args: Any, **kwargs: Any) -> Any:
        try:
            return check(*args, **kwargs)
        except FieldErrors as exc:
            self.errors.extend(exc.errors)
        except Invalid as exc:
            self.errors.append(exc)
        return None

    def add(self, exc: GallraError) -> None:
        self.errors.append(exc)

    def failed(self, field: str) -> bool:
        """Whether ``field`` already has an error (a check that needs it valid is skipped)."""
        return any(e.field == field for e in self.errors)

    def done(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise FieldErrors(self.errors)


class NotFound(GallraError):
    """No such record in this organization (also for another organization's ids)."""

    status = 404
    default_code = "not_found"
    title = "Not found"


class Conflict(GallraError):
    """The request is fine but the record's state forbids it (closed, deleted, anonymized)."""

    status = 409
    default_code = "conflict"
    title = "Conflict"


class NeedsConfirmation(Conflict):
    """A warning a person may override: the request is refused (409) until it is sent again
    with ``confirm`` (the name of a true boolean request field, e.g. ``confirm_duplicate``).
    ``link`` is the page of the record the warning is about (a duplicate), shown beside it."""

    default_code = "needs_confirmation"
    title = "Needs confirmation"

    def __init__(
        self, message: str, /, *, confirm: str, code: str | None = None, field: str | None = None,
        link: str = "", **params: Any,
    ) -> None:
        super().__init__(message, code=code, field=field, **params)
        self.confirm = confirm
        self.link = link


class Forbidden(GallraError):
    """The person is known but may not do this."""

    status = 403
    default_code = "forbidden"
    title = "Forbidden"


class TooMany(GallraError):
    """Too many attempts; try again later."""

    status = 429
    default_code = "too_many"
    title = "Too many requests"


def mark(message: str) -> str:
    """Marks an English message id for the catalogs; the edge translates it (a page with
    the person's language, the API's problem details). Every module imports it as ``_``
    (``from core.errors import mark as _``), the name the catalog extraction looks for."""
    return message


_ = mark

# English messages of the standard refusals, listed here so the catalogs translate them.


RECORD_NOT_FOUND = _("%(what)s %(id)s was not found in this organization.")
RECORD_ANONYMIZED = _("%(what)s %(number)s has been anonymized and can no longer be changed.")
RECORD_DELETED = _("%(what)s %(number)s has been deleted and can no longer be changed.")
RECORD_ALREADY_CLOSED = _("%(what)s %(number)s has already been closed.")
RECORD_NOT_CLOSED = _("%(what)s %(number)s has not been closed.")
READ_ONLY = _("You may see this record but not change it.")
NUMBER_TAKEN = _("Number %(number)s is already used in this organization.")
REQUIRED = _("This must not be empty.")
UNKNOWN_CHOICE = _("Choose one of: %(choices)s.")
# The framework's own refusals of a request's shape, coded at the edge (core.problems)
VALUE_NOT_VALID = _("This value is not valid here.")
VALUE_MISSING = _("This is missing from the request.")
BODY_NOT_JSON = _("The request body is not valid JSON; send a JSON document.")
NO_SUCH_PAGE = _("There is no page at this address.")


PROBLEM_TYPE = "https://gallra.org/problems/"


def problem_body(exc: GallraError, t: _Translations | None = None, instance: str = "") -> dict[str, Any]:
    """RFC 9457 problem details of a refusal (``status_code`` kept for older clients)."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + exc.code,
        "title": exc.title,
        "status": exc.status,
        "detail": exc.text(t),
        "code": exc.code,
        "status_code": exc.status,
    }
    if exc.field:
        body["field"] = exc.field
    if exc.params:
        body["params"] = {k: v for k, v in exc.params.items() if isinstance(v, (str, int, float))}
    if isinstance(exc, FieldErrors):
        body["errors"] = [
            {"field": e.field, "code": e.code, "detail": e.text(t)} for e in exc.errors
        ]
    if isinstance(exc, NeedsConfirmation):
        body["confirm"] = exc.confirm  # the request field that confirms
    if instance:
        body["instance"] = instance
    return body


__all__ = [
    "Checks",
    "Conflict",
    "FieldErrors",
    "Forbidden",
    "GallraError",
    "Invalid",
    "Label",
    "NeedsConfirmation",
    "NotFound",
    "TooMany",
    "problem_body",
]
