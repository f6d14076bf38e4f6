"""The built-in SMSC: an :class:`~marconi.transport.SmppServer` with a carrier's behaviour.

::

    async with Simulator(SimulatorConfig(port=0)) as smsc:
        ...  # bind an ESME to 127.0.0.1:smsc.port, submit, receive receipts
        await smsc.inject_mo(source="447700900123", destination="12345", text="STOP")
        smsc.faults = Faults(throttle_every=10)
        print(smsc.handset("447700900123"))

What happens to a submit_sm, in order:

1. the fault modes may answer instead (see :mod:`marconi.simulator.fault`);
2. the delivery rules decide its fate and delay, once (see :mod:`marconi.simulator.rule`); a
   destination rule may refuse it outright with a command_status;
3. it gets the next message id and a :class:`~marconi.simulator.record.MessageRecord`, kept for
   ``query_sm`` / ``cancel_sm`` among the last ``query_window`` messages;
4. if registered_delivery asks for a receipt of that fate, the record goes into one timer wheel; a
   single event-loop timer fires for every batch of due receipts, which go out as deliver_sm over a
   receiver or transceiver bind of the same system_id (round robin);
5. it is filed in the virtual handset of its destination (raw octets; decoded only when read).

No task, no sleep and no decoding per message: the submit path is a handful of dict and list
operations, so the simulator keeps up with fast clients (see docs/simulator.md for figures).

Receipts whose system_id has no receiver bound wait in a queue of ``queue_per_system_id`` per
system_id (the oldest dropped first when it overflows) and go out as soon as a receiver binds. A
receipt in flight on a connection that drops is queued again the same way.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final

from marconi.errors import LocalProtocolError
from marconi.simulator.admin import AdminServer
from marconi.simulator.config import SimulatorConfig
from marconi.simulator.fault import FaultAction, FaultInjector, Faults
from marconi.simulator.handset import HandsetBook, HandsetMessage
from marconi.simulator.message_id import MessageIdFactory
from marconi.simulator.receipt import ReceiptBuilder
from marconi.simulator.record import (
    RECEIPT_NONE,
    Destination,
    MessageBook,
    MessageRecord,
    Submitted,
)
from marconi.simulator.rule import DeliveryRules, Fate
from marconi.simulator.stats import Counters, Summary
from marconi.simulator.stream import FaultStream
from marconi.simulator.wheel import TimerWheel
from marconi.smpp import (
    CancelSm,
    CancelSmResp,
    CommandStatus,
    DataSm,
    DataSmResp,
    DeliverSm,
    DistributionList,
    GenericNack,
    QuerySm,
    QuerySmResp,
    ReplaceSm,
    ReplaceSmResp,
    Response,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    SubmitSmResp,
    Tag,
    Tlvs,
    UnsuccessSme,
)
from marconi.text.segment import Concatenation, encode_message
from marconi.transport.server import BaseHandler, Bind, SmppServer, SmppSession
from marconi.transport.stream import TcpListener, TcpStream, start_tcp_listener
from marconi.transport.tls import server_ssl_context

__all__ = ["Simulator"]

logger = logging.getLogger("marconi.simulator")

# Receipts sent per timer callback; the rest wait for the next turn of the loop.
_RECEIPT_BATCH: Final = 2_000
# A receiver with this many deliver_sm outstanding or queued gets no more until it catches up.
_BACKLOG_FACTOR: Final = 4
_RETRY_PARKED: Final = 0.05


def _address_kind(address: str) -> tuple[int, int]:
    """TON and NPI for an address we make up: international numbers, short codes, names."""
    digits = address.removeprefix("+")
    if digits.isdigit():
        return (1, 1) if len(digits) > 8 else (3, 1)
    return (5, 0)


class Simulator:
    """The built-in SMSC; see the module documentation. Construct, then ``start()`` or use
    ``async with``."""

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        *,
        summary_interval: float | None = None,
    ) -> None:
        cfg = config if config is not None else SimulatorConfig()
        self.config = cfg
        self.counters = Counters()
        self._rng = random.Random(cfg.seed)
        self._injector = FaultInjector(cfg.faults, rng=self._rng)
        self._faults = cfg.faults
        self._faulty = cfg.faults.touches_submits
        self._slow = cfg.faults.slow_receipts
        self._rules = cfg.rules
        self._ids = MessageIdFactory(id_format=cfg.id_format, start=cfg.id_start)
        self._book = MessageBook(capacity=cfg.query_window)
        self._handsets: HandsetBook | None = None
        if cfg.handsets:
            self._handsets = HandsetBook(capacity=cfg.handset_capacity, per_handset=cfg.per_handset)
        self._accounts = {a.system_id: a.password for a in cfg.accounts}
        self._wheel: TimerWheel[MessageRecord] = TimerWheel()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due = 0.0
        # receipts waiting for a receiver, per system_id
        self._parked: dict[str, deque[MessageRecord]] = {}
        self._park_timer: asyncio.TimerHandle | None = None
        self._session_submits: dict[int, int] = {}
        self._streams: set[FaultStream] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._mo_reference = self._rng.randrange(256)
        self._wall_offset = 0.0
        self._receipts = ReceiptBuilder()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_time: Callable[[], float] = time.monotonic
        self._listener: TcpListener | None = None
        self._admin: AdminServer | None = None
        self._summary_interval = summary_interval
        self._summary: Summary | None = None
        self._summary_timer: asyncio.TimerHandle | None = None
        self._trace = False
        self._stopping = False
        self._server = SmppServer(
            handler=_Handler(self),
            host=cfg.host,
            port=cfg.port,
            window=cfg.window,
            system_id="marconi-smsc",
        )

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen for ESMEs (and on the admin port, when configured)."""
        if self._listener is not None:
            return
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._wall_offset = time.time() - loop.time()
        self._loop_time = loop.time
        self._receipts.clock_offset = self._wall_offset
        if self._handsets is not None:
            self._handsets.clock_offset = self._wall_offset
        self._trace = logger.isEnabledFor(logging.DEBUG)
        cfg = self.config
        ssl = None
        if cfg.tls_cert is not None:
            ssl = server_ssl_context(certfile=cfg.tls_cert, keyfile=cfg.tls_key)
        self._listener = await start_tcp_listener(
            self._accept, host=cfg.host, port=cfg.port, ssl=ssl
        )
        if cfg.admin_port is not None:
            self._admin = AdminServer(self, host=cfg.admin_host, port=cfg.admin_port)
            await self._admin.start()
        if self._summary_interval is not None:
            self._summary = Summary(self.counters, loop.time())
            self._summary_timer = loop.call_later(self._summary_interval, self._log_summary)

    async def aclose(self) -> None:
        """Stop listening, unbind every ESME, and forget pending receipts."""
        self._stopping = True
        if self._listener is not None:
            await self._listener.aclose()
        if self._admin is not None:
            await self._admin.aclose()
            self._admin = None
        for handle in (self._timer, self._park_timer, self._summary_timer):
            if handle is not None:
                handle.cancel()
        self._timer = self._park_timer = self._summary_timer = None
        await self._server.aclose()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._listener = None

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def port(self) -> int:
        """The SMPP port actually listened on (after ``start()``)."""
        if self._listener is None:
            return self.config.port
        return self._listener.port

    @property
    def admin_port(self) -> int | None:
        return self._admin.port if self._admin is not None else None

    @property
    def server(self) -> SmppServer:
        return self._server

    def _accept(self, stream: TcpStream) -> None:
        wrapped = FaultStream(stream)
        wrapped.silent = self._faults.black_hole
        self._streams.add(wrapped)
        self._spawn(self._serve(wrapped))

    async def _serve(self, stream: FaultStream) -> None:
        try:
            await self._server.serve_stream(stream)
        finally:
            self._streams.discard(stream)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        loop = self._loop or asyncio.get_running_loop()
        task = loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    def _stream_of(session: SmppSession) -> FaultStream | None:
        stream = session.stream
        return stream if isinstance(stream, FaultStream) else None

    # -- runtime control ---------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._faults = faults
        self._injector.faults = faults
        self._faulty = faults.touches_submits
        self._slow = faults.slow_receipts
        for stream in self._streams:
            stream.silent = faults.black_hole
        logger.info("faults: %s", faults.describe())

    @property
    def rules(self) -> DeliveryRules:
        return self._rules

    @rules.setter
    def rules(self, rules: DeliveryRules) -> None:
        self._rules = rules

    # -- inspection --------------------------------------------------------------------------

    def _now(self) -> float:
        loop = self._loop
        return loop.time() if loop is not None else time.monotonic()

    def message(self, message_id: str) -> MessageRecord | None:
        """The record of a recent message (what ``query_sm`` sees), or ``None``."""
        return self._book.get(self._ids.canonical(message_id))

    def handset(self, number: str) -> list[HandsetMessage]:
        """The messages of one virtual handset, oldest first (empty when handsets are off)."""
        if self._handsets is None:
            return []
        return self._handsets.messages(number, now=self._now())

    def handset_numbers(self) -> list[str]:
        return self._handsets.numbers() if self._handsets is not None else []

    @property
    def pending_receipts(self) -> int:
        """Receipts scheduled or waiting for a receiver."""
        return len(self._wheel) + sum(len(q) for q in self._parked.values())

    def stats(self) -> Mapping[str, int | float]:
        values: dict[str, int | float] = dict(self.counters.snapshot())
        values["sessions"] = len(self._server.bound_sessions())
        values["receipts_pending"] = self.pending_receipts
        values["tracked_messages"] = len(self._book)
        return values

    def _log_summary(self) -> None:
        loop = self._loop
        if loop is None or self._summary is None or self._summary_interval is None:
            return
        line = self._summary.line(
            self.counters,
            loop.time(),
            sessions=len(self._server.bound_sessions()),
            pending=self.pending_receipts,
        )
        if line is not None:
            logger.info("%s", line)
        self._summary_timer = loop.call_later(self._summary_interval, self._log_summary)

    # -- binds -------------------------------------------------------------------------------

    def _authenticate(self, session: SmppSession, bind: Bind) -> int:
        stream = self._stream_of(session)
        if stream is not None and stream.silent:
            return CommandStatus.ESME_RBINDFAIL  # nobody hears it anyway
        status = self._faults.reject_binds
        if status is None and not self.config.accept_any:
            password = self._accounts.get(bind.system_id)
            if password is None:
                status = CommandStatus.ESME_RINVSYSID
            elif password != bind.password:
                status = CommandStatus.ESME_RINVPASWD
        if status is not None:
            self.counters.bind_failures += 1
            logger.info(
                "bind refused: system_id=%r from %s, status 0x%08X",
                bind.system_id,
                session.peername,
                status,
            )
            return status
        return CommandStatus.ESME_ROK

    def _bound(self, session: SmppSession) -> None:
        self.counters.binds += 1
        logger.info(
            "bound: system_id=%r as %s from %s",
            session.system_id,
            session.bind_type.name.lower() if session.bind_type else "?",
            session.peername,
        )
        if session.can_receive and session.system_id is not None:
            self._flush_parked(session.system_id)

    def _closed(self, session: SmppSession, reason: str) -> None:
        self._session_submits.pop(session.id, None)
        if session.system_id is not None:
            logger.info("closed: system_id=%r (%s)", session.system_id, reason)

    # -- submits -----------------------------------------------------------------------------

    def _fault(self, session: SmppSession, sequence_number: int) -> FaultAction:
        count = self._session_submits.get(session.id, 0) + 1
        self._session_submits[session.id] = count
        action = self._injector.on_submit(count, self._now())
        if action is not FaultAction.RESPOND:
            self.counters.faults += 1
            stream = self._stream_of(session)
            if action is FaultAction.UNBIND:
                # this submit and every later one stay unanswered: the unbind is the answer
                if stream is not None:
                    stream.mute_responses()
                logger.info("fault: unbinding %r after %d submits", session.system_id, count)
                self._spawn(session.unbind())
            elif action is FaultAction.DROP:
                if stream is not None:
                    stream.suppress(sequence_number)
                    stream.abort()
                else:
                    session.close("dropped by a fault")
                logger.info("fault: dropping %r after %d submits", session.system_id, count)
        return action

    def _fault_answer(self, action: FaultAction) -> int | Response:
        if action is FaultAction.THROTTLE:
            return CommandStatus.ESME_RTHROTTLED
        if action is FaultAction.GENERIC_NACK:
            return GenericNack(command_status=CommandStatus.ESME_RSYSERR)
        # SILENT, UNBIND, DROP: the stream swallows whatever is answered
        return CommandStatus.ESME_RSYSERR

    def _accept_message(
        self,
        session: SmppSession,
        message: Submitted,
        destination: Destination,
        body: bytes,
        registered_delivery: int,
        message_id: str | None = None,
    ) -> str | int:
        """Decide, record, schedule and file one message; its id, or a refusal status."""
        rules = self._rules
        rng = self._rng
        wants_receipt = registered_delivery & 3
        rule = rules.match(destination.destination_addr)
        if rule is None:
            outcome = rules.draw_outcome(rng)
            delay = rules.latency.sample(rng)
        else:
            if rule.submit_status is not None:
                self.counters.submit_errors += 1
                return rule.submit_status
            outcome = rule.outcome
            delay = (rule.latency or rules.latency).sample(rng)
            if not rule.receipt:
                wants_receipt = RECEIPT_NONE
        if message_id is None:
            message_id = self._ids.next_id()
        now = self._loop_time()
        record = MessageRecord(
            message_id,
            session.system_id or "",
            message,
            destination,
            body,
            now,
            now + delay,
            outcome,
            wants_receipt,
        )
        self._book.add(record)
        if wants_receipt and record.wants_receipt():
            self._schedule(record, now + delay + self._slow)
        handsets = self._handsets
        if handsets is not None:
            handsets.add_received(record)
        return message_id

    def _submit_sm(self, session: SmppSession, pdu: SubmitSm) -> SubmitSmResp | int | Response:
        self.counters.submits += 1
        if self._faulty:
            action = self._fault(session, pdu.sequence_number)
            if action is not FaultAction.RESPOND:
                return self._fault_answer(action)
        body = pdu.short_message
        if not body and pdu.tlvs:
            body = pdu.tlvs.get_bytes(Tag.MESSAGE_PAYLOAD) or b""
        result = self._accept_message(session, pdu, pdu, body, pdu.registered_delivery)
        if self._trace:
            logger.debug("%r: %r -> %r", session, pdu, result)
        if isinstance(result, str):
            return SubmitSmResp(message_id=result)
        return result

    def _data_sm(self, session: SmppSession, pdu: DataSm) -> DataSmResp | int | Response:
        self.counters.submits += 1
        if self._faulty:
            action = self._fault(session, pdu.sequence_number)
            if action is not FaultAction.RESPOND:
                return self._fault_answer(action)
        body = pdu.tlvs.get_bytes(Tag.MESSAGE_PAYLOAD) or b""
        result = self._accept_message(session, pdu, pdu, body, pdu.registered_delivery)
        if self._trace:
            logger.debug("%r: %r -> %r", session, pdu, result)
        if isinstance(result, int):
            return result
        return DataSmResp(message_id=result)

    def _submit_multi(
        self, session: SmppSession, pdu: SubmitMulti
    ) -> SubmitMultiResp | int | Response:
        self.counters.submits += 1
        if self._faulty:
            action = self._fault(session, pdu.sequence_number)
            if action is not FaultAction.RESPOND:
                return self._fault_answer(action)
        if not pdu.dest_address:
            return CommandStatus.ESME_RINVNUMDESTS
        body = pdu.short_message
        if not body and pdu.tlvs:
            body = pdu.tlvs.get_bytes(Tag.MESSAGE_PAYLOAD) or b""
        message_id = self._ids.next_id()
        refused: list[UnsuccessSme] = []
        for dest in pdu.dest_address:
            if isinstance(dest, DistributionList):
                # the simulator keeps no distribution lists
                refused.append(UnsuccessSme(error_status_code=CommandStatus.ESME_RINVDLNAME))
                continue
            result = self._accept_message(
                session, pdu, dest, body, pdu.registered_delivery, message_id
            )
            if isinstance(result, int):
                refused.append(
                    UnsuccessSme(
                        dest_addr_ton=dest.dest_addr_ton,
                        dest_addr_npi=dest.dest_addr_npi,
                        destination_addr=dest.destination_addr,
                        error_status_code=result,
                    )
                )
        if len(refused) == len(pdu.dest_address):
            return refused[0].error_status_code
        return SubmitMultiResp(message_id=message_id, unsuccess_sme=tuple(refused))

    # -- query, cancel, replace --------------------------------------------------------------

    def _final_date(self, at: float) -> str:
        moment = datetime.fromtimestamp(at + self._wall_offset, UTC)
        return moment.strftime("%y%m%d%H%M%S") + f"{moment.microsecond // 100_000}00+"

    def _query_sm(self, session: SmppSession, pdu: QuerySm) -> QuerySmResp | int:
        self.counters.queries += 1
        record = self.message(pdu.message_id)
        if record is None:
            return CommandStatus.ESME_RQUERYFAIL
        now = self._now()
        state = record.message_state(now)
        final = record.is_final(now)
        return QuerySmResp(
            message_id=record.message_id,
            final_date=self._final_date(record.done_at) if final else "",
            message_state=state,
            error_code=min(record.outcome.error_code, 0xFF) if final else 0,
        )

    def _cancel_sm(self, session: SmppSession, pdu: CancelSm) -> CancelSmResp | int:
        self.counters.cancels += 1
        now = self._now()
        if pdu.message_id:
            record = self.message(pdu.message_id)
            if record is None or not record.cancel(now):
                return CommandStatus.ESME_RCANCELFAIL
            return CancelSmResp()
        if not pdu.source_addr or not pdu.destination_addr:
            return CommandStatus.ESME_RCANCELFAIL
        # Without an id: every message en route from source_addr to destination_addr.
        canceled = 0
        for record in self._book:
            if (
                record.source_addr == pdu.source_addr
                and record.destination_addr == pdu.destination_addr
                and record.cancel(now)
            ):
                canceled += 1
        return CancelSmResp() if canceled else CommandStatus.ESME_RCANCELFAIL

    def _replace_sm(self, session: SmppSession, pdu: ReplaceSm) -> ReplaceSmResp | int:
        record = self.message(pdu.message_id)
        if record is None or not record.replace(pdu.short_message, self._now()):
            return CommandStatus.ESME_RREPLACEFAIL
        return ReplaceSmResp()

    # -- receipts ----------------------------------------------------------------------------

    def _schedule(self, record: MessageRecord, due: float) -> None:
        if (self._wheel.add(due, record) or self._timer is None) and not self._stopping:
            self._arm()

    def _arm(self) -> None:
        due = self._wheel.next_due()
        loop = self._loop
        if due is None or loop is None:
            return
        timer = self._timer
        if timer is not None:
            if self._timer_due <= due:
                return
            timer.cancel()
        self._timer_due = due
        self._timer = loop.call_at(due, self._fire)

    def _fire(self) -> None:
        self._timer = None
        loop = self._loop
        if loop is None:
            return
        now = loop.time()
        due = self._wheel.pop_due(now, limit=_RECEIPT_BATCH)
        if due:
            self._send_receipts(due, now)
        self._arm()  # a due time in the past runs on the next turn of the loop

    def _receivers(self, system_id: str) -> list[SmppSession]:
        return [
            s
            for s in self._server.bound_sessions(system_id)
            if s.can_receive and s.link.outstanding + s.link.queued < self._backlog
        ]

    @property
    def _backlog(self) -> int:
        return self.config.window * _BACKLOG_FACTOR

    def _send_receipts(self, records: list[MessageRecord], now: float) -> None:
        receivers: dict[str, list[SmppSession]] = {}
        turn = 0
        for record in records:
            if record.outcome.fate is Fate.DELETED:
                continue  # canceled while en route
            system_id = record.system_id
            sessions = receivers.get(system_id)
            if sessions is None:
                sessions = receivers[system_id] = self._receivers(system_id)
            if not sessions:
                self._park(record)
                continue
            turn += 1
            self._deliver(sessions[turn % len(sessions)], record, now)

    def _deliver(self, session: SmppSession, record: MessageRecord, now: float) -> None:
        pdu = self._receipts.encoded(record, now)
        self.counters.receipts_sent += 1
        if self._trace:
            logger.debug("%r: receipt %r", session, self._receipts.pdu(record, now))
        session.deliver_into(pdu, _InFlight(self, record))

    def _receipt_failed(self, record: MessageRecord) -> None:
        # the connection went away with the receipt in flight: send it to the next receiver
        self.counters.receipts_sent -= 1
        self._park(record)
        self._retry_parked_later()

    def _park(self, record: MessageRecord) -> None:
        queue = self._parked.get(record.system_id)
        if queue is None:
            queue = self._parked[record.system_id] = deque(maxlen=self.config.queue_per_system_id)
        if len(queue) == queue.maxlen:
            self.counters.receipts_dropped += 1  # the oldest makes room
        else:
            self.counters.receipts_queued += 1
        queue.append(record)
        if self._can_receive(record.system_id):
            self._retry_parked_later()

    def _can_receive(self, system_id: str) -> bool:
        return any(s.can_receive for s in self._server.bound_sessions(system_id))

    def _retry_parked_later(self) -> None:
        if self._park_timer is None and self._loop is not None and not self._stopping:
            self._park_timer = self._loop.call_later(_RETRY_PARKED, self._retry_parked)

    def _retry_parked(self) -> None:
        self._park_timer = None
        for system_id in list(self._parked):
            self._flush_parked(system_id)

    def _flush_parked(self, system_id: str) -> None:
        queue = self._parked.get(system_id)
        if queue is None or self._loop is None:
            return
        now = self._loop.time()
        sessions = self._receivers(system_id)
        turn = 0
        while queue and sessions:
            session = sessions[turn % len(sessions)]
            if session.link.outstanding + session.link.queued >= self._backlog:
                sessions.remove(session)
                continue
            self._deliver(session, queue.popleft(), now)
            self.counters.receipts_queued -= 1
            turn += 1
        if not queue:
            del self._parked[system_id]
        elif self._can_receive(system_id):
            self._retry_parked_later()  # a receiver is there but busy

    # -- mobile-originated -------------------------------------------------------------------

    def _mo_receiver(self, system_id: str | None) -> SmppSession:
        if system_id is not None:
            session = self._server.receiver_for(system_id)
        else:
            candidates = [s for s in self._server.bound_sessions() if s.can_receive]
            session = candidates[0] if candidates else None
        if session is None:
            who = f"system_id {system_id!r}" if system_id is not None else "any ESME"
            raise LocalProtocolError(f"no receiver or transceiver of {who} is bound")
        return session

    async def inject_mo(
        self,
        *,
        source: str,
        destination: str,
        text: str,
        system_id: str | None = None,
        concatenation: Concatenation | str = Concatenation.UDH8,
    ) -> tuple[str, ...]:
        """Send a mobile-originated message from handset ``source`` to ``destination``.

        The text is encoded as GSM-7 when it fits, else UCS-2, and split into concatenated parts
        (``concatenation``: ``udh8``, ``udh16`` or ``sar``) when it is long; each part goes out
        as a deliver_sm, in order, to a receiver or transceiver of ``system_id`` (any bound one
        when ``None``). Returns the ids the simulator gave the parts (they appear in the
        handset's history). Raises :class:`~marconi.errors.LocalProtocolError` when no receiver
        is bound, :class:`~marconi.errors.CommandStatusError` when the ESME refuses a part.
        """
        session = self._mo_receiver(system_id)
        self._mo_reference = (self._mo_reference + 1) % 256
        method = Concatenation(concatenation)
        reference = self._mo_reference if method is Concatenation.UDH8 else None
        encoded = encode_message(
            text, national_languages=(), concatenation=method, reference=reference
        )
        source_ton, source_npi = _address_kind(source)
        dest_ton, dest_npi = _address_kind(destination)
        ids = tuple(self._ids.next_id() for _ in encoded.parts)
        fate: Fate | None = Fate.DELIVERED
        try:
            for part in encoded.parts:
                tlvs = Tlvs()
                if part.sar is not None:
                    tlvs = Tlvs(
                        [
                            (Tag.SAR_MSG_REF_NUM, part.sar.sar_msg_ref_num),
                            (Tag.SAR_TOTAL_SEGMENTS, part.sar.sar_total_segments),
                            (Tag.SAR_SEGMENT_SEQNUM, part.sar.sar_segment_seqnum),
                        ]
                    )
                pdu = DeliverSm(
                    source_addr_ton=source_ton,
                    source_addr_npi=source_npi,
                    source_addr=source,
                    dest_addr_ton=dest_ton,
                    dest_addr_npi=dest_npi,
                    destination_addr=destination,
                    esm_class=part.esm_class_bits,
                    data_coding=part.data_coding,
                    short_message=part.short_message,
                    tlvs=tlvs,
                )
                if self._trace:
                    logger.debug("%r: MO %r", session, pdu)
                await session.deliver(pdu)
                self.counters.mo_sent += 1
        except BaseException:
            fate = Fate.UNDELIVERABLE
            raise
        finally:
            if self._handsets is not None:
                self._handsets.add_sent(
                    source,
                    peer=destination,
                    text=text,
                    message_ids=ids,
                    at=time.time(),
                    fate=fate,
                )
        logger.info(
            "MO %s -> %s (%d part%s, %s) to %r",
            source,
            destination,
            len(ids),
            "" if len(ids) == 1 else "s",
            encoded.encoding,
            session.system_id,
        )
        return ids


