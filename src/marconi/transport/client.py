"""The SMPP client (ESME): bind, submit with a window and a throttle, receive receipts, reconnect.

::

    async with SmppClient(host="127.0.0.1", port=2775, system_id="acme", password="secret",
                          throughput=100, on_deliver_sm=handle_receipt) as client:
        resp = await client.submit(SubmitSm(source_addr="Acme", destination_addr="4915…",
                                            short_message=b"hello", registered_delivery=1))
        print(resp.message_id)

Behaviour, in one place:

* **Each submit awaits its own response.** A response with command_status ``ESME_ROK`` is
  returned; any other status raises :class:`~marconi.errors.CommandStatusError` (``.status``).
  No response within ``response_timeout`` raises :class:`~marconi.errors.ResponseTimeout`.
* **A full window makes callers wait**, never fail: requests queue (first come, first served) and
  go out as responses free slots. The throttle (``throughput`` messages per second, smooth) is
  applied in the same queue.
* **ESME_RTHROTTLED and ESME_RMSGQFUL are retried by the client**: the SMSC refused the message
  (it was not accepted), so sending it again is safe. Every such answer pauses all sending for a
  backoff delay that grows while refusals continue, halves the configured rate and lets it climb
  back over ten seconds. After ``throttle_retries`` refusals of the same message the status is
  raised as :class:`~marconi.errors.CommandStatusError`.
* **When the connection drops**, every request in flight or queued fails with
  :class:`~marconi.errors.TransportError` (the caller decides whether to resend: the SMSC may or
  may not have accepted an in-flight message). With ``reconnect=True`` the client connects and
  binds again with exponential backoff. While it is not bound, ``submit`` raises TransportError at
  once; ``on_bound`` / ``on_unbound`` tell a dispatcher when the link is up or down.
* **Inbound deliver_sm and data_sm** (receipts and MO) go to ``on_deliver_sm`` / ``on_data_sm``.
  The hook is called as the PDU arrives; an ``async def`` hook's coroutine is then awaited, one at
  a time in arrival order per connection, and a plain function's return value is used at once.
  What the hook returns is the command_status of the response sent for the PDU (raise, and the
  SMSC gets ESME_RX_T_APPN, a temporary error, so it delivers again later). If the connection
  ends before the hook is done, no response can be sent and the SMSC will deliver again: hooks
  must tolerate duplicates. Without a hook, deliver_sm and data_sm are acknowledged with ESME_ROK.
* **enquire_link** goes out when the link has been idle for ``enquire_link_interval``; a peer that
  does not answer it within ``response_timeout`` is taken for dead and the connection is dropped.
* :meth:`SmppClient.aclose` waits (briefly) for outstanding responses, sends unbind, waits briefly
  for unbind_resp, and closes.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import ssl as _ssl
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Final, TypeVar, cast

from marconi.errors import (
    CommandStatusError,
    ConnectError,
    MarconiError,
    RemoteProtocolError,
    TransportError,
)
from marconi.smpp import (
    DEFAULT_MAX_COMMAND_LENGTH,
    AlertNotification,
    BindReceiver,
    BindTransceiver,
    BindTransmitter,
    CancelSm,
    CancelSmResp,
    CommandStatus,
    DataSm,
    DataSmResp,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    GenericNack,
    Outbind,
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
from marconi.transport.backoff import Backoff
from marconi.transport.link import Link
from marconi.transport.stream import Connector, TcpConnector
from marconi.transport.throttle import AdaptiveThrottle, Clock

__all__ = ["BindType", "DataSmHook", "DeliverSmHook", "SmppClient", "StateHook"]

log = logging.getLogger(__name__)

DeliverSmHook = Callable[[DeliverSm], Awaitable[int] | int]
"""Handles a receipt or an MO message; returns the command_status to answer with.

