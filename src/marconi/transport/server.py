"""The SMPP server (SMSC role): accepts binds, hands each PDU to typed hooks, pushes deliver_sm.

::

    class Handler(BaseHandler):
        async def authenticate(self, session, bind):
            ok = bind.password == "secret"
            return CommandStatus.ESME_ROK if ok else CommandStatus.ESME_RINVPASWD

        async def handle_submit_sm(self, session, pdu):
            return SubmitSmResp(message_id=new_id())

    async with SmppServer(handler=Handler(), port=2775) as server:
        ...
        session = server.receiver_for("acme")
        if session is not None:
            await session.deliver(DeliverSm(esm_class=EsmClass.SMSC_DELIVERY_RECEIPT, ...))

One :class:`SmppSession` per connection. Requests of a session are handed to the hooks one at a
time, in arrival order; a hook that must do slow work should answer first and work afterwards (or
the session's throughput is one request per hook latency). What the protocol itself demands
(enquire_link, unbind, refusing a submit before the bind, generic_nack for garbage, closing on a
broken frame) is done by :class:`~marconi.smpp.SmppConnection` before a hook is involved. A hook
that raises is answered with ESME_RSYSERR and logged; the session goes on. Nothing a peer sends can
stop the server: a session that cannot go on is closed alone.
"""

from __future__ import annotations

import asyncio
import logging
import ssl as _ssl
import time
from collections import deque
from types import TracebackType
from typing import Final, Protocol, TypeAlias, TypeVar

from marconi.errors import CommandStatusError, MarconiError
from marconi.smpp import (
    DEFAULT_MAX_COMMAND_LENGTH,
    BindReceiver,
    BindReceiverResp,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    BindTransmitterResp,
    CancelSm,
    CancelSmResp,
    CommandStatus,
    DataSm,
    DataSmResp,
    DeliverSm,
    DeliverSmResp,
    EncodedDeliverSm,
    EnquireLink,
    QuerySm,
    QuerySmResp,
    ReplaceSm,
    ReplaceSmResp,
    Request,
    Response,
    Role,
    SmppConnection,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    response_to,
)
from marconi.transport.client import BindType
from marconi.transport.link import Link, Waiter
from marconi.transport.stream import AsyncStream, TcpListener, start_tcp_listener
from marconi.transport.throttle import Clock

__all__ = ["BaseHandler", "Bind", "SmppHandler", "SmppServer", "SmppSession"]

log = logging.getLogger(__name__)

Bind: TypeAlias = BindTransmitter | BindReceiver | BindTransceiver
"""A bind request of any type."""

_R = TypeVar("_R", bound=Response)

_BIND_TYPES: Final[dict[type[Bind], tuple[BindType, type[Response]]]] = {
    BindTransmitter: (BindType.TRANSMITTER, BindTransmitterResp),
    BindReceiver: (BindType.RECEIVER, BindReceiverResp),
    BindTransceiver: (BindType.TRANSCEIVER, BindTransceiverResp),
}


class SmppHandler(Protocol):
    """What the application decides. Subclass :class:`BaseHandler` to get the defaults.

    Message hooks return the response PDU (its sequence_number is filled in) or a bare
    command_status, answered with an empty response of the right type.
    """

    async def authenticate(self, session: SmppSession, bind: Bind) -> int:
        """The command_status for this bind: ESME_ROK to accept it."""
        ...

    async def session_bound(self, session: SmppSession) -> None:
        """The bind was accepted and answered; the session is in the registry."""
        ...

    async def handle_submit_sm(self, session: SmppSession, pdu: SubmitSm) -> SubmitSmResp | int: ...

    async def handle_submit_multi(
        self, session: SmppSession, pdu: SubmitMulti
    ) -> SubmitMultiResp | int: ...

    async def handle_data_sm(self, session: SmppSession, pdu: DataSm) -> DataSmResp | int: ...

    async def handle_query_sm(self, session: SmppSession, pdu: QuerySm) -> QuerySmResp | int: ...

    async def handle_cancel_sm(self, session: SmppSession, pdu: CancelSm) -> CancelSmResp | int: ...

    async def handle_replace_sm(
        self, session: SmppSession, pdu: ReplaceSm
    ) -> ReplaceSmResp | int: ...

    async def handle_unbind(self, session: SmppSession) -> None:
        """The ESME unbound (the unbind_resp is already sent)."""
        ...

    async def session_closed(self, session: SmppSession, reason: str) -> None:
        """The connection is gone; the session has left the registry."""
        ...


