"""Twilio's error envelope ``{code, message, more_info, status}`` and what Marconi errors map to.

Every refusal of the compatible face goes through :func:`twilio_error_for`, so a Twilio helper
library raises its usual exception (``TwilioRestException`` with ``.code`` and ``.status``).
Native :class:`~marconi.errors.ValidationError` codes map to Twilio's numbers here; a code with
no Twilio counterpart becomes the generic ``20422 Invalid Parameter``. Other faces (Verify,
opt-outs) raise their own ValidationError codes and add them with :func:`register_code`.
"""

from __future__ import annotations

import logging
from typing import Final

import orjson
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from marconi.api.problem import ApiError
from marconi.errors import (
    AuthenticationError,
    Conflict,
    MarconiError,
    NotFound,
    StoreError,
    ValidationError,
)

__all__ = [
    "INVALID_PARAMETER",
    "MORE_INFO",
    "TwilioError",
    "register_code",
    "twilio_code",
    "twilio_error",
    "twilio_error_for",
]

log = logging.getLogger(__name__)

MORE_INFO: Final = "https://www.twilio.com/docs/errors/"
INVALID_PARAMETER: Final = 20422

# (native code, field) -> Twilio code; field None matches any field. The field matters where
# Twilio tells To from From (21211 and 21212 are both "invalid phone number").
_VALIDATION: dict[tuple[str, str | None], int] = {
    ("invalid_phone_number", "to"): 21211,
    ("invalid_type", "to"): 21211,
    ("missing_field", "to"): 21604,
    ("invalid_sender", "from"): 21212,
    ("invalid_phone_number", "from"): 21212,
    ("missing_field", "from"): 21603,
    ("sender_not_owned", "from"): 21606,
    ("missing_field", "body"): 21602,
    ("body_too_long", "body"): 21617,
    ("body_not_encodable", "body"): 21617,
    ("invalid_url", None): 21609,
    ("send_at_in_past", None): 35114,
    ("send_at_too_far", None): 35114,
    ("invalid_datetime", "send_at"): 35114,
    ("destination_opted_out", None): 21610,
    ("destination_not_mobile", None): 21614,
    ("destination_unreachable", None): 21612,
    ("sender_queue_full", None): 21611,
    ("region_not_enabled", None): 21408,
    ("invalid_body", None): 20001,
    ("invalid_utf8", None): 20001,
    ("account_suspended", None): 30002,
    ("messaging_service_empty", None): 21704,
}

# Conflicts of a message's state (MessageConflict.code) -> Twilio code.
_CONFLICT: Final = {
    "not_cancelable": 30409,
    "not_redactable": 20009,
    "idempotency_key_reused": 20409,
}


def register_code(native: str, twilio: int, *, field: str | None = None) -> None:
    """Map another face's ValidationError ``native`` code (on ``field``, or any) to Twilio's."""
    _VALIDATION[(native, field)] = twilio


def twilio_code(error: ValidationError) -> int:
    """The Twilio code of a native validation error."""
    field = (error.field or "").lower().replace("-", "_")
    return _VALIDATION.get(
        (error.code, field), _VALIDATION.get((error.code, None), INVALID_PARAMETER)
    )


class TwilioError(Exception):
    """A refusal in Twilio's words, raised inside the compatible face."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def twilio_error(
    status: int, code: int, message: str, *, headers: dict[str, str] | None = None
) -> Response:
    body = {"code": code, "message": message, "more_info": f"{MORE_INFO}{code}", "status": status}
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


def twilio_error_for(exc: BaseException) -> Response:
    """The Twilio error response for an exception that reached the compatible face's edge."""
    if isinstance(exc, TwilioError):
        return twilio_error(exc.status, exc.code, exc.message, headers=exc.headers)
    if isinstance(exc, ValidationError):
        return twilio_error(400, twilio_code(exc), exc.message)
    if isinstance(exc, AuthenticationError):
        return twilio_error(
            401,
            20003,
            "Authenticate",
            headers={"WWW-Authenticate": 'Basic realm="Twilio API"'},
        )
    if isinstance(exc, ApiError):
        if exc.status == 429:
            return twilio_error(429, 20429, "Too Many Requests", headers=exc.headers)
        if exc.status == 413:
            return twilio_error(413, 20001, exc.detail)
        return twilio_error(exc.status, INVALID_PARAMETER, exc.detail, headers=exc.headers)
    if isinstance(exc, NotFound):
        return twilio_error(404, 20404, f"The requested resource was not found: {exc}")
    if isinstance(exc, Conflict):
        code = _CONFLICT.get(getattr(exc, "code", ""), 20409)
        return twilio_error(400 if code != 20409 else 409, code, str(exc))
    if isinstance(exc, StoreError | OSError | TimeoutError):
        log.warning("database unavailable: %s", exc)
        return twilio_error(503, 20503, "Service unavailable; retry", headers={"Retry-After": "1"})
    if isinstance(exc, ClientDisconnect):  # nobody is left to read the answer
        return twilio_error(400, 20001, "The client went away before the request was read.")
    if isinstance(exc, MarconiError):
        log.error("unmapped error: %r", exc)
    else:
        log.exception("unexpected error", exc_info=exc)
    return twilio_error(500, 20500, "Internal Server Error")
