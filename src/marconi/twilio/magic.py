"""Twilio's test-credential magic numbers, answered as Twilio answers them.

Test suites written for Twilio send from ``+15005550006`` and to ``+15005550001``… to provoke
each documented error. These numbers are reserved for tests (no real phone has them), so
Marconi answers them for any credentials: the errors below, and for ``From=+15005550006`` a
``queued`` message that is neither stored nor sent, as with Twilio's test credentials.
"""

from __future__ import annotations

from typing import Final

from marconi.twilio.errors import TwilioError

__all__ = ["VALID_FROM", "check_magic"]

VALID_FROM: Final = "+15005550006"

_FROM: Final = {
    "+15005550001": (21212, "The 'From' number {} is not a valid phone number or short code."),
    "+15005550007": (
        21606,
        "The 'From' phone number {} is not a valid, SMS-capable inbound phone number or short "
        "code for your account.",
    ),
    "+15005550008": (
        21611,
        "This 'From' number {} has exceeded the maximum number of queued messages.",
    ),
}
_TO: Final = {
    "+15005550001": (21211, "The 'To' number {} is not a valid phone number."),
    "+15005550002": (21612, "The 'To' phone number {} is not currently reachable via SMS."),
    "+15005550003": (
        21408,
        "Permission to send an SMS has not been enabled for the region indicated by the 'To' "
        "number: {}.",
    ),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient {}."),
    "+15005550009": (21614, "'To' number {} is not a valid mobile number."),
}


def _compact(number: str | None) -> str | None:
    return None if number is None else "".join(c for c in number if c == "+" or c.isdigit())


def check_magic(to: str | None, from_: str | None) -> bool:
    """Raise the error a magic number stands for; True when the message is a test message
    (sent from :data:`VALID_FROM`) to answer without storing it."""
    sender, destination = _compact(from_), _compact(to)
    if sender in _FROM:
        code, text = _FROM[sender]
        raise TwilioError(400, code, text.format(sender))
    if destination in _TO:
        code, text = _TO[destination]
        raise TwilioError(400, code, text.format(destination))
    return sender == VALID_FROM
