"""The fraud guard against SMS pumping: allowed countries and velocity limits per destination,
per number range and per country, decided from the sends the store counted. Pure."""

from __future__ import annotations

from typing import Final

import phonenumbers

from marconi.store.verify_model import BlockReason, Destination, Refuse, SendCounts, VerifyService

__all__ = ["PREFIX_HIDDEN_DIGITS", "destination_of", "guard"]

PREFIX_HIDDEN_DIGITS: Final = 3
"""A number range is a number without its last digits: pumping walks ranges of a thousand."""


def destination_of(e164: str) -> Destination:
    """The counting keys of an E.164 number (its region from libphonenumber, ``ZZ`` unknown)."""
    number = phonenumbers.parse(e164, None)
    region = phonenumbers.region_code_for_number(
        number
    ) or phonenumbers.region_code_for_country_code(number.country_code or 0)
    return Destination(to_addr=e164, prefix=e164[:-PREFIX_HIDDEN_DIGITS], country=region or "ZZ")


def guard(service: VerifyService, destination: Destination, counts: SendCounts) -> Refuse | None:
    """Why one more send to ``destination`` is refused, or None when it may go."""
    allowed = service.allowed_countries
    if allowed and destination.country not in allowed:
        return Refuse(
            reason=BlockReason.COUNTRY_NOT_ALLOWED,
            detail=f"{destination.country} is not one of this service's allowed countries "
            f"({', '.join(allowed)})",
        )
    window = service.send_window
    if counts.destination >= service.max_sends:
        return Refuse(
            reason=BlockReason.DESTINATION_LIMIT,
            detail=f"{destination.to_addr} has had {service.max_sends} codes in the last "
            f"{window} seconds, the most this service sends to one number",
        )
    if counts.prefix >= service.prefix_limit:
        return Refuse(
            reason=BlockReason.PREFIX_LIMIT,
            detail=f"the numbers {destination.prefix}{'X' * PREFIX_HIDDEN_DIGITS} have had "
            f"{service.prefix_limit} codes in the last {window} seconds",
        )
    if counts.country >= service.country_limit:
        return Refuse(
            reason=BlockReason.COUNTRY_LIMIT,
            detail=f"{destination.country} has had {service.country_limit} codes in the last "
            f"{window} seconds",
        )
    return None