class BaseHandler:
    """Accepts every bind and refuses every message operation with ESME_RINVCMDID.

    Override what you support; the rest keeps answering sensibly.
    """

    async def authenticate(self, session: SmppSession, bind: Bind) -> int:
        return CommandStatus.ESME_ROK

    async def session_bound(self, session: SmppSession) -> None:
        return None

    async def handle_submit_sm(self, session: SmppSession, pdu: SubmitSm) -> SubmitSmResp | int:
        return CommandStatus.ESME_RINVCMDID

    async def handle_submit_multi(
        self, session: SmppSession, pdu: SubmitMulti
    ) -> SubmitMultiResp | int:
        return CommandStatus.ESME_RINVCMDID

    async def handle_data_sm(self, session: SmppSession, pdu: DataSm) -> DataSmResp | int:
        return CommandStatus.ESME_RINVCMDID

    async def handle_query_sm(self, session: SmppSession, pdu: QuerySm) -> QuerySmResp | int:
        return CommandStatus.ESME_RINVCMDID

    async def handle_cancel_sm(self, session: SmppSession, pdu: CancelSm) -> CancelSmResp | int:
        return CommandStatus.ESME_RINVCMDID

    async def handle_replace_sm(self, session: SmppSession, pdu: ReplaceSm) -> ReplaceSmResp | int:
        return CommandStatus.ESME_RINVCMDID

    async def handle_unbind(self, session: SmppSession) -> None:
        return None

    async def session_closed(self, session: SmppSession, reason: str) -> None:
        return None


