"""Phone numbers and senders: parsed with libphonenumber, written out in E.164.

A destination is a phone number in international form. A sender (``from``) is one of:

- a phone number, written out in E.164 (``+14155550100``);
- a short code: 3 to 8 digits (``12345``);
- an alphanumeric sender ID: 1 to 11 characters of the GSM-7 default alphabet with at least
  one letter (``Marconi``), as SMSCs carry them (TON 5).

Numbers are checked to be *possible* for their country (right length, known country code), not to
be assigned ones: fictional ranges such as +1 555 01xx must work for tests and demos.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Final

import phonenumbers

from marconi.errors import ValidationError
from marconi.store.model import NumberKind
from marconi.text import gsm7_length

__all__ = ["Sender", "normalize_phone", "parse_sender"]

_SHORT_CODE: Final = re.compile(r"^[0-9]{3,8}$")
_PHONE_CHARS: Final = re.compile(r"^\+?[0-9 ().\-]{3,32}$")
ALPHANUMERIC_MAX: Final = 11


@dataclass(frozen=True, slots=True)
class Sender:
    value: str
    kind: NumberKind


@functools.lru_cache(maxsize=8192)
def _e164(raw: str) -> str | None:
    text = raw.strip()
    if not _PHONE_CHARS.match(text):
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text.startswith("+"):
        return None
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.region_code_for_country_code(number.country_code or 0) == "ZZ":
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_phone(raw: str, *, field: str = "to") -> str:
    """``raw`` in E.164, or ValidationError ``invalid_phone_number``."""
    if not isinstance(raw, str) or not raw:
        raise ValidationError(
            f"{field} is required: a phone number in international form, like +14155550100",
            code="missing_field" if not raw else "invalid_type",
            field=field,
        )
    result = _e164(raw)
    if result is None:
        raise ValidationError(
            f"{field} {raw!r} is not a possible phone number; write it in international form "
            "with the country code, like +14155550100",
            code="invalid_phone_number",
            field=field,
        )
    return result


def parse_sender(raw: str, *, field: str = "from") -> Sender:
    """A sender in canonical form: E.164 number, short code or alphanumeric sender ID."""
    text = raw.strip()
    if not text:
        raise ValidationError(f"{field} must not be empty", code="invalid_sender", field=field)
    if _SHORT_CODE.match(text):
        return Sender(text, NumberKind.SHORT_CODE)
    if text.startswith(("+", "00")) or text[0].isdigit():
        e164 = _e164(text)
        if e164 is None:
            raise ValidationError(
                f"{field} {raw!r} is not a possible phone number; write it in international form "
                "(+14155550100), as a short code of 3 to 8 digits, or as an alphanumeric sender",
                code="invalid_sender",
                field=field,
            )
        return Sender(e164, NumberKind.E164)
    septets = gsm7_length(text)
    if septets is None or septets > ALPHANUMERIC_MAX or not any(c.isalpha() for c in text):
        raise ValidationError(
            f"{field} {raw!r} is not a valid alphanumeric sender: use 1 to {ALPHANUMERIC_MAX} "
            "letters, digits or spaces of the GSM alphabet, with at least one letter",
            code="invalid_sender",
            field=field,
        )
    return Sender(text, NumberKind.ALPHANUMERIC)