An ``async def`` hook is awaited, one at a time per connection in arrival order; a plain function
is called at once and its answer leaves with the next write (the fastest path, for hooks that only
hand the PDU on)."""

DataSmHook = Callable[[DataSm], Awaitable[int] | int]
"""Handles an inbound data_sm; like :data:`DeliverSmHook`."""

StateHook = Callable[["SmppClient"], None]
"""Told that the client is now bound, or no longer bound."""

_RETRY_STATUSES: Final = frozenset({CommandStatus.ESME_RTHROTTLED, CommandStatus.ESME_RMSGQFUL})

_R = TypeVar("_R", bound=Response)

# The usual answer to an inbound message, built once: the link sends it under each request's number.
_ACCEPTED: Final[dict[type[Request], Response]] = {
    DeliverSm: DeliverSmResp(),
    DataSm: DataSmResp(),
}


class BindType(enum.Enum):
    """How the client binds: send only, receive only, or both on one connection."""

    TRANSMITTER = "tx"
    RECEIVER = "rx"
    TRANSCEIVER = "trx"


_BIND_CLASSES: Final = {
    BindType.TRANSMITTER: BindTransmitter,
    BindType.RECEIVER: BindReceiver,
    BindType.TRANSCEIVER: BindTransceiver,
}


class SmppClient:
    """An ESME: one connection to one SMSC, kept bound. See the module documentation."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        system_id: str,
        password: str,
        system_type: str = "",
        bind_type: BindType = BindType.TRANSCEIVER,
        addr_ton: int = 0,
        addr_npi: int = 0,
        address_range: str = "",
        window: int = 64,
        throughput: float | None = None,
        burst: float = 1.0,
        ssl: _ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        enquire_link_interval: float = 30.0,
        response_timeout: float = 30.0,
        connect_timeout: float = 10.0,
        reconnect: bool = True,
        backoff: Backoff | None = None,
        throttle_backoff: Backoff | None = None,
        throttle_retries: int = 3,
        unbind_timeout: float = 2.0,
        max_command_length: int = DEFAULT_MAX_COMMAND_LENGTH,
        on_deliver_sm: DeliverSmHook | None = None,
        on_data_sm: DataSmHook | None = None,
        on_bound: StateHook | None = None,
        on_unbound: StateHook | None = None,
        connector: Connector | None = None,
        clock: Clock = time.monotonic,
        name: str | None = None,
    ) -> None:
        if window < 1:
            raise ValueError(f"window must be at least 1, not {window}")
        if throttle_retries < 0:
            raise ValueError(f"throttle_retries must be >= 0, not {throttle_retries}")
        for what, value in (
            ("enquire_link_interval", enquire_link_interval),
            ("response_timeout", response_timeout),
            ("connect_timeout", connect_timeout),
        ):
            if not value > 0:
                raise ValueError(f"{what} must be > 0, not {value!r}")
        self.host = host
        self.port = port
        self.system_id = system_id
        self._password = password
        self.system_type = system_type
        self.bind_type = bind_type
        self.addr_ton = addr_ton
        self.addr_npi = addr_npi
        self.address_range = address_range
        self.window = window
        self._ssl = ssl
        self._server_hostname = server_hostname
        self.enquire_link_interval = enquire_link_interval
        self.response_timeout = response_timeout
        self.connect_timeout = connect_timeout
        self.reconnect = reconnect
        self.backoff = backoff if backoff is not None else Backoff(initial=0.5, maximum=30.0)
        self._throttle = AdaptiveThrottle(
            rate=throughput,
            burst=burst,
            backoff=throttle_backoff,
            clock=clock,
        )
        self.throttle_retries = throttle_retries
        self.unbind_timeout = unbind_timeout
        self.max_command_length = max_command_length
        self.on_deliver_sm = on_deliver_sm
        self.on_data_sm = on_data_sm
        self.on_bound = on_bound
        self.on_unbound = on_unbound
        self._connector: Connector = connector if connector is not None else TcpConnector()
        self._clock = clock
        self.name = name or f"{system_id}@{host}:{port}"
        self._tick_interval = max(0.005, min(1.0, enquire_link_interval / 4, response_timeout / 4))

        self._link: Link | None = None
        self._link_task: asyncio.Task[str] | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._inbound: deque[tuple[Link, Request, Awaitable[int]]] = deque()
        self._inbound_wakeup: asyncio.Future[None] | None = None
        self._inbound_task: asyncio.Task[None] | None = None
        self._bound_event: asyncio.Event | None = None
        self._closing = False
        self.connects = 0
        self.last_error: BaseException | None = None
        self.peer_system_id: str | None = None

    # -- state -------------------------------------------------------------------------------

    @property
    def bound(self) -> bool:
        link = self._link
        return link is not None and not link.closed

    @property
    def throttle(self) -> AdaptiveThrottle:
        return self._throttle

    @property
    def outstanding(self) -> int:
        link = self._link
        return link.outstanding if link is not None else 0

    def _bound_flag(self) -> asyncio.Event:
        if self._bound_event is None:
            self._bound_event = asyncio.Event()
        return self._bound_event

    async def wait_bound(self) -> None:
        """Wait until the client is bound (use ``asyncio.timeout`` to bound the wait)."""
        while not self.bound:
            if self._closing:
                raise TransportError("the client is closed")
            if self._supervisor is None or self._supervisor.done():
                raise TransportError("the client is not connecting; call start() or connect()")
            flag = self._bound_flag()
            flag.clear()
            await flag.wait()

    # -- lifecycle ---------------------------------------------------------------------------

    async def connect(self) -> None:
        """Connect and bind once, raising ConnectError on failure; then stay bound.

        After a successful bind, a dropped connection is re-established in the background when
        ``reconnect`` is true.
        """
        if self._closing:
            raise TransportError("the client is closed")
        if self.bound:
            return
        await self._establish()
        self._start_supervisor(initial=False)

    def start(self) -> None:
        """Connect and bind in the background, retrying with backoff until bound and thereafter.

        Returns at once; watch ``on_bound`` / ``on_unbound`` or await :meth:`wait_bound`. With
        ``reconnect=False`` there is one attempt only (its error is in :attr:`last_error`).
        """
        if self._closing:
            raise TransportError("the client is closed")
        self._start_supervisor(initial=True)

    def _start_supervisor(self, *, initial: bool) -> None:
        if self._supervisor is None or self._supervisor.done():
            self._supervisor = asyncio.get_running_loop().create_task(
                self._supervise(initial), name=f"smpp-client {self.name}"
            )

    async def __aenter__(self) -> SmppClient:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _supervise(self, initial: bool) -> None:
        attempt = 0
        need_connect = initial
        try:
            while not self._closing:
                if need_connect:
                    try:
                        await self._establish()
                    except (ConnectError, TransportError) as exc:
                        self.last_error = exc
                        if not self.reconnect:
                            return
                        attempt += 1
                        delay = self.backoff.delay(attempt)
                        log.info("%s: %s; retrying in %.2f s", self.name, exc, delay)
                        await asyncio.sleep(delay)
                        continue
                attempt = 0
                link_task = self._link_task
                assert link_task is not None
                reason = await asyncio.shield(link_task)
                self._link_lost(reason)
                if self._closing or not self.reconnect:
                    return
                need_connect = True
                attempt = 1
                await asyncio.sleep(self.backoff.delay(attempt))
        finally:
            self._wake_waiters()

    async def _establish(self) -> None:
        """Open a connection and bind; on success the link is installed."""
        self.connects += 1
        stream = await self._connector.connect(
            self.host,
            self.port,
            ssl=self._ssl,
            server_hostname=self._server_hostname,
            connect_timeout=self.connect_timeout,
        )
        connection = SmppConnection(
            role=Role.ESME,
            window=self.window,
            clock=self._clock,
            response_timeout=self.response_timeout,
            enquire_link_interval=self.enquire_link_interval,
            max_command_length=self.max_command_length,
        )
        link = Link(
            connection=connection,
            stream=stream,
            window=self.window,
            on_request=self._on_request,
            clock=self._clock,
            tick_interval=self._tick_interval,
            name=self.name,
        )
        loop = asyncio.get_running_loop()
        link_task = loop.create_task(link.run(), name=f"smpp-reader {self.name}")
        bind = _BIND_CLASSES[self.bind_type](
            system_id=self.system_id,
            password=self._password,
            system_type=self.system_type,
            addr_ton=self.addr_ton,
            addr_npi=self.addr_npi,
            address_range=self.address_range,
        )
        try:
            async with asyncio.timeout(self.connect_timeout + self.response_timeout):
                resp = await link.request(bind)
        except (MarconiError, TimeoutError) as exc:
            link.close("bind failed")
            await asyncio.gather(link_task, return_exceptions=True)
            raise ConnectError(f"{self.name}: bind failed: {exc or 'timed out'}") from exc
        except BaseException:
            link.close("cancelled while binding")
            link_task.cancel()
            raise
        if resp.command_status != CommandStatus.ESME_ROK:
            link.close("bind refused")
            await asyncio.gather(link_task, return_exceptions=True)
            error = CommandStatusError(resp.command_status, sequence_number=resp.sequence_number)
            raise ConnectError(
                f"{self.name}: bind refused with {_status_name(resp.command_status)}"
            ) from error
        self.peer_system_id = getattr(resp, "system_id", None)
        link.throttle = self._throttle
        self._link = link
        self._link_task = link_task
        self.last_error = None
        log.info("%s: bound as %s", self.name, self.bind_type.value)
        self._wake_waiters()
        if self.on_bound is not None:
            try:
                self.on_bound(self)
            except Exception:
                log.exception("%s: on_bound failed", self.name)

    def _link_lost(self, reason: str) -> None:
        log.info("%s: connection ended: %s", self.name, reason)
        if self.on_unbound is not None:
            try:
                self.on_unbound(self)
            except Exception:
                log.exception("%s: on_unbound failed", self.name)

    def _wake_waiters(self) -> None:
        if self._bound_event is not None:
            self._bound_event.set()

    async def aclose(self) -> None:
        """Unbind gracefully and close; stops reconnecting. Safe to call twice."""
        if self._closing:
            if self._supervisor is not None:
                await asyncio.gather(self._supervisor, return_exceptions=True)
            return
        self._closing = True
        link = self._link
        if link is not None and not link.closed:
            try:
                async with asyncio.timeout(self.unbind_timeout):
                    await link.wait_idle()
            except TimeoutError:
                log.info("%s: closing with %d requests unanswered", self.name, link.outstanding)
            try:
                async with asyncio.timeout(self.unbind_timeout):
                    link.throttle = None
                    await link.request(Unbind())
            except (MarconiError, TimeoutError) as exc:
                log.info("%s: no unbind_resp (%s); closing anyway", self.name, exc)
            link.close("unbound")
        if self._link_task is not None:
            await asyncio.gather(self._link_task, return_exceptions=True)
        if self._supervisor is not None:
            if not self._supervisor.done():
                self._supervisor.cancel()
            await asyncio.gather(self._supervisor, return_exceptions=True)
        if self._inbound_task is not None:
            self._wake_inbound()
            # A hook still busy gets a grace period to finish (its answer cannot be sent).
            await asyncio.wait({self._inbound_task}, timeout=self.unbind_timeout)
            if not self._inbound_task.done():
                self._inbound_task.cancel()
            await asyncio.gather(self._inbound_task, return_exceptions=True)
        self._wake_waiters()

    # -- requests ----------------------------------------------------------------------------

    def _current_link(self) -> Link:
        link = self._link
        if link is None or link.closed:
            if self._closing:
                raise TransportError(f"{self.name}: the client is closed")
            raise TransportError(f"{self.name}: not bound")
        return link

    async def submit(self, pdu: SubmitSm) -> SubmitSmResp:
        """Send one submit_sm and return its response; see the module documentation for errors."""
        return await self._call(pdu, SubmitSmResp)

    async def submit_multi(self, pdu: SubmitMulti) -> SubmitMultiResp:
        return await self._call(pdu, SubmitMultiResp)

    async def data_sm(self, pdu: DataSm) -> DataSmResp:
        return await self._call(pdu, DataSmResp)

    async def query_sm(self, pdu: QuerySm) -> QuerySmResp:
        return await self._call(pdu, QuerySmResp)

    async def cancel_sm(self, pdu: CancelSm) -> CancelSmResp:
        return await self._call(pdu, CancelSmResp)

    async def replace_sm(self, pdu: ReplaceSm) -> ReplaceSmResp:
        return await self._call(pdu, ReplaceSmResp)

    async def _call(self, pdu: Request, expected: type[_R]) -> _R:
        retries = self.throttle_retries
        throttle = self._throttle
        while True:
            resp = await self._current_link().request(pdu)
            status = resp.command_status
            if status == 0 and type(resp) is expected:
                throttle.accepted()
                return resp
            if status in _RETRY_STATUSES:
                throttle.throttled()
                if retries > 0:
                    retries -= 1
                    continue
            raise _status_error(resp, expected)

    async def submit_many(self, pdus: Sequence[SubmitSm]) -> list[SubmitSmResp | MarconiError]:
        """Submit a batch, pipelined through the window; one result per PDU, in order.

        Each result is the submit_sm_resp, or the error that :meth:`submit` would have raised for
        that PDU (throttling refusals are retried the same way). Cheaper than one task per submit.
        """
        # every slot is filled below: each pass sets a result for every index it tries
        results: list[SubmitSmResp | MarconiError | None] = [None] * len(pdus)
        todo = list(range(len(pdus)))
        retries = self.throttle_retries
        throttle = self._throttle
        while todo:
            try:
                link = self._current_link()
            except TransportError as exc:
                for index in todo:
                    results[index] = exc
                break
            futures = [(index, link.request(pdus[index])) for index in todo]
            again: list[int] = []
            for index, future in futures:
                try:
                    resp = await future
                except MarconiError as exc:
                    results[index] = exc
                    continue
                status = resp.command_status
                if status == 0 and type(resp) is SubmitSmResp:
                    throttle.accepted()
                    results[index] = resp
                    continue
                if status in _RETRY_STATUSES:
                    throttle.throttled()
                    if retries > 0:
                        again.append(index)
                results[index] = _status_error(resp, SubmitSmResp)
            if again:
                retries -= 1
            todo = again
        return cast(list[SubmitSmResp | MarconiError], results)

    async def request(self, pdu: Request) -> Response:
        """Send any request and return its response whatever its command_status."""
        return await self._current_link().request(pdu)

    # -- inbound -----------------------------------------------------------------------------

    def _on_request(self, link: Link, pdu: Request) -> None:
        hook: DeliverSmHook | DataSmHook | None
        if type(pdu) is DeliverSm:
            hook = self.on_deliver_sm
        elif type(pdu) is DataSm:
            hook = self.on_data_sm
        elif isinstance(pdu, (Unbind, EnquireLink, Outbind, AlertNotification)):
            return  # the connection answered it (or it needs no answer)
        else:
            link.respond(response_to(pdu, CommandStatus.ESME_RINVCMDID))
            return
        if hook is None:
            link.respond(_ACCEPTED[type(pdu)], pdu.sequence_number)
            return
        try:
            result = hook(pdu)  # type: ignore[arg-type]
        except Exception:
            log.exception("%s: inbound hook failed; answering ESME_RX_T_APPN", self.name)
            result = CommandStatus.ESME_RX_T_APPN
        if isinstance(result, int):
            # a plain function answered at once: no task, and the response joins this write
            if result == CommandStatus.ESME_ROK:
                link.respond(_ACCEPTED[type(pdu)], pdu.sequence_number)
            else:
                link.respond(response_to(pdu, result))
            return
        self._inbound.append((link, pdu, result))
        if self._inbound_task is None or self._inbound_task.done():
            self._inbound_task = asyncio.get_running_loop().create_task(
                self._inbound_worker(), name=f"smpp-inbound {self.name}"
            )
        else:
            self._wake_inbound()

    def _wake_inbound(self) -> None:
        waiter = self._inbound_wakeup
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _inbound_worker(self) -> None:
        inbound = self._inbound
        loop = asyncio.get_running_loop()
        while not self._closing or inbound:
            if not inbound:
                waiter = loop.create_future()
                self._inbound_wakeup = waiter
                try:
                    await waiter
                finally:
                    self._inbound_wakeup = None
                continue
            link, pdu, pending = inbound.popleft()
            status: int
            try:
                status = int(await pending)
            except Exception:
                log.exception("%s: inbound hook failed; answering ESME_RX_T_APPN", self.name)
                status = CommandStatus.ESME_RX_T_APPN
            if not link.closed:
                link.respond(response_to(pdu, status))


def _status_name(status: int) -> str:
    try:
        return CommandStatus(status).name
    except ValueError:
        return f"0x{status:08X}"


def _status_error(resp: Response, expected: type[Response]) -> MarconiError:
    if resp.command_status != 0:
        return CommandStatusError(resp.command_status, sequence_number=resp.sequence_number)
    if isinstance(resp, GenericNack):
        return CommandStatusError(resp.command_status, sequence_number=resp.sequence_number)
    return RemoteProtocolError(
        f"expected {expected.__name__}, got {type(resp).__name__} "
        f"for sequence_number {resp.sequence_number}"
    )