class SmppSession:
    """One ESME connection: its bind, its requests, and what the server pushes to it."""

    def __init__(self, server: SmppServer, stream: AsyncStream) -> None:
        self.server = server
        self.stream = stream
        self.id = server._next_session_id()
        self.system_id: str | None = None
        self.system_type: str = ""
        self.bind_type: BindType | None = None
        self.bind: Bind | None = None
        self.bound_at: float | None = None
        self.peername: object = stream.get_extra_info("peername")
        self.close_reason: str | None = None
        self.enquire_links = 0
        """enquire_link received from the ESME (each answered by the protocol core)."""
        self._receiver = False
        connection = SmppConnection(
            role=Role.SMSC,
            window=server.window,
            clock=server._clock,
            response_timeout=server.response_timeout,
            enquire_link_interval=server.enquire_link_interval,
            max_command_length=server.max_command_length,
            receive_window=server.receive_window,
        )
        self.link = Link(
            connection=connection,
            stream=stream,
            window=server.window,
            on_request=self._on_request,
            clock=server._clock,
            tick_interval=server._tick_interval,
            name=f"session {self.id}",
        )
        self._inbound: deque[Request] = deque()
        self._wakeup: asyncio.Future[None] | None = None
        self._worker: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return (
            f"<SmppSession {self.id} system_id={self.system_id!r} "
            f"bind={self.bind_type.value if self.bind_type else None} peer={self.peername!r}>"
        )

    @property
    def bound(self) -> bool:
        return self.bind_type is not None and not self.link.closed

    @property
    def closed(self) -> bool:
        return self.link.closed

    @property
    def can_receive(self) -> bool:
        """Bound as receiver or transceiver: deliver_sm may be pushed to it."""
        return self._receiver and not self.link.closed

    # -- pushing to the ESME -----------------------------------------------------------------

    def deliver_nowait(self, pdu: DeliverSm) -> asyncio.Future[Response]:
        """Queue a deliver_sm behind the window; the future resolves with the response as is.

        It fails with TransportError when the session ends first, ResponseTimeout when the ESME
        does not answer, LocalProtocolError when the session is not bound to receive.
        """
        return self.link.request(pdu)

    def deliver_into(self, pdu: DeliverSm | EncodedDeliverSm, waiter: Waiter) -> None:
        """Like :meth:`deliver_nowait`, but the outcome goes to ``waiter``, resolved inline as the
        response is read (see :class:`~marconi.transport.link.Waiter`): no future per PDU, for a
        caller that pushes many and awaits none."""
        self.link.request_into(pdu, waiter)

    async def deliver(self, pdu: DeliverSm) -> DeliverSmResp:
        """Send a deliver_sm (waiting for a window slot) and return the ESME's response.

        A response with a non-zero command_status raises CommandStatusError (``.status``).
        """
        return await self._call(pdu, DeliverSmResp)

    async def data_sm(self, pdu: DataSm) -> DataSmResp:
        return await self._call(pdu, DataSmResp)

    async def _call(self, pdu: Request, expected: type[_R]) -> _R:
        resp = await self.link.request(pdu)
        if resp.command_status != 0 or type(resp) is not expected:
            raise CommandStatusError(resp.command_status, sequence_number=resp.sequence_number)
        return resp

    async def unbind(self, wait: float = 2.0) -> None:
        """Send unbind, wait up to ``wait`` seconds for the unbind_resp, then close."""
        link = self.link
        if link.closed:
            return
        if self.bind_type is not None:
            link.throttle = None
            try:
                async with asyncio.timeout(wait):
                    await link.request(Unbind())
            except (MarconiError, TimeoutError) as exc:
                log.info("%r: no unbind_resp (%s)", self, exc)
        link.close("unbound by the server")

    def close(self, reason: str = "closed by the server") -> None:
        self.link.close(reason)

    # -- the ESME's requests -----------------------------------------------------------------

    def _on_request(self, link: Link, pdu: Request) -> None:
        self._inbound.append(pdu)
        waiter = self._wakeup
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def run(self) -> None:
        """Serve the connection until it ends."""
        loop = asyncio.get_running_loop()
        server = self.server
        bind_timer = loop.call_later(server.bind_timeout, self._bind_timeout)
        self._worker = loop.create_task(self._work(), name=f"smpp-session {self.id}")
        try:
            self.close_reason = await self.link.run()
        finally:
            bind_timer.cancel()
            waiter = self._wakeup
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
            # A hook still busy gets a grace period to finish (its answer cannot be sent).
            await asyncio.wait({self._worker}, timeout=server.unbind_timeout)
            if not self._worker.done():
                self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)

    def _bind_timeout(self) -> None:
        if self.bind_type is None and not self.link.closed:
            log.info("%r: no bind within %s s", self, self.server.bind_timeout)
            self.link.close("no bind in time")

    async def _work(self) -> None:
        inbound = self._inbound
        link = self.link
        loop = asyncio.get_running_loop()
        handler = self.server.handler
        stream = self.stream
        first_flush = self.server.flush_every
        answered = 0
        next_flush = first_flush
        while True:
            if not inbound:
                if link.closed:
                    return
                answered = 0
                next_flush = first_flush
                waiter = loop.create_future()
                self._wakeup = waiter
                try:
                    await waiter
                finally:
                    self._wakeup = None
                continue
            pdu = inbound.popleft()
            if link.closed and type(pdu) is not Unbind:
                continue  # cannot be answered any more
            try:
                if type(pdu) is SubmitSm:  # the hot path, one coroutine shorter
                    self._answer(pdu, await handler.handle_submit_sm(self, pdu))
                else:
                    await self._dispatch(handler, pdu)
            except Exception:
                log.exception("%r: failed on %s", self, type(pdu).__name__)
                if pdu.response_class is not None:
                    link.respond(response_to(pdu, CommandStatus.ESME_RSYSERR))
            answered += 1
            if answered == next_flush:
                # Send the first answers of a batch early so that the ESME works on them while
                # we answer the rest; the gaps double, so a long batch costs few extra writes.
                next_flush *= 2
                stream.flush()

    async def _dispatch(self, handler: SmppHandler, pdu: Request) -> None:
        cls = type(pdu)
        result: Response | int
        if cls is SubmitSm:
            result = await handler.handle_submit_sm(self, pdu)  # type: ignore[arg-type]
        elif cls is DeliverSm:
            result = CommandStatus.ESME_RINVCMDID
        elif cls in _BIND_TYPES:
            await self._bind(handler, pdu)  # type: ignore[arg-type]
            return
        elif cls is DataSm:
            result = await handler.handle_data_sm(self, pdu)  # type: ignore[arg-type]
        elif cls is QuerySm:
            result = await handler.handle_query_sm(self, pdu)  # type: ignore[arg-type]
        elif cls is CancelSm:
            result = await handler.handle_cancel_sm(self, pdu)  # type: ignore[arg-type]
        elif cls is ReplaceSm:
            result = await handler.handle_replace_sm(self, pdu)  # type: ignore[arg-type]
        elif cls is SubmitMulti:
            result = await handler.handle_submit_multi(self, pdu)  # type: ignore[arg-type]
        elif cls is Unbind:
            await handler.handle_unbind(self)
            return
        elif cls is EnquireLink:
            self.enquire_links += 1  # the connection answered it already
            return
        else:
            return
        self._answer(pdu, result)

    def _answer(self, pdu: Request, result: Response | int) -> None:
        if isinstance(result, int):
            self.link.respond(response_to(pdu, result))
            return
        self.link.respond(result, pdu.sequence_number)

    async def _bind(self, handler: SmppHandler, pdu: Bind) -> None:
        bind_type, resp_class = _BIND_TYPES[type(pdu)]
        server = self.server
        try:
            status = int(await handler.authenticate(self, pdu))
        except Exception:
            log.exception("%r: authenticate failed", self)
            status = CommandStatus.ESME_RBINDFAIL
        resp = resp_class(
            sequence_number=pdu.sequence_number,
            command_status=status,
            system_id=server.system_id,  # type: ignore[call-arg]
        )
        self.link.respond(resp)
        if status != CommandStatus.ESME_ROK or self.link.closed:
            return
        self.bind = pdu
        self.system_id = pdu.system_id
        self.system_type = pdu.system_type
        self.bind_type = bind_type
        self._receiver = bind_type is not BindType.TRANSMITTER
        self.bound_at = server._clock()
        server._register(self)
        await handler.session_bound(self)


