"""One SMPP connection over a stream: the asyncio engine shared by the client and the server.

A :class:`Link` owns an :class:`~marconi.smpp.SmppConnection` (the sans-IO protocol) and an
:class:`~marconi.transport.stream.AsyncStream`. One reader task feeds received bytes to the
connection and turns its events into results:

* a response resolves the future of the request it answers, and frees a window slot;
* a request from the peer goes to the ``on_request`` callback (the client's receipt handler, the
  server's session), which answers it later with :meth:`Link.respond`;
* a response timeout fails that request's future with :class:`~marconi.errors.ResponseTimeout`;
* the end of the connection fails every outstanding and queued request with
  :class:`~marconi.errors.TransportError`, so no caller ever hangs.

Outgoing requests never wait in a task of their own: :meth:`Link.request` queues the PDU with a
future, and the queue is pumped whenever the window and the throttle allow (on enqueue, after
each batch of responses, and on a timer while the throttle makes it wait). A ``submit_sm`` with a
``priority_flag`` joins the queue ahead of those without one (after earlier ones with one), so a
verification code never waits behind a backlog of bulk submits.

A caller that sends many requests and awaits none of them (the SMSC's receipts) can pass its own
:class:`Waiter` to :meth:`Link.request_into` instead: it is resolved inline, as the response is
read, which spares a future and a turn of the event loop per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import operator
from collections import deque
from collections.abc import Callable
from typing import Final, Protocol, TypeVar

from marconi.errors import (
    LocalProtocolError,
    MarconiError,
    ResponseTimeout,
    TransportError,
    WindowFull,
)
from marconi.smpp import (
    CommandId,
    ConnectionClosed,
    Pdu,
    ProtocolViolation,
    Request,
    Response,
    ResponseTimedOut,
    SmppConnection,
    SubmitSm,
)
from marconi.transport.stream import AsyncStream
from marconi.transport.throttle import AdaptiveThrottle, Clock

__all__ = ["Link", "Waiter", "send_numbered", "with_sequence_number"]

log = logging.getLogger(__name__)

_P = TypeVar("_P", bound=Pdu)

_RESPONSE_BIT: Final = 0x80000000
_ENQUIRE_LINK: Final = int(CommandId.ENQUIRE_LINK)


class Waiter(Protocol):
    """What a request's outcome goes to: an ``asyncio.Future``, or any object with these methods.

    Exactly one of ``set_result`` (the response, whatever its status) and ``set_exception``
    (ResponseTimeout, TransportError, or why it could not be sent) is called, once, and only
    while ``done()`` is false. A waiter that is not a future is called inline from the reader: it
    must return quickly and must not raise.
    """

    def done(self) -> bool: ...

    def set_result(self, result: Response, /) -> None: ...

    def set_exception(self, exception: BaseException, /) -> None: ...


_Cloner = Callable[[Pdu, int], Pdu]
_CLONERS: dict[type[Pdu], _Cloner] = {}


def with_sequence_number(pdu: _P, sequence_number: int) -> _P:
    """A copy of ``pdu`` carrying ``sequence_number`` (``dataclasses.replace``, but faster)."""
    cls = type(pdu)
    cloner = _CLONERS.get(cls)
    if cloner is None:
        cloner = _CLONERS[cls] = _make_cloner(cls)
    return cloner(pdu, sequence_number)  # type: ignore[return-value]


def send_numbered(connection: SmppConnection, pdu: Pdu, sequence_number: int) -> bytes:
    """``connection.send(pdu)`` as if ``pdu`` carried ``sequence_number``; ``pdu`` is unchanged.

    The connection writes the number into the bytes and its accounting without copying the PDU
    (a copy costs ten times as much, on the path every message takes).
    """
    return connection.send(pdu, sequence_number=sequence_number)


def _make_cloner(cls: type[Pdu]) -> _Cloner:
    names = [field.name for field in dataclasses.fields(cls)]
    make = getattr(cls, "_make", None)
    if names[0] != "sequence_number" or make is None or len(names) < 2:
        return lambda pdu, seq: dataclasses.replace(pdu, sequence_number=seq)
    getter = operator.attrgetter(*names[1:])
    if len(names) == 2:
        return lambda pdu, seq: make(seq, getter(pdu))
    return lambda pdu, seq: make(seq, *getter(pdu))


class Link:
    """The reader, the writer, the window and the timers of one SMPP connection."""

    def __init__(
        self,
        *,
        connection: SmppConnection,
        stream: AsyncStream,
        window: int,
        on_request: Callable[[Link, Request], None],
        clock: Clock,
        tick_interval: float,
        throttle: AdaptiveThrottle | None = None,
        name: str = "smpp",
    ) -> None:
        if window < 1:
            raise ValueError(f"window must be at least 1, not {window}")
        self._conn = connection
        self._stream = stream
        self._window = window
        self._on_request = on_request
        self._clock = clock
        self._tick_interval = tick_interval
        self._throttle = throttle
        self.name = name
        self._loop = asyncio.get_running_loop()
        self._pending: dict[int, Waiter] = {}
        self._queue: deque[tuple[Request, Waiter]] = deque()
        # submit_sm with a priority_flag go ahead of the others: this many lead the queue.
        self._urgent = 0
        self._pump_handle: asyncio.TimerHandle | None = None
        self._tick_handle: asyncio.TimerHandle | None = None
        self._closed = False
        self.close_reason: str | None = None
        self._done: asyncio.Future[None] = self._loop.create_future()
        self._idle_waiters: list[asyncio.Future[None]] = []

    # -- state ------------------------------------------------------------------------------

    @property
    def connection(self) -> SmppConnection:
        return self._conn

    @property
    def stream(self) -> AsyncStream:
        return self._stream

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def outstanding(self) -> int:
        """Requests sent and not yet answered."""
        return len(self._pending)

    @property
    def queued(self) -> int:
        """Requests waiting for a window slot or for the throttle."""
        return len(self._queue)

    @property
    def window(self) -> int:
        return self._window

    @property
    def throttle(self) -> AdaptiveThrottle | None:
        return self._throttle

    @throttle.setter
    def throttle(self, throttle: AdaptiveThrottle | None) -> None:
        self._throttle = throttle

    # -- running -----------------------------------------------------------------------------

    async def run(self) -> str:
        """Read until the connection ends; return why it ended. Never raises for network errors."""
        stream = self._stream
        conn = self._conn
        self._schedule_tick()
        try:
            while not self._closed:
                try:
                    data = await stream.read()
                except (OSError, TransportError) as exc:
                    self._fail(f"read failed: {exc}")
                    break
                conn.receive_data(data)
                self._process_events()
                self._flush_protocol()
                if not data:
                    self._fail(self.close_reason or "the peer closed the connection")
        except asyncio.CancelledError:
            self._fail(self.close_reason or "cancelled")
            raise
        finally:
            self._fail(self.close_reason or "closed")
        return self.close_reason or "closed"

    async def wait_closed(self) -> None:
        await asyncio.shield(self._done)

    # -- requests ----------------------------------------------------------------------------

    def request(self, pdu: Request) -> asyncio.Future[Response]:
        """Queue ``pdu``; the future resolves with its response PDU (whatever its status).

        Its ``sequence_number`` is assigned here. The future fails with ResponseTimeout when no
        response comes in time, with TransportError when the connection ends first, and with
        LocalProtocolError when the session state does not allow the request.
        """
        future: asyncio.Future[Response] = self._loop.create_future()
        self.request_into(pdu, future)
        return future

    def request_into(self, pdu: Request, future: Waiter) -> None:
        """Queue ``pdu`` like :meth:`request`, and resolve ``future`` (any :class:`Waiter`)."""
        if self._closed:
            _fail_quietly(future, TransportError(f"the connection is closed: {self.close_reason}"))
            return
        if (
            not self._queue
            and len(self._pending) < self._window
            and (self._throttle is None or self._throttle.acquire() == 0.0)
        ):
            self._send_request(pdu, future)
        elif type(pdu) is SubmitSm and pdu.priority_flag:
            self._queue.insert(self._urgent, (pdu, future))
            self._urgent += 1
            if self._pump_handle is None and len(self._pending) < self._window:
                self._pump()
        else:
            self._queue.append((pdu, future))
            if self._pump_handle is None and len(self._pending) < self._window:
                self._pump()

    def _send_request(self, pdu: Request, future: Waiter) -> bool:
        conn = self._conn
        seq = conn.next_sequence_number()
        try:
            data = conn.send(pdu, sequence_number=seq)
        except WindowFull:
            return False
        except MarconiError as exc:
            future.set_exception(exc)
            return True
        self._pending[seq] = future
        self._write(data)
        return True

    def _pump(self) -> None:
        """Send queued requests while the window and the throttle allow."""
        if self._pump_handle is not None:
            self._pump_handle.cancel()
            self._pump_handle = None
        queue = self._queue
        pending = self._pending
        window = self._window
        throttle = self._throttle
        now = self._clock() if throttle is not None else 0.0
        while queue and len(pending) < window:
            pdu, future = queue[0]
            if future.done():  # the caller gave up waiting
                queue.popleft()
                self._urgent = max(0, self._urgent - 1)
                continue
            if throttle is not None:
                wait = throttle.acquire(now)
                if wait > 0.0:
                    self._pump_handle = self._loop.call_at(self._loop.time() + wait, self._pump)
                    return
            if not self._send_request(pdu, future):
                return  # the connection's own requests hold the last slots; retry on a response
            queue.popleft()
            self._urgent = max(0, self._urgent - 1)

    def respond(self, pdu: Response, sequence_number: int | None = None) -> None:
        """Send a response to a request of the peer (dropped if the connection is gone).

        ``sequence_number``, when given, is the one sent, whatever ``pdu`` carries.
        """
        if self._closed:
            return
        try:
            data = self._conn.send(pdu, sequence_number=sequence_number)
        except LocalProtocolError as exc:
            log.warning("%s: cannot send %s: %s", self.name, type(pdu).__name__, exc)
            return
        self._write(data)
        self._flush_protocol()

    def _write(self, data: bytes) -> None:
        try:
            self._stream.write(data)
        except TransportError as exc:
            self._fail(f"write failed: {exc}")

    # -- events ------------------------------------------------------------------------------

    def _process_events(self) -> None:
        pending = self._pending
        freed = False
        on_request = self._on_request
        for event in self._conn.events():
            if isinstance(event, Pdu):
                if event.command_id & _RESPONSE_BIT:
                    future = pending.pop(event.sequence_number, None)
                    if future is not None:
                        freed = True
                        if not future.done():
                            future.set_result(event)  # type: ignore[arg-type]
                else:
                    on_request(self, event)  # type: ignore[arg-type]
            elif isinstance(event, ResponseTimedOut):
                future = pending.pop(event.sequence_number, None)
                if future is not None:
                    freed = True
                    _fail_quietly(future, ResponseTimeout(event.sequence_number))
                elif self._is_keepalive(event):
                    self._fail("no answer to enquire_link: the peer is gone")
                    return
            elif isinstance(event, ProtocolViolation):
                error = event.error
                seq = getattr(error, "sequence_number", None)
                command_id = getattr(error, "command_id", 0) or 0
                if seq is not None and command_id & _RESPONSE_BIT:
                    # a malformed or mistyped response still ends the request it answers
                    future = pending.pop(seq, None)
                    if future is not None:
                        freed = True
                        if not future.done():
                            future.set_exception(error)
                else:
                    log.info("%s: %s", self.name, error)
            elif isinstance(event, ConnectionClosed):
                self.close_reason = self.close_reason or event.reason
                self._fail(self.close_reason)
                return
        if freed:
            if self._queue:
                self._pump()
            if not pending and self._idle_waiters:
                self._wake_idle()

    @staticmethod
    def _is_keepalive(event: ResponseTimedOut) -> bool:
        return event.command_id == _ENQUIRE_LINK

    def _flush_protocol(self) -> None:
        data = self._conn.data_to_send()
        if data and not self._closed:
            self._write(data)

    # -- timers ------------------------------------------------------------------------------

    def _schedule_tick(self) -> None:
        if not self._closed:
            self._tick_handle = self._loop.call_at(
                self._loop.time() + self._tick_interval, self._tick
            )

    def _tick(self) -> None:
        self._tick_handle = None
        if self._closed:
            return
        try:
            self._conn.tick(self._clock())
        except MarconiError as exc:
            self._fail(f"protocol error: {exc}")
            return
        self._process_events()
        self._flush_protocol()
        self._schedule_tick()

    # -- ending ------------------------------------------------------------------------------

    async def wait_idle(self) -> None:
        """Wait until no request is queued or outstanding."""
        while (self._pending or self._queue) and not self._closed:
            waiter = self._loop.create_future()
            self._idle_waiters.append(waiter)
            await waiter

    def _wake_idle(self) -> None:
        waiters, self._idle_waiters = self._idle_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def close(self, reason: str = "closed locally") -> None:
        """Flush what is written, close the stream, fail what is outstanding."""
        self._fail(reason)

    def _fail(self, reason: str) -> None:
        if self._closed:
            return
        self._closed = True
        self.close_reason = self.close_reason or reason
        conn = self._conn
        conn.close(self.close_reason)
        last_words = conn.data_to_send()
        if last_words and not self._stream.closed:
            with contextlib.suppress(TransportError):
                self._stream.write(last_words)
        for handle in (self._pump_handle, self._tick_handle):
            if handle is not None:
                handle.cancel()
        self._pump_handle = self._tick_handle = None
        pending, self._pending = self._pending, {}
        queue, self._queue = self._queue, deque()
        self._urgent = 0
        error = f"the connection ended: {self.close_reason}"
        for future in pending.values():
            _fail_quietly(future, TransportError(error))
        for _, future in queue:
            _fail_quietly(future, TransportError(error))
        self._stream.close()
        self._wake_idle()
        if not self._done.done():
            self._done.set_result(None)


def _fail_quietly(future: Waiter, error: BaseException) -> None:
    """Fail ``future`` without a "never retrieved" log when nobody awaits it (fire and forget)."""
    if not future.done():
        future.set_exception(error)
        if isinstance(future, asyncio.Future):
            future.exception()