class _InFlight:
    """A receipt sent and not yet answered; the link resolves it inline (a transport Waiter)."""

    __slots__ = ("_done", "_record", "_simulator")

    def __init__(self, simulator: Simulator, record: MessageRecord) -> None:
        self._simulator = simulator
        self._record = record
        self._done = False

    def done(self) -> bool:
        return self._done

    def set_result(self, result: Response, /) -> None:
        self._done = True
        if result.command_status:
            self._simulator.counters.receipts_refused += 1

    def set_exception(self, exception: BaseException, /) -> None:
        self._done = True
        self._simulator._receipt_failed(self._record)


class _Handler(BaseHandler):
    """The transport's hooks, forwarded to the simulator."""

    def __init__(self, simulator: Simulator) -> None:
        self._sim = simulator

    async def authenticate(self, session: SmppSession, bind: Bind) -> int:
        return self._sim._authenticate(session, bind)

    async def session_bound(self, session: SmppSession) -> None:
        self._sim._bound(session)

    async def handle_submit_sm(self, session: SmppSession, pdu: SubmitSm) -> SubmitSmResp | int:
        # A fault may answer with generic_nack, which the server sends like any response.
        return self._sim._submit_sm(session, pdu)  # type: ignore[return-value]

    async def handle_data_sm(self, session: SmppSession, pdu: DataSm) -> DataSmResp | int:
        return self._sim._data_sm(session, pdu)  # type: ignore[return-value]

    async def handle_submit_multi(
        self, session: SmppSession, pdu: SubmitMulti
    ) -> SubmitMultiResp | int:
        return self._sim._submit_multi(session, pdu)  # type: ignore[return-value]

    async def handle_query_sm(self, session: SmppSession, pdu: QuerySm) -> QuerySmResp | int:
        return self._sim._query_sm(session, pdu)

    async def handle_cancel_sm(self, session: SmppSession, pdu: CancelSm) -> CancelSmResp | int:
        return self._sim._cancel_sm(session, pdu)

    async def handle_replace_sm(self, session: SmppSession, pdu: ReplaceSm) -> ReplaceSmResp | int:
        return self._sim._replace_sm(session, pdu)

    async def handle_unbind(self, session: SmppSession) -> None:
        self._sim.counters.unbinds += 1

    async def session_closed(self, session: SmppSession, reason: str) -> None:
        self._sim._closed(session, reason)
