"""A verify service's settings: defaults, merging an update, and their checks."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Final

import phonenumbers

from marconi.errors import ValidationError
from marconi.services.address import parse_sender
from marconi.store.verify_model import VerifyService
from marconi.verify.code import CODE_MAX, CODE_MIN

__all__ = [
    "DEFAULTS",
    "ServiceSettings",
    "check_settings",
    "given",
    "merge",
    "sender",
    "settings_of",
]

TTL_RANGE: Final = (30, 24 * 3600)
ATTEMPTS_RANGE: Final = (1, 60)
NAME_MAX: Final = 200
_REGIONS: Final = frozenset(phonenumbers.SUPPORTED_REGIONS)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceSettings:
    """A verify service's settings; None means the default (or, in an update, unchanged)."""

    name: str | None = None
    code_length: int | None = None
    ttl: int | None = None
    max_attempts: int | None = None
    max_sends: int | None = None
    send_window: int | None = None
    prefix_limit: int | None = None
    country_limit: int | None = None
    allowed_countries: tuple[str, ...] | None = None
    template: str | None = None
    locale: str | None = None
    from_: str | None = None


DEFAULTS: Final = ServiceSettings(
    code_length=6,
    ttl=600,
    max_attempts=5,
    max_sends=5,
    send_window=3600,
    prefix_limit=100,
    country_limit=10_000,
    allowed_countries=(),
    locale="en",
)


def merge(base: ServiceSettings, update: ServiceSettings) -> ServiceSettings:
    changes = {
        f.name: getattr(update, f.name)
        for f in dataclasses.fields(update)
        if getattr(update, f.name) is not None
    }
    return dataclasses.replace(base, **changes)


def settings_of(service: VerifyService) -> ServiceSettings:
    return ServiceSettings(
        name=service.name,
        code_length=service.code_length,
        ttl=service.ttl,
        max_attempts=service.max_attempts,
        max_sends=service.max_sends,
        send_window=service.send_window,
        prefix_limit=service.prefix_limit,
        country_limit=service.country_limit,
        allowed_countries=service.allowed_countries,
        template=service.template,
        locale=service.locale,
        from_=service.from_addr,
    )


def given(value: int | None) -> int:
    assert value is not None
    return value


def sender(value: str | None) -> str | None:
    return None if value is None else parse_sender(value, field="from").value


def _in_range(value: int | None, low: int, high: int, field: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(
            f"{field} must be a whole number from {low} to {high}",
            code="invalid_value",
            field=field,
        )


def check_settings(s: ServiceSettings) -> None:
    if s.name is not None and not 1 <= len(s.name.strip()) <= NAME_MAX:
        raise ValidationError(
            f"name must be 1 to {NAME_MAX} characters", code="invalid_value", field="name"
        )
    _in_range(s.code_length, CODE_MIN, CODE_MAX, "code_length")
    _in_range(s.ttl, *TTL_RANGE, "ttl")
    _in_range(s.max_attempts, *ATTEMPTS_RANGE, "max_attempts")
    _in_range(s.max_sends, 1, 1000, "max_sends")
    _in_range(s.send_window, 60, 7 * 24 * 3600, "send_window")
    _in_range(s.prefix_limit, 1, 1_000_000, "prefix_limit")
    _in_range(s.country_limit, 1, 10_000_000, "country_limit")
    for region in s.allowed_countries or ():
        if region not in _REGIONS:
            raise ValidationError(
                f"allowed_countries: {region!r} is not an ISO 3166 region code like US or GB",
                code="invalid_value",
                field="allowed_countries",
            )
    if s.locale is not None and not 2 <= len(s.locale) <= 16:
        raise ValidationError(
            "locale must be a language tag like en or pt-BR", code="invalid_value", field="locale"
        )
