"""Turning a page form into the plugin's API struct, with errors beside the fields."""

from __future__ import annotations

import re
from typing import Any, TypeVar, get_type_hints

import msgspec
from babel.support import NullTranslations
from litestar.exceptions import ClientException

from core.errors import REQUIRED, FieldErrors, GallraError
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
    try:
        built = msgspec.convert(data, cls)
    except msgspec.ValidationError as exc:
        # msgspec stops at the first bad field; each field is checked on its own so that the
        # form shows every message at once (issue #20.7)
        errors |= _each_field(cls, data, t)
        if not errors:
            errors[_field_of(exc)] = t.gettext(_message_of(exc))
        return None, _in_order(errors, values)
    if errors:
        return None, _in_order(errors, values)
    return built, {}


def _field_of(exc: msgspec.ValidationError) -> str:
    match = _PATH.search(str(exc))
    return match.group(1) if match else "_form"


def _message_of(exc: msgspec.ValidationError) -> str:
    text = str(exc)
    if "length <=" in text:
        return TOO_LONG
    if text.startswith("Expected `str` of length >= 1"):
        return REQUIRED
    return NOT_VALID


def _each_field(cls: type[Any], data: dict[str, Any], t: NullTranslations) -> dict[str, str]:
    """The error of every field of ``data`` that ``cls`` refuses, checked one by one."""
    try:
        hints = get_type_hints(cls, include_extras=True)
    except Exception:  # a shape whose annotations cannot be read: the first error only
        return {}
    errors: dict[str, str] = {}
    for key, value in data.items():
        hint = hints.get(key)
        if hint is None:
            continue
        try:
            msgspec.convert(value, hint)
        except msgspec.ValidationError as exc:
            errors[key] = t.gettext(_message_of(exc))
    return errors


def _in_order(errors: dict[str, str], values: dict[str, Any]) -> dict[str, str]:
    """The errors in the form's order (the first one is where the focus goes)."""
    order = {k: n for n, k in enumerate(values)}
    return dict(sorted(errors.items(), key=lambda kv: order.get(kv[0], len(order))))


REFUSED = (GallraError, ClientException)
"""What a service or a handler refuses with; a page catches these and shows :func:`error_of`."""


def error_of(exc: Exception, t: NullTranslations) -> dict[str, str]:
    """A service's refusal as the error to show: beside its field when it names one."""
    if isinstance(exc, FieldErrors):
        out: dict[str, str] = {}
        for one in exc.errors:
            out.setdefault(one.field or "_form", one.text(t))
        return out
    if isinstance(exc, GallraError):
        return {exc.field or "_form": exc.text(t)}
    if isinstance(exc, ClientException):
        return {"_form": t.gettext(str(exc.detail))}
    raise exc
