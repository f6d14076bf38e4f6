"""Twilio's delivery error codes (30001–30036) for the native ``error_code`` of a message.

Native codes are SMPP command status names (``ESME_RINVDSTADR``), a receipt's ``err`` field
(GSM MAP causes such as ``001``, unknown subscriber) or state (``UNDELIV``), and the
dispatcher's own (``validity_expired``, ``no_route``). Anything else is 30008, Twilio's
"unknown error".
"""

from __future__ import annotations

from typing import Final

__all__ = ["UNKNOWN_DELIVERY_ERROR", "delivery_error_code"]

# Native delivery error codes (SMPP status names, dispatcher codes) -> Twilio 300xx codes.
_DELIVERY: Final = {
    "ESME_RMSGQFUL": 30001,
    "ESME_RTHROTTLED": 30001,
    "ESME_RINVDSTADR": 30005,
    "ESME_RINVDSTTON": 30005,
    "ESME_RINVDSTNPI": 30005,
    "ESME_RINVSRCADR": 30007,
    "ESME_RX_R_APPN": 30007,
    "ESME_RSUBMITFAIL": 30008,
    "ESME_RSYSERR": 30008,
    "UNDELIV": 30003,
    "UNDELIVERABLE": 30003,
    "REJECTD": 30007,
    "REJECTED": 30007,
    "EXPIRED": 30003,
    "DELETED": 30004,
    "UNKNOWN": 30008,
    # the err field of a receipt: GSM MAP causes, as SMSCs report them (000 is success)
    "001": 30005,  # unknown subscriber
    "005": 30003,  # unidentified subscriber
    "006": 30003,  # absent subscriber for SM
    "009": 30004,  # illegal subscriber
    "011": 30006,  # teleservice not provisioned: a landline, or no SMS
    "013": 30004,  # call barred
    "027": 30003,  # absent subscriber: the handset is off
    "031": 30003,  # subscriber busy for MT SMS
    "032": 30003,  # SM delivery failure
    "034": 30008,  # system failure
    "validity_expired": 30036,
    "no_route": 30006,
    "encoding_failed": 30008,
    "max_attempts_exceeded": 30008,
    "link_down": 30008,
    "response_timeout": 30008,
}
UNKNOWN_DELIVERY_ERROR: Final = 30008


def delivery_error_code(native: str | None) -> int | None:
    """The Twilio ``error_code`` of a message whose native ``error_code`` is ``native``."""
    if native is None:
        return None
    return _DELIVERY.get(native, UNKNOWN_DELIVERY_ERROR)
