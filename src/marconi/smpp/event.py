"""What a connection reports besides the PDUs it received."""

from __future__ import annotations

import dataclasses
from typing import TypeAlias

from marconi.errors import RemoteProtocolError, SmppError
from marconi.smpp.pdu import Pdu


@dataclasses.dataclass(frozen=True, slots=True)
class ResponseTimedOut:
    """A request got no response within ``response_timeout``; its window slot is free again."""

    sequence_number: int
    command_id: int


@dataclasses.dataclass(frozen=True, slots=True)
class ProtocolViolation:
    """The peer broke the protocol in a way the session survives.

    Examples: a response to a sequence number that is not outstanding (late, after a timeout, or
    never sent), a response of the wrong type, a malformed PDU that was answered with an error, a
    request the session state does not allow (answered with ESME_RINVBNDSTS and friends). When the
    error names the ``sequence_number`` of one of our outstanding requests, that request is over.
    """

    error: RemoteProtocolError


@dataclasses.dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """The session reached CLOSED; always the last event. Flush ``data_to_send()``, then close."""

    reason: str
    error: SmppError | None = None


Event: TypeAlias = Pdu | ResponseTimedOut | ProtocolViolation | ConnectionClosed
