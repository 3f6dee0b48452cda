"""Turning a page form into the plugin's API struct, with errors beside the fields."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec
from babel.support import NullTranslations
from litestar.exceptions import ClientException

from core.errors import GallraError
from core.errors import mark as _

T = TypeVar("T")
_PATH = re.compile(r"at `\$\.([A-Za-z0-9_]+)`")




TOO_LONG = _("This is too long.")
NOT_VALID = _("This value is not valid here.")
WHOLE_NUMBER = _("Write a whole number.")


def struct_from_form(
    cls: type[T], values: dict[str, Any], t: NullTranslations, ints: tuple[str, ...] = ()
) -> tuple[T | None, dict[str, str]]:
    """``cls`` built from the form values (``ints`` parsed as whole numbers, blank ones
    left out), or the errors by field name."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, value in values.items():
        if key in ints:
            if value is None or str(value).strip() == "":
                continue
            try:
                data[key] = int(str(value).strip())
            except ValueError:
                errors[key] = t.gettext(WHOLE_NUMBER)
            continue
        data[key] = value
    if errors:
        return None, errors
    try:
        return msgspec.convert(data, cls), {}
    except msgspec.ValidationError as exc:
        match = _PATH.search(str(exc))
        field = match.group(1) if match else "_form"
        text = str(exc)
        message = TOO_LONG if "length <=" in text else NOT_VALID
        if "Expected `int`" in text or ">=" in text or ("<=" in text and "length" not in text):
            message = NOT_VALID
        return None, {field: t.gettext(message)}


REFUSED = (GallraError, ClientException)
"""What a service or a handler refuses with; a page catches these and shows :func:`error_of`."""


def error_of(exc: Exception, t: NullTranslations) -> dict[str, str]:
    """A service's refusal as the error to show: beside its field when it names one."""
    if isinstance(exc, GallraError):
        return {exc.field or "_form": exc.text(t)}
    if isinstance(exc, ClientException):
        return {"_form": t.gettext(str(exc.detail))}
    raise exc
