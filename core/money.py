"""Amounts of money as people read them, in one place for pages and messages alike: the
pages' ``money`` filter (core.pages.formats) and an SMS that names an amount
(core.approvals.code_sms) format the same way. Kernel: no web, no database."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import format_currency, format_decimal

LOCALES = {"sv": "sv_SE", "en": "en_GB"}
CURRENCY = "SEK"


def _locale(lang: str | None) -> str:
    return LOCALES.get(lang or "sv", "sv_SE")


def to_decimal(value: Any) -> Decimal | None:
    """A finite number from a value (a Decimal, an int, "1 234.50"), else None."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).replace(" ", "").replace("\u00a0", ""))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def format_money(value: Any, lang: str = "sv", currency: str = CURRENCY, *, whole: bool = False) -> str:
    """An amount with two decimals and the currency: "20 925,00 kr" / "SEK 20,925.00".
    ``whole``: a whole amount without its decimals ("2 500 kr"), as a short message says
    it."""
    number = to_decimal(value)
    if number is None:
        return "" if value is None else str(value)
    short = whole and number == number.to_integral_value()
    if lang == "en":
        pattern = "#,##0" if short else "#,##0.00"
        return f"{currency} {format_decimal(number, format=pattern, locale=_locale(lang))}"
    if short:
        return str(format_currency(number, currency, format="#,##0 ¤", locale=_locale(lang), currency_digits=False))
    return str(format_currency(number, currency, locale=_locale(lang), currency_digits=True))
