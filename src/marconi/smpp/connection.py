"""``SmppConnection``: one SMPP session as a sans-IO object.

Bytes come in through ``receive_data()``, PDUs and other events come out of ``events()``, and
``send(pdu)`` returns the bytes to write. Time enters only through the injected ``clock`` and
``tick()``; nothing here sleeps, reads a socket or knows about asyncio.

What the connection does by itself (its bytes come out of ``data_to_send()``):

* answers ``enquire_link`` with ``enquire_link_resp`` (the EnquireLink is still reported);
* answers ``unbind`` with ``unbind_resp`` and closes the session (the Unbind is still reported);
* sends ``enquire_link`` from ``tick()`` when bound and nothing arrived for
  ``enquire_link_interval`` seconds; its response is consumed silently, its timeout is reported;
* answers a request the session state forbids with its own response carrying ESME_RINVBNDSTS
  (ESME_RALYBND for a second bind), and a command the peer's role never sends with generic_nack
  ESME_RINVCMDID;
* answers a request it cannot decode with its own response carrying the decoder's status
  (ESME_RINVMSGLEN, ESME_RINVCMDLEN, ESME_RINVOPTPARSTREAM, ...), an unknown command_id with
  generic_nack ESME_RINVCMDID, and keeps reading: framing is intact;
* answers a broken frame (command_length below 16 or above ``max_command_length``) with
  generic_nack ESME_RINVCMDLEN and closes: the stream cannot be split any more;
* answers requests beyond ``receive_window`` unanswered ones with ESME_RTHROTTLED, if set.

Every request we send ends exactly once, with one of: its response (or a generic_nack) among the
events, a :class:`ResponseTimedOut`, or :class:`ConnectionClosed`. A response whose sequence number
is not outstanding (late after a timeout, duplicated, never sent) is dropped and reported as a
:class:`ProtocolViolation`; so is a response of the wrong type or one that cannot be decoded, and
the request it names stays outstanding until its real answer or its timeout. An outbind or
alert_notification that the state forbids cannot be answered, so it closes the session.
"""

from __future__ import annotations

import struct
import time
from typing import Final, Protocol

from marconi.errors import LocalProtocolError, RemoteProtocolError, SmppError
from marconi.smpp.codec import (
    DEFAULT_MAX_COMMAND_LENGTH,
    Decoder,
    FramingError,
    InvalidPdu,
    encode,
)
from marconi.smpp.constants import (
    MAX_SEQUENCE_NUMBER,
    RESPONSE_MASK,
    CommandId,
    CommandStatus,
)
from marconi.smpp.event import ConnectionClosed, Event, ProtocolViolation, ResponseTimedOut
from marconi.smpp.pdu import PDU_CLASSES, EnquireLink, Pdu, Request, Response
from marconi.smpp.session import (
    BOUND_STATES,
    RESPONSE_OF,
    TRANSITIONS,
    Role,
    SessionState,
    rules_for,
)
from marconi.smpp.window import Window

_HEADER: Final = struct.Struct(">IIII")
_ENQUIRE_LINK: Final = int(CommandId.ENQUIRE_LINK)
_UNBIND: Final = int(CommandId.UNBIND)
_GENERIC_NACK: Final = int(CommandId.GENERIC_NACK)
_BINDS: Final = frozenset(
    {CommandId.BIND_TRANSMITTER, CommandId.BIND_RECEIVER, CommandId.BIND_TRANSCEIVER}
)
_CLOSED = SessionState.CLOSED
_NAMES: Final[dict[int, str]] = {int(c): c.name.lower() for c in CommandId}
_RULES: Final[dict[tuple[SessionState, Role], dict[int, SessionState]]] = {
    (state, role): rules_for(state, role) for state in SessionState for role in Role
}
_SENDABLE: Final[dict[Role, frozenset[int]]] = {
    role: frozenset(command for (_, sender, command) in TRANSITIONS if sender is role)
    for role in Role
}


class Clock(Protocol):
    """Seconds from a monotonic origin; ``time.monotonic`` in production, a fake in tests."""

    def __call__(self) -> float: ...