class SmppServer:
    """Listens for ESMEs; see the module documentation."""

    def __init__(
        self,
        *,
        handler: SmppHandler | None = None,
        host: str = "127.0.0.1",
        port: int = 2775,
        ssl: _ssl.SSLContext | None = None,
        system_id: str = "marconi",
        window: int = 64,
        receive_window: int | None = 1024,
        max_command_length: int = DEFAULT_MAX_COMMAND_LENGTH,
        max_sessions: int | None = 1000,
        bind_timeout: float = 10.0,
        response_timeout: float = 30.0,
        enquire_link_interval: float | None = 60.0,
        unbind_timeout: float = 2.0,
        clock: Clock = time.monotonic,
        flush_every: int = 16,
    ) -> None:
        if window < 1:
            raise ValueError(f"window must be at least 1, not {window}")
        if receive_window is not None and receive_window < 1:
            raise ValueError(f"receive_window must be at least 1 or None, not {receive_window}")
        for what, value in (
            ("bind_timeout", bind_timeout),
            ("response_timeout", response_timeout),
            ("enquire_link_interval", enquire_link_interval),
        ):
            if value is not None and not value > 0:
                raise ValueError(f"{what} must be > 0, not {value!r}")
        self.handler: SmppHandler = handler if handler is not None else BaseHandler()
        self.host = host
        self._port = port
        self._ssl = ssl
        self.system_id = system_id
        self.window = window
        self.receive_window = receive_window
        self.max_command_length = max_command_length
        self.max_sessions = max_sessions
        self.bind_timeout = bind_timeout
        self.response_timeout = response_timeout
        self.enquire_link_interval = enquire_link_interval
        self.unbind_timeout = unbind_timeout
        self._clock = clock
        self.flush_every = max(1, flush_every)
        intervals = [1.0, response_timeout / 4]
        if enquire_link_interval is not None:
            intervals.append(enquire_link_interval / 4)
        self._tick_interval = max(0.005, min(intervals))
        self._listener: TcpListener | None = None
        self._sessions: dict[int, SmppSession] = {}
        self._bound: dict[str, list[SmppSession]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._session_ids = 0
        self._round_robin = 0
        self._closing = False
        self.sessions_refused = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start listening (port 0 picks a free port; read :attr:`port` afterwards)."""
        if self._listener is not None:
            return
        self._listener = await start_tcp_listener(
            self._accept, host=self.host, port=self._port, ssl=self._ssl
        )

    @property
    def port(self) -> int:
        if self._listener is not None:
            return self._listener.port
        return self._port

    async def __aenter__(self) -> SmppServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop listening, unbind every session (briefly waiting for unbind_resp), close them."""
        self._closing = True
        if self._listener is not None:
            await self._listener.aclose()
        sessions = list(self._sessions.values())
        if sessions:
            await asyncio.gather(
                *(s.unbind(self.unbind_timeout) for s in sessions), return_exceptions=True
            )
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _accept(self, stream: AsyncStream) -> None:
        task = asyncio.get_running_loop().create_task(self.serve_stream(stream))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def serve_stream(self, stream: AsyncStream) -> None:
        """Run one session over ``stream`` until it ends (in-memory tests call this directly)."""
        if self._closing or (
            self.max_sessions is not None and len(self._sessions) >= self.max_sessions
        ):
            self.sessions_refused += 1
            stream.abort()
            return
        session = SmppSession(self, stream)
        self._sessions[session.id] = session
        try:
            await session.run()
        except Exception:
            log.exception("%r: session failed", session)
        finally:
            session.link.close(session.close_reason or "session ended")
            self._unregister(session)
            try:
                await self.handler.session_closed(session, session.close_reason or "closed")
            except Exception:
                log.exception("%r: session_closed hook failed", session)

    # -- registry ----------------------------------------------------------------------------

    def _next_session_id(self) -> int:
        self._session_ids += 1
        return self._session_ids

    def _register(self, session: SmppSession) -> None:
        assert session.system_id is not None
        self._bound.setdefault(session.system_id, []).append(session)

    def _unregister(self, session: SmppSession) -> None:
        self._sessions.pop(session.id, None)
        if session.system_id is not None:
            binds = self._bound.get(session.system_id)
            if binds is not None and session in binds:
                binds.remove(session)
                if not binds:
                    del self._bound[session.system_id]

    @property
    def sessions(self) -> list[SmppSession]:
        """Every open session, bound or not."""
        return list(self._sessions.values())

    def bound_sessions(self, system_id: str | None = None) -> list[SmppSession]:
        """Bound sessions, of one system_id or of all."""
        if system_id is not None:
            return [s for s in self._bound.get(system_id, ()) if s.bound]
        return [s for binds in self._bound.values() for s in binds if s.bound]

    def receiver_for(self, system_id: str) -> SmppSession | None:
        """A session of ``system_id`` that may receive deliver_sm (round robin), or None."""
        candidates = [s for s in self._bound.get(system_id, ()) if s.can_receive]
        if not candidates:
            return None
        self._round_robin += 1
        return candidates[self._round_robin % len(candidates)]
