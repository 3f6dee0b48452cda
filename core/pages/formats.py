"""Swedish (and English) formats of what a page shows, in one place: Jinja filters.

``{{ total|money }}`` "20 925,00 kr" (en: "SEK 20,925.00"), ``{{ phone|phone }}``
"070-123 45 67" (a foreign number in international form), ``{{ code|postcode }}`` "852 30",
``{{ when|date }}`` "5 dec. 2026" (en: "Dec 5, 2026"), ``{{ when|datetime }}`` with the time.
Each filter reads the page's language (``lang`` in the template's context), so an English
page gets English formats. Inputs keep their raw values (``<input type="date">`` needs ISO);
these filters are for text that is read. A value that is not what the filter expects is
shown as it is, never an error (a page must render old or odd data).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import phonenumbers
from babel.dates import format_date as babel_date
from babel.dates import format_time as babel_time
from babel.numbers import format_decimal
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from core.money import CURRENCY, LOCALES, format_money
from core.money import _locale as _locale
from core.money import to_decimal as _decimal

__all__ = ["CURRENCY", "LOCALES", "format_money"]


def format_number(value: Any, lang: str = "sv") -> str:
    """A quantity or hours: "1 234,5" / "1,234.5" (as many decimals as it has, at most 3)."""
    number = _decimal(value)
    if number is None:
        return "" if value is None else str(value)
    return str(format_decimal(number.normalize() if number == number.to_integral() else number,
                              format="#,##0.###", locale=_locale(lang)))


def format_phone(value: Any, lang: str = "sv") -> str:
    """A stored number (E.164) as people write it: Swedish ones nationally
    ("070-123 45 67"), others internationally ("+47 22 12 34 56")."""
    if not value:
        return ""
    raw = str(value)
    try:
        number = phonenumbers.parse(raw, "SE")
    except phonenumbers.NumberParseException:
        return raw
    if not phonenumbers.is_possible_number(number):
        return raw
    kind = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 46
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return str(phonenumbers.format_number(number, kind))


def format_postcode(value: Any, lang: str = "sv") -> str:
    """A Swedish postcode as "852 30"; anything else as it is."""
    if not value:
        return ""
    raw = str(value).strip()
    digits = re.sub(r"\s", "", raw)
    if re.fullmatch(r"\d{5}", digits):
        return f"{digits[:3]} {digits[3:]}"
    return raw


def format_date(value: Any, lang: str = "sv") -> str:
    """A date to read: "5 dec. 2026" / "5 Dec 2026"."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if not isinstance(value, (date, datetime)):
        return str(value)
    return str(babel_date(value, format="medium", locale=_locale(lang)))


def format_datetime(value: Any, lang: str = "sv") -> str:
    """A moment to read: "5 dec. 2026 14:30"."""
    if not value:
        return ""
    if not isinstance(value, datetime):
        return format_date(value, lang)
    return f"{format_date(value, lang)} {babel_time(value, format='HH:mm', locale=_locale(lang))}"


def _lang(ctx: Context) -> str:
    return str(ctx.get("lang") or "sv")


FILTERS = {
    "money": format_money,
    "number": format_number,
    "phone": format_phone,
    "postcode": format_postcode,
    "date": format_date,
    "datetime": format_datetime,
}


def install(env: Environment) -> None:
    """Every format as a filter that reads the template's ``lang``."""
    for name, func in FILTERS.items():
        def make(f: Any) -> Any:
            @pass_context
            def _filter(ctx: Context, value: Any, *args: Any) -> str:
                return str(f(value, _lang(ctx), *args))

            return _filter

        env.filters[name] = make(func)
