"""Form-encoded request bodies and query strings, read the way Twilio reads them.

Parameters are case-sensitive (``To``, ``From``); those we do not implement are accepted and
ignored, so requests written for Twilio keep working. Repeated parameters keep every value.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final
from urllib.parse import parse_qsl

from starlette.requests import Request

from marconi.api.problem import ApiError
from marconi.errors import ValidationError

__all__ = ["Form", "read_form"]

_FORM_TYPES: Final = ("application/x-www-form-urlencoded", "")
_TRUE: Final = frozenset({"true", "1", "yes"})
_FALSE: Final = frozenset({"false", "0", "no"})


class Form:
    """Parameters by name; ``get`` gives the last value, ``all`` every value."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            self._values.setdefault(name, []).append(value)

    @classmethod
    def from_query(cls, query: str) -> Form:
        return cls(parse_qsl(query, keep_blank_values=True))

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def get(self, name: str) -> str | None:
        values = self._values.get(name)
        return None if not values else values[-1]

    def all(self, name: str) -> list[str]:
        return list(self._values.get(name, ()))

    def as_dict(self) -> Mapping[str, str]:
        return {name: values[-1] for name, values in self._values.items()}

    def text(self, name: str) -> str | None:
        """A parameter with surrounding blanks dropped; None when absent or empty."""
        value = self.get(name)
        if value is None or not value.strip():
            return None
        return value.strip()

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.text(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValidationError(
            f"{name} must be true or false, got {value!r}", code="invalid_value", field=name
        )

    def integer(self, name: str, *, low: int, high: int) -> int | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            number = int(value)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            raise ValidationError(
                f"{name} must be a whole number from {low} to {high}, got {value!r}",
                code="invalid_value",
                field=name,
            )
        return number

    def time(self, name: str) -> datetime | None:
        """An ISO 8601 date-time (``2026-05-01T09:30:00Z``) or an RFC 2822 date."""
        value = self.text(name)
        if value is None:
            return None
        return parse_datetime(value, field=name)


def parse_datetime(value: str, *, field: str) -> datetime:
    text = value.strip()
    parsed: datetime | None
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "zZ" else text)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            parsed = None
    if parsed is None:
        raise ValidationError(
            f"{field} must be an ISO 8601 date-time like 2026-05-01T09:30:00Z, got {value!r}",
            code="invalid_datetime",
            field=field,
        )
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


async def read_form(request: Request, *, max_bytes: int) -> Form:
    """The urlencoded body (a JSON or multipart body is refused with a clear error)."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in _FORM_TYPES:
        raise ValidationError(
            f"the body must be application/x-www-form-urlencoded, not {media}",
            code="invalid_body",
            field=None,
        )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise ApiError(413, f"the body is larger than {max_bytes} bytes", code="too_large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError("the body is not UTF-8", code="invalid_utf8", field=None) from None
    return Form(parse_qsl(text, keep_blank_values=True))
