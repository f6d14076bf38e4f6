"""Every error Marconi raises on purpose descends from :class:`MarconiError`.

The tree::

    MarconiError
    ├─ SmppError ─ LocalProtocolError · RemoteProtocolError · WindowFull · CommandStatusError
    ├─ TransportError ─ ConnectError · ResponseTimeout
    ├─ EncodingError (also ValueError)
    ├─ StoreError ─ NotFound · Conflict
    ├─ ValidationError (bad input from a user: carries a code and a field)
    ├─ AuthenticationError (missing, unknown, wrong or revoked credentials)
    └─ ConfigError

Data travels in attributes (``.status``, ``.sequence_number``, ``.code``, ``.field``), never in
``args[1]``. The HTTP layer maps these to problem+json or to Twilio-shaped error bodies.
"""

from __future__ import annotations


class MarconiError(Exception):
    """Base of every error Marconi raises on purpose."""


class SmppError(MarconiError):
    """Something went wrong at the SMPP protocol level."""


class LocalProtocolError(SmppError):
    """We were asked to do something the protocol or the session state does not allow."""


class RemoteProtocolError(SmppError):
    """The peer sent bytes or a PDU that the protocol or the session state does not allow."""


class WindowFull(SmppError):
    """Every slot of the window holds an outstanding request; wait for a response first."""

    def __init__(self, window: int) -> None:
        super().__init__(f"window of {window} outstanding requests is full")
        self.window = window


class CommandStatusError(SmppError):
    """The peer answered a request with a non-zero command_status."""

    def __init__(self, status: int, *, sequence_number: int | None = None) -> None:
        super().__init__(f"command_status 0x{status:08X}")
        self.status = status
        self.sequence_number = sequence_number


class TransportError(MarconiError):
    """The network under a protocol failed."""


class ConnectError(TransportError):
    """A connection or a bind could not be established."""


class ResponseTimeout(TransportError):
    """A request got no response in time."""

    def __init__(self, sequence_number: int) -> None:
        super().__init__(f"no response to sequence_number {sequence_number}")
        self.sequence_number = sequence_number


class EncodingError(MarconiError, ValueError):
    """Text cannot be expressed in the requested encoding, or bytes do not decode."""


class StoreError(MarconiError):
    """The store refused or failed an operation."""


class NotFound(StoreError):
    """No such row, or not one the caller may see."""


class Conflict(StoreError):
    """The row exists already or changed under us."""


class ValidationError(MarconiError):
    """Input from a user that we refuse, with a stable code and the field to fix."""

    def __init__(self, message: str, *, code: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


class AuthenticationError(MarconiError):
    """Credentials that are missing, unknown, wrong or revoked; the message never says which."""


class ConfigError(MarconiError):
    """The configuration is missing something or contradicts itself."""
