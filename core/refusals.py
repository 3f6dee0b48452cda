"""The framework's refusals of a request's shape as coded, translatable refusals.

Litestar answers a body or parameter that does not validate, or an address no route
answers, with English text of its own ("Validation failed for POST …"). :func:`coded` turns
them into :mod:`core.errors` refusals with a stable code and the field, so the API's problem
details (:mod:`core.problems`) and the pages' error pages (:mod:`core.pages`) translate them
like any service's refusal.
"""

from __future__ import annotations

import re

from litestar.exceptions import HTTPException, NotFoundException, SerializationException, ValidationException

from core.errors import BODY_NOT_JSON, NO_SUCH_PAGE, VALUE_MISSING, VALUE_NOT_VALID, GallraError, Invalid, NotFound

# "Expected `decimal`, got `str` - at `$.lines[0].quantity`", "Object contains unknown field
# `colour`", "Object missing required field `name`": the field the message is about
_NAMED = re.compile(r"(?:at `\$\.|field `)([A-Za-z0-9_.\[\]]+)`")


def coded(exc: HTTPException) -> GallraError | None:
    """Litestar's refusal of a request's shape as a coded, translatable refusal: a body or
    parameter that does not validate names its field (``quantity``, ``lines[0].quantity``)
    with ``invalid_value``/``missing_value``; a body that is not JSON at all (cut off, not
    UTF-8, not JSON) is ``malformed_body``, without msgspec's English account of where it
    broke; a path no route answers is ``not_found``."""
    if isinstance(exc.__cause__, SerializationException):  # Litestar: ClientException(str(e)) from e
        return Invalid(None, BODY_NOT_JSON, code="malformed_body")
    if isinstance(exc, ValidationException):
        problems = exc.extra if isinstance(exc.extra, list) else []
        first = next((p for p in problems if isinstance(p, dict)), {})
        message = str(first.get("message", ""))
        named = _NAMED.search(message)
        key = first.get("key")
        field = named.group(1) if named else (key if isinstance(key, str) and key != "data" else None)
        if message.startswith("Missing required") or "missing required field" in message:
            return Invalid(field, VALUE_MISSING, code="missing_value")
        return Invalid(field, VALUE_NOT_VALID, code="invalid_value")
    if isinstance(exc, NotFoundException) and exc.detail in ("Not Found", "Not found"):
        return NotFound(NO_SUCH_PAGE, code="not_found")
    return None
