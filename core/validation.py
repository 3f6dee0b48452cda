"""Validation helpers every module uses: phones, e-mail addresses, Swedish id numbers."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers

from core.errors import Invalid, _

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,253}\.[^@\s.]{2,63}$")


class FieldError(Invalid):
    """Bad input in one named field; becomes a 400 that names the field.

    The older name of :class:`core.errors.Invalid` with a field always given."""

    def __init__(self, field: str, message: str, /, *, code: str | None = None, **params: Any):
        super().__init__(field, message, code=code, **params)


NOT_A_NUMBER = _("This must be a number.")
TOO_MANY_DECIMALS = _("This may have at most %(decimals)s decimals.")
NOT_ABOVE = _("This must be more than %(low)s and at most %(high)s.")
NOT_BETWEEN = _("This must be between %(low)s and %(high)s.")


def decimal_value(
    value: Decimal | int | str,
    field: str,
    *,
    high: Decimal,
    low: Decimal = Decimal(0),
    low_allowed: bool = False,
    decimals: int = 2,
) -> Decimal:
    """A finite decimal in ``(low, high]`` (``[low, high]`` with ``low_allowed``) with at
    most ``decimals`` decimals: amounts (two), quantities (three), hours. The one check of
    numbers every module asks, with one set of messages and codes (``not_a_number``,
    ``out_of_range``, ``too_many_decimals``)."""
    try:
        number = Decimal(value)
        if not number.is_finite():
            raise FieldError(field, NOT_A_NUMBER, code="not_a_number")
        if number < low or (number == low and not low_allowed) or number > high:
            message = NOT_BETWEEN if low_allowed else NOT_ABOVE
            raise FieldError(field, message, code="out_of_range", low=low, high=high)
        step = Decimal(1).scaleb(-decimals)
        if number != number.quantize(step):
            raise FieldError(field, TOO_MANY_DECIMALS, code="too_many_decimals", decimals=decimals)
        return number.quantize(step)
    except InvalidOperation as exc:
        raise FieldError(field, NOT_A_NUMBER, code="not_a_number") from exc


def normalize_phone(value: str | None, field: str = "phone", region: str = "SE") -> str | None:
    """Parse a phone number written any way and store it as E.164 (+46701234567).

    Error messages never repeat the value: it is personal data, and messages end up in logs.
    """
    if value is None or not value.strip():
        return None
    raw = value.strip()
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise FieldError(
            field, "this is not a phone number; write it like 070-123 45 67 or +46 70 123 45 67", code="phone_invalid"
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise FieldError(
            field,
            "this is not a valid phone number; write it like 070-123 45 67 or +46 70 123 45 67",
            code="phone_invalid",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(value: str | None, field: str = "email", required: bool = False) -> str | None:
    if value is None or not value.strip():
        if required:
            raise FieldError(field, "an e-mail address is required")
        return None
    email = value.strip().lower()
    if not EMAIL_RE.match(email):
        raise FieldError(field, "this is not an e-mail address; write it like name@example.se")
    return email


POSTCODE_INVALID = _("Write a Swedish postcode of five digits, like 852 30.")


def normalize_postcode(value: str | None, field: str = "postcode") -> str:
    """A Swedish postcode as it is written, "852 30" (five digits, the first not 0);
    empty stays empty. Error code ``postcode_invalid``."""
    if value is None or not value.strip():
        return ""
    raw = re.sub(r"[\s\u00a0]", "", value.strip())
    if raw.upper().startswith("SE-"):
        raw = raw[3:]
    if not re.fullmatch(r"[1-9]\d{4}", raw):
        raise FieldError(field, POSTCODE_INVALID, code="postcode_invalid")
    return f"{raw[:3]} {raw[3:]}"


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(digits):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def normalize_national_id(value: str | None, field: str = "national_id", today: date | None = None) -> str | None:
    """A Swedish personal identity number (or co-ordination number) as YYYYMMDD-XXXX.

    Accepts YYMMDD-XXXX, YYMMDDXXXX, YYYYMMDD-XXXX, YYYYMMDDXXXX, and ``+`` for people aged
    100 or more. The check digit (Luhn over the last ten digits) and the date are verified.
    """
    if value is None or not value.strip():
        return None
    raw = value.strip().replace(" ", "")
    today = today or date.today()
    m = re.fullmatch(r"(\d{2})?(\d{6})([-+]?)(\d{4})", raw)
    if not m:
        raise FieldError(field, "write the personal identity number as YYYYMMDD-XXXX")
    century, ymd, sep, last4 = m.groups()
    ten = ymd + last4
    if not luhn_ok(ten):
        raise FieldError(field, "the check digit of the personal identity number is wrong")
    yy, mm, dd = int(ymd[:2]), int(ymd[2:4]), int(ymd[4:6])
    if century is None:
        year = (today.year // 100) * 100 + yy
        if year > today.year:
            year -= 100
        if sep == "+":
            year -= 100
    else:
        year = int(century + ymd[:2])
    day = dd - 60 if dd > 60 else dd  # co-ordination numbers add 60 to the day
    try:
        date(year, mm, day)
    except ValueError as exc:
        raise FieldError(field, "the personal identity number holds no valid date") from exc
    return f"{year:04d}{ymd[2:]}-{last4}"


def normalize_org_number(value: str | None, field: str = "org_number") -> str | None:
    """A Swedish organization number as NNNNNN-NNNN (third digit 2 or more, Luhn)."""
    if value is None or not value.strip():
        return None
    raw = re.sub(r"[\s-]", "", value.strip())
    if len(raw) == 12 and raw.startswith("16"):
        raw = raw[2:]
    if not re.fullmatch(r"\d{10}", raw) or int(raw[2]) < 2:
        raise FieldError(field, "write the organization number as NNNNNN-NNNN")
    if not luhn_ok(raw):
        raise FieldError(field, "the check digit of the organization number is wrong")
    return f"{raw[:6]}-{raw[6:]}"