class UnexpectedPdu(RemoteProtocolError):
    """The peer sent a well-formed PDU that the session cannot accept here.

    ``status`` is what the connection answered with, or None when nothing could be answered.
    """

    def __init__(
        self, message: str, *, command_id: int, sequence_number: int, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.command_id = command_id
        self.sequence_number = sequence_number
        self.status = status


def _name(command_id: int) -> str:
    return _NAMES.get(command_id, f"command 0x{command_id:08X}")


def _bare_response(command_id: int, status: int, sequence_number: int) -> bytes:
    return _HEADER.pack(16, command_id, status, sequence_number)


class SmppConnection:
    """One SMPP 3.4 session, for either role. See the module docstring for what is automatic."""

    def __init__(
        self,
        *,
        role: Role,
        window: int = 64,
        clock: Clock = time.monotonic,
        response_timeout: float | None = 30.0,
        enquire_link_interval: float | None = None,
        max_command_length: int = DEFAULT_MAX_COMMAND_LENGTH,
        receive_window: int | None = None,
    ) -> None:
        if response_timeout is not None and response_timeout <= 0:
            raise ValueError("response_timeout must be positive or None")
        if enquire_link_interval is not None and enquire_link_interval <= 0:
            raise ValueError("enquire_link_interval must be positive or None")
        if receive_window is not None and receive_window < 1:
            raise ValueError("receive_window must be at least 1 or None")
        self._role = role
        self._peer = role.peer
        self._window = Window(window)
        self._clock = clock
        self._response_timeout = response_timeout
        self._enquire_link_interval = enquire_link_interval
        self._receive_window = receive_window
        self._decoder = Decoder(max_command_length=max_command_length)
        self._state = SessionState.OPEN
        self._send_rules = _RULES[SessionState.OPEN, role]
        self._receive_rules = _RULES[SessionState.OPEN, self._peer]
        self._peer_pending: dict[int, int] = {}
        self._peer_duplicates: dict[int, int] = {}
        self._automatic: set[int] = set()
        self._events: list[Event] = []
        self._out = bytearray()
        self._sequence_number = 0
        self._last_sequence_number = 0
        self._last_received = clock()

    # --- inspection ---------------------------------------------------------------------------

    @property
    def role(self) -> Role:
        return self._role

    @property
    def state(self) -> SessionState:
        return self._state

    @property
    def window(self) -> Window:
        """The accounting of our outstanding requests (``.size``, ``.free``, ``len()``)."""
        return self._window

    @property
    def outstanding(self) -> int:
        """How many of our requests await a response."""
        return len(self._window)

    @property
    def peer_outstanding(self) -> int:
        """How many of the peer's requests await our response."""
        return len(self._peer_pending) + sum(self._peer_duplicates.values())

    @property
    def bound(self) -> bool:
        return self._state in BOUND_STATES

    def next_sequence_number(self) -> int:
        """A fresh sequence number, 1..0x7FFFFFFF, wrapping and skipping outstanding ones."""
        seq = self._sequence_number
        window = self._window
        while True:
            seq = seq + 1 if seq < MAX_SEQUENCE_NUMBER else 1
            if seq not in window:
                self._sequence_number = seq
                return seq

    # --- sending --------------------------------------------------------------------------------

    def send(self, pdu: Pdu, *, sequence_number: int | None = None) -> bytes:
        """The bytes of ``pdu``, after checking that the session allows it and accounting for it.

        ``sequence_number`` overrides ``pdu.sequence_number`` in the bytes and the accounting (to
        send a PDU built once under ``next_sequence_number()`` without copying it). Requests take
        a window slot: WindowFull when none is free. Responses must answer an outstanding request
        of the peer. LocalProtocolError when the state forbids the PDU or a field cannot be
        encoded; the connection is unchanged then.
        """
        command_id = pdu.command_id
        next_state = self._send_rules.get(command_id)
        seq = pdu.sequence_number if sequence_number is None else sequence_number
        if command_id & RESPONSE_MASK:
            return self._send_response(pdu, seq, command_id, next_state)
        if next_state is None:
            raise LocalProtocolError(
                f"{self._role.name} cannot send {_name(command_id)} in state {self._state.name}"
            )
        if not 0 < seq <= MAX_SEQUENCE_NUMBER:
            raise LocalProtocolError(f"sequence_number {seq} is outside 1..0x7FFFFFFF")
        if command_id in RESPONSE_OF:
            window = self._window
            pending = window._pending
            if len(pending) >= window._size or seq in pending:
                window.acquire(seq, command_id, 0.0)  # raises WindowFull or LocalProtocolError
            data = encode(pdu, seq)
            pending[seq] = (command_id, self._clock())
        else:
            data = encode(pdu, seq)
        self._last_sequence_number = seq
        if next_state is not self._state:
            self._set_state(next_state, "closed")
        return data

    @property
    def last_sequence_number(self) -> int:
        """The sequence number of the last request ``send()`` accepted (0 before any)."""
        return self._last_sequence_number

    def _send_response(
        self, pdu: Pdu, seq: int, command_id: int, next_state: SessionState | None
    ) -> bytes:
        request = self._peer_pending.get(seq)
        if request is None or (RESPONSE_OF[request] != command_id and command_id != _GENERIC_NACK):
            raise LocalProtocolError(
                f"no request of the peer with sequence_number {seq} awaits {_name(command_id)}"
            )
        if next_state is None:
            raise LocalProtocolError(
                f"{self._role.name} cannot send {_name(command_id)} in state {self._state.name}"
            )
        data = encode(pdu, seq)
        duplicates = self._peer_duplicates
        if duplicates and seq in duplicates:
            if duplicates[seq] == 1:
                del duplicates[seq]
            else:
                duplicates[seq] -= 1
        else:
            del self._peer_pending[seq]
        assert isinstance(pdu, Response)
        if pdu.command_status == 0 and next_state is not self._state:
            self._set_state(next_state, "unbind completed")
        return data

    def data_to_send(self) -> bytes:
        """Bytes the connection produced by itself since the last call (see the module doc)."""
        if not self._out:
            return b""
        data = bytes(self._out)
        self._out.clear()
        return data

    def close(self, reason: str = "closed locally") -> None:
        """End the session now (the transport lost or dropped the connection)."""
        self._close(reason)

    # --- receiving ------------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Feed bytes read from the peer; ``b""`` means the peer closed the connection."""
        if self._state is _CLOSED:
            return
        if not data:
            leftover = self._decoder.buffered
            self._close(
                "the peer closed the connection"
                + (f" in the middle of a PDU ({leftover} octets)" if leftover else "")
            )
            return
        self._last_received = self._clock()
        decoder = self._decoder
        decoder.feed(data)
        while True:
            try:
                pdu = decoder.next_pdu()
            except InvalidPdu as exc:
                self._on_invalid(exc)
                continue
            except FramingError as exc:
                self._out += _bare_response(
                    _GENERIC_NACK, CommandStatus.ESME_RINVCMDLEN, exc.sequence_number or 0
                )
                self._close(str(exc), exc)
                return
            if pdu is None:
                return
            if pdu.command_id & RESPONSE_MASK:
                self._on_response(pdu)  # type: ignore[arg-type]
            else:
                self._on_request(pdu)  # type: ignore[arg-type]
            if self._state is _CLOSED:
                return

    def events(self) -> list[Event]:
        """The events since the last call, oldest first."""
        events = self._events
        if events:
            self._events = []
        return events

    def _on_response(self, pdu: Response) -> None:
        seq = pdu.sequence_number
        command_id = pdu.command_id
        pending = self._window._pending
        entry = pending.get(seq)
        if entry is None:
            self._violation(
                f"{_name(command_id)} answers sequence_number {seq}, which is not outstanding",
                command_id,
                seq,
            )
            return
        request = entry[0]
        if command_id != RESPONSE_OF[request] and command_id != _GENERIC_NACK:
            # the request stays outstanding: its real answer or its timeout is still to come
            self._violation(f"{_name(command_id)} answers {_name(request)} {seq}", command_id, seq)
            return
        del pending[seq]
        automatic = self._automatic
        if automatic and seq in automatic:
            automatic.discard(seq)
            return
        next_state = self._receive_rules.get(command_id)
        if next_state is None:
            self._close(
                f"{_name(command_id)} cannot arrive in state {self._state.name}",
                UnexpectedPdu(
                    f"{_name(command_id)} in state {self._state.name}",
                    command_id=command_id,
                    sequence_number=seq,
                ),
            )
            return
        self._events.append(pdu)
        if pdu.command_status == 0 and next_state is not self._state:
            self._set_state(next_state, "unbind completed")

    def _on_request(self, pdu: Request) -> None:
        seq = pdu.sequence_number
        command_id = pdu.command_id
        next_state = self._receive_rules.get(command_id)
        if next_state is None:
            self._refuse(pdu)
            return
        if command_id == _ENQUIRE_LINK:
            self._out += _bare_response(CommandId.ENQUIRE_LINK_RESP, 0, seq)
            self._events.append(pdu)
            return
        if command_id == _UNBIND:
            self._events.append(pdu)
            self._out += _bare_response(CommandId.UNBIND_RESP, 0, seq)
            self._close("the peer unbound")
            return
        if command_id in RESPONSE_OF:
            pending = self._peer_pending
            limit = self._receive_window
            # duplicates are rare: count them only when there are some
            outstanding = len(pending)
            if self._peer_duplicates:
                outstanding = self.peer_outstanding
            if limit is not None and outstanding >= limit:
                self._out += _bare_response(
                    RESPONSE_OF[command_id], CommandStatus.ESME_RTHROTTLED, seq
                )
                self._violation(
                    f"{_name(command_id)} {seq} beyond the receive window of {limit}",
                    command_id,
                    seq,
                    CommandStatus.ESME_RTHROTTLED,
                )
                return
            if seq in pending:
                self._peer_duplicates[seq] = self._peer_duplicates.get(seq, 0) + 1
            else:
                pending[seq] = command_id
        self._events.append(pdu)
        if next_state is not self._state:
            self._set_state(next_state, "closed")

    def _refuse(self, pdu: Request) -> None:
        """Answer a request that the state or the peer's role does not allow."""
        seq = pdu.sequence_number
        command_id = pdu.command_id
        where = f"{self._peer.name} sent {_name(command_id)} in state {self._state.name}"
        response: int | None = RESPONSE_OF.get(command_id)
        if response is None:
            self._close(
                where,
                UnexpectedPdu(where, command_id=command_id, sequence_number=seq),
            )
            return
        if command_id not in _SENDABLE[self._peer]:
            response, status = _GENERIC_NACK, CommandStatus.ESME_RINVCMDID
        elif command_id in _BINDS and self._state is not SessionState.OPEN:
            status = CommandStatus.ESME_RALYBND
        else:
            status = CommandStatus.ESME_RINVBNDSTS
        self._out += _bare_response(response, status, seq)
        self._violation(where, command_id, seq, status)

    def _on_invalid(self, exc: InvalidPdu) -> None:
        command_id = exc.command_id
        seq = exc.sequence_number
        # an unreadable response is only reported; answering it could start a nack loop
        if not command_id & RESPONSE_MASK:
            cls = PDU_CLASSES.get(command_id)
            if cls is None:
                self._out += _bare_response(_GENERIC_NACK, exc.status, seq)
            else:
                response = RESPONSE_OF.get(command_id)
                if response is not None:
                    self._out += _bare_response(response, exc.status, seq)
        self._events.append(ProtocolViolation(exc))

    def _violation(
        self, message: str, command_id: int, seq: int, status: int | None = None
    ) -> None:
        self._events.append(
            ProtocolViolation(
                UnexpectedPdu(message, command_id=command_id, sequence_number=seq, status=status)
            )
        )

    # --- state ----------------------------------------------------------------------------------

    def _set_state(self, state: SessionState, reason: str) -> None:
        if state is _CLOSED:
            self._close(reason)
            return
        self._state = state
        self._send_rules = _RULES[state, self._role]
        self._receive_rules = _RULES[state, self._peer]

    def _close(self, reason: str, error: SmppError | None = None) -> None:
        if self._state is _CLOSED:
            return
        self._state = _CLOSED
        self._send_rules = _RULES[_CLOSED, self._role]
        self._receive_rules = _RULES[_CLOSED, self._peer]
        self._peer_pending.clear()
        self._peer_duplicates.clear()
        self._events.append(ConnectionClosed(reason, error))

    # --- timers ---------------------------------------------------------------------------------

    def tick(self, now: float | None = None) -> None:
        """Fire what is due: response timeouts, and an enquire_link when the link is idle."""
        if self._state is _CLOSED:
            return
        if now is None:
            now = self._clock()
        timeout = self._response_timeout
        if timeout is not None and self._window:
            for entry in self._window.expire(now, timeout):
                self._automatic.discard(entry.sequence_number)
                self._events.append(ResponseTimedOut(entry.sequence_number, entry.command_id))
        interval = self._enquire_link_interval
        if (
            interval is not None
            and not self._automatic
            and self._state in BOUND_STATES
            and now - self._last_received >= interval
        ):
            seq = self.next_sequence_number()
            self._window.acquire(seq, _ENQUIRE_LINK, now, force=True)
            self._automatic.add(seq)
            self._out += encode(EnquireLink(sequence_number=seq))

    def next_deadline(self) -> float | None:
        """When ``tick()`` next has something to do (clock time), or None if nothing is pending."""
        deadlines: list[float] = []
        if self._state is _CLOSED:
            return None
        if self._response_timeout is not None:
            oldest = self._window.oldest()
            if oldest is not None:
                deadlines.append(oldest.sent_at + self._response_timeout)
        if (
            self._enquire_link_interval is not None
            and not self._automatic
            and self._state in BOUND_STATES
        ):
            deadlines.append(self._last_received + self._enquire_link_interval)
        return min(deadlines, default=None)
