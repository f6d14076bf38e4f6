"""The delivery loop: claim queued messages, route, submit, record; apply receipts.

::

    dispatcher = Dispatcher(queue=store, connectors=links, router=Router(settings.routes),
                            worker_id="node-1")
    await dispatcher.start()        # hands back rows a killed process left in ``sending``
    task = asyncio.create_task(dispatcher.run())
    ...
    await dispatcher.stop()         # no more claims; in-flight batches finish and are recorded

One pass, for each claimed batch:

1. a message past its ``expires_at`` becomes ``expired``; one no route matches, or whose body
   cannot be encoded, ``failed``;
2. each message goes to the first connector of its route that is up; none up: back to the queue
   with backoff (``link_down``);
3. each connector's share is submitted pipelined through its window (the client's throttle and
   window apply); the answer of every part is kept;
4. a link-level refusal fails over to the next connector of the route; a transient failure goes
   back to the queue with exponential backoff (``next_attempt_at``); any other refusal fails the
   message; the SMSC message id of every accepted part is stored (``record_submit_results``).

Receipts come in through :meth:`on_deliver_sm` (the connectors' hook), are matched by
(connector, SMSC message id) in every id form (see :mod:`marconi.dispatch.correlate`) and stored
in batches (``apply_receipts``); the SMSC's deliver_sm is answered only after the commit.
deliver_sm that are not receipts (MO messages) go to the inbound hook.

Batches overlap: up to ``max_in_flight`` messages are between claim and record at once, so
claiming, submitting and recording of different batches run side by side. While they fill
``max_in_flight``, messages of the priority class (``priority >= priority_class``, verification
codes) are still claimed, into a reserve above it, and their ``submit_sm`` carry a priority_flag
that puts them ahead of the link's queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

from marconi.connectors.base import Connector
from marconi.dispatch.batch import Batcher
from marconi.dispatch.correlate import IdBook
from marconi.dispatch.pdu import PduBuilder
from marconi.dispatch.retry import Disposition, RetryPolicy, classify, error_code
from marconi.dispatch.route import Router
from marconi.errors import (
    EncodingError,
    LocalProtocolError,
    MarconiError,
    RemoteProtocolError,
    StoreError,
)
from marconi.metrics import Metrics
from marconi.services.clock import Clock, utc_now
from marconi.smpp import CommandStatus, DeliverSm, SubmitSm, SubmitSmResp
from marconi.smpp.receipt import ReceiptStatus, is_receipt, parse_receipt
from marconi.store.model import (
    DispatchOutcome,
    Failed,
    Message,
    MessageStatus,
    PartStatus,
    Receipt,
    ReceiptOutcome,
    RetryLater,
    Submitted,
    SubmittedPart,
)
from marconi.store.protocols import MessageQueue

__all__ = ["Dispatcher", "InboundHandler", "part_status_of"]

log = logging.getLogger(__name__)

InboundHandler = Callable[[str, DeliverSm], "int | asyncio.Future[int] | Awaitable[int]"]

_OK: Final = int(CommandStatus.ESME_ROK)
_LINK_DOWN_DELAY: Final = 1.0
# After a receipt came before its submit result was stored, look once a second, for this many
# seconds, for early receipts whose part has been stored since (see settle_early_receipts).
_SETTLE_INTERVAL: Final = 1.0
_SETTLE_LOOKBACK: Final = 60.0

_PART_STATUS: Final = {
    ReceiptStatus.DELIVRD: PartStatus.DELIVERED,
    ReceiptStatus.ENROUTE: PartStatus.SUBMITTED,
    ReceiptStatus.ACCEPTD: PartStatus.SUBMITTED,
    ReceiptStatus.UNDELIV: PartStatus.UNDELIVERED,
    ReceiptStatus.EXPIRED: PartStatus.UNDELIVERED,
    ReceiptStatus.DELETED: PartStatus.UNDELIVERED,
    ReceiptStatus.UNKNOWN: PartStatus.UNDELIVERED,
    ReceiptStatus.REJECTD: PartStatus.FAILED,
}


def part_status_of(stat: ReceiptStatus) -> PartStatus:
    return _PART_STATUS[stat]


@dataclass(slots=True)
class _Job:
    """One claimed message on its way: its PDUs and the connectors still to try."""

    message: Message
    pdus: list[SubmitSm]
    candidates: tuple[str, ...]
    tried: list[str] = field(default_factory=list)


class Dispatcher:
    """See the module documentation."""

    def __init__(
        self,
        *,
        queue: MessageQueue,
        connectors: Mapping[str, Connector],
        router: Router,
        worker_id: str,
        clock: Clock = utc_now,
        retry: RetryPolicy | None = None,
        metrics: Metrics | None = None,
        on_inbound: InboundHandler | None = None,
        batch_size: int = 512,
        max_in_flight: int = 8192,
        poll_interval: float = 1.0,
        expire_interval: float = 1.0,
        stale_after: float = 0.0,
        builder: PduBuilder | None = None,
        priority_class: int = 1,
        priority_reserve: int = 256,
    ) -> None:
        self._queue = queue
        self._connectors = dict(connectors)
        self._router = router
        self.worker_id = worker_id
        self._clock = clock
        self._retry = retry if retry is not None else RetryPolicy()
        self._metrics = metrics
        self.on_inbound = on_inbound
        self._batch_size = batch_size
        self._max_in_flight = max_in_flight
        self._poll_interval = poll_interval
        self._expire_interval = expire_interval
        self._stale_after = stale_after
        self._builder = builder if builder is not None else PduBuilder()
        # Messages of at least this priority are still claimed while ordinary ones fill
        # max_in_flight, up to this many more: a code never waits behind a bulk backlog.
        self._priority_class = priority_class
        self._priority_reserve = priority_reserve
        self._ids = IdBook()
        self._receipts: Batcher[Receipt] = Batcher(self._store_receipts, name="receipts")
        self._in_flight = 0
        self._room = asyncio.Event()
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._next_expiry = 0.0
        self._next_depth = 0.0
        self._settle_until = 0.0  # look for early receipts to settle until then
        self._next_settle = 0.0
        self.claimed = 0
        self.recorded = 0

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> int:
        """Hand back rows left in ``sending`` by a process that died; returns how many."""
        now = self._clock()
        count = await self._queue.requeue_stale(
            now=now, claimed_before=now - timedelta(seconds=self._stale_after)
        )
        if count:
            log.warning(
                "handed back %d messages left in 'sending' by a stopped process; those whose "
                "submit reached the SMSC unanswered will be sent again",
                count,
            )
        return count

    async def run(self) -> None:
        """Claim and dispatch until :meth:`stop`."""
        queue = self._queue
        while not self._stopping:
            try:
                await self._housekeeping()
                room = self._max_in_flight - self._in_flight
                if not self._any_up():
                    await self._pause()
                    continue
                if room < min(self._batch_size, self._max_in_flight) // 4:
                    batch = await self._claim_priority(room)
                    if not batch:
                        await self._pause(queue)
                        continue
                else:
                    batch = await queue.claim_batch(
                        min(self._batch_size, room), now=self._clock(), worker_id=self.worker_id
                    )
            except StoreError as exc:
                log.warning("dispatcher: the store failed (%s); trying again shortly", exc)
                await self._sleep(self._poll_interval)
                continue
            if not batch:
                await self._idle(queue)
                continue
            self.claimed += len(batch)
            self._in_flight += len(batch)
            task = asyncio.get_running_loop().create_task(self._dispatch(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def stop(self, *, grace: float = 10.0) -> None:
        """Stop claiming; wait up to ``grace`` seconds for batches in flight to be recorded."""
        self._stopping = True
        self._wake.set()
        self._room.set()
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()
        await self._receipts.drain()

    def set_connectors(self, connectors: Mapping[str, Connector]) -> None:
        """The links to submit through (built after the dispatcher, whose hooks they call, and
        replaced when connectors change at run time)."""
        self._connectors = dict(connectors)
        self._wake.set()
        self._room.set()

    @property
    def router(self) -> Router:
        return self._router

    def set_router(self, router: Router) -> None:
        """The routes from now on; batches already routed keep the choice they made."""
        self._router = router

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def _any_up(self) -> bool:
        return any(c.up for c in self._connectors.values())

    def link_changed(self, name: str, up: bool) -> None:
        """A connector's link went up or down (the connectors' state hook)."""
        log.info("connector %s is %s", name, "up" if up else "down")
        if self._metrics is not None:
            self._metrics.link_up.labels(connector=name).set(1 if up else 0)
        if up:
            self._wake.set()
            self._room.set()

    def wake(self) -> None:
        self._wake.set()

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    async def _claim_priority(self, room: int) -> list[Message]:
        """The priority class's messages, claimed into the reserve above max_in_flight."""
        reserve = min(self._batch_size, self._priority_reserve + room)
        if reserve <= 0:
            return []
        return await self._queue.claim_batch(
            reserve,
            now=self._clock(),
            worker_id=self.worker_id,
            min_priority=self._priority_class,
        )

    async def _pause(self, queue: MessageQueue | None = None) -> None:
        """Wait for room in flight or a link to come up; with ``queue``, also for new messages
        (one may be of the priority class)."""
        self._room.clear()
        if queue is None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_interval):
                    await self._room.wait()
            return
        waiter = asyncio.ensure_future(queue.wait_for_messages())
        room = asyncio.ensure_future(self._room.wait())
        try:
            await asyncio.wait(
                {waiter, room}, timeout=self._poll_interval, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            waiter.cancel()
            room.cancel()

    async def _idle(self, queue: MessageQueue) -> None:
        waiter = asyncio.ensure_future(queue.wait_for_messages())
        woken = asyncio.ensure_future(self._wake.wait())
        self._wake.clear()
        try:
            await asyncio.wait(
                {waiter, woken}, timeout=self._poll_interval, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            waiter.cancel()
            woken.cancel()

    async def _housekeeping(self) -> None:
        mono = time.monotonic()
        if mono >= self._next_expiry:
            self._next_expiry = mono + self._expire_interval
            expired = await self._queue.expire_due(now=self._clock())
            if expired and self._metrics is not None:
                self._metrics.expired.inc(expired)
        if self._metrics is not None and mono >= self._next_depth:
            self._next_depth = mono + 2.0
            self._metrics.queue_depth.set(await self._queue.queue_depth())
        if mono < self._settle_until and mono >= self._next_settle:
            # Early receipts came lately: apply any whose submit result is stored by now.
            self._next_settle = mono + _SETTLE_INTERVAL
            now = self._clock()
            await self._queue.settle_early_receipts(
                now=now, received_after=now - timedelta(seconds=_SETTLE_LOOKBACK)
            )

    # -- one batch -------------------------------------------------------------------------------

    async def _dispatch(self, batch: list[Message]) -> None:
        outcomes: list[DispatchOutcome] = []
        try:
            jobs = self._prepare(batch, outcomes)
            while jobs:
                jobs = await self._submit_round(jobs, outcomes)
            await self._record(outcomes)
        finally:
            self._in_flight -= len(batch)
            self._room.set()

    def _prepare(self, batch: list[Message], outcomes: list[DispatchOutcome]) -> list[_Job]:
        now = self._clock()
        jobs: list[_Job] = []
        metrics = self._metrics
        for message in batch:
            if message.expires_at is not None and message.expires_at <= now:
                outcomes.append(
                    Failed(
                        message_id=message.id,
                        status=MessageStatus.EXPIRED,
                        error_code="validity_expired",
                        error_message="the validity period ended before the message was sent",
                    )
                )
                if metrics is not None:
                    metrics.expired.inc()
                continue
            candidates = self._router.candidates(
                message.to_addr, message.from_addr, message.priority
            )
            candidates = tuple(c for c in candidates if c in self._connectors)
            if not candidates:
                outcomes.append(self._fail(message, "no_route", "no route matches this message"))
                continue
            try:
                pdus = self._builder.build(message)
            except EncodingError as exc:
                outcomes.append(self._fail(message, "encoding_failed", str(exc)))
                continue
            jobs.append(_Job(message=message, pdus=pdus, candidates=candidates))
        return jobs

    def _fail(self, message: Message, code: str, text: str) -> Failed:
        if self._metrics is not None:
            self._metrics.failed.labels(code=code).inc()
        return Failed(message_id=message.id, error_code=code, error_message=text)

    def _retry_later(
        self, job: _Job, code: str, text: str, *, delay: float | None = None
    ) -> DispatchOutcome:
        message = job.message
        now = self._clock()
        if self._retry.exhausted(message.attempts):
            return self._fail(message, code, f"gave up after {message.attempts} attempts: {text}")
        if delay is None:
            due = self._retry.next_attempt(message.attempts, now)
        else:
            due = now + timedelta(seconds=delay)
        if message.expires_at is not None and due >= message.expires_at:
            # It could not go out before its validity ends: expire it now, not after the wait.
            if self._metrics is not None:
                self._metrics.expired.inc()
            return Failed(
                message_id=message.id,
                status=MessageStatus.EXPIRED,
                error_code="validity_expired",
                error_message=f"the validity period ends before the next try ({code})",
            )
        if self._metrics is not None:
            self._metrics.retried.inc()
        return RetryLater(
            message_id=message.id, next_attempt_at=due, error_code=code, error_message=text
        )

    async def _submit_round(self, jobs: list[_Job], outcomes: list[DispatchOutcome]) -> list[_Job]:
        """Submit every job over its first untried connector that is up; returns the jobs that
        fail over to another connector."""
        groups: dict[str, list[_Job]] = {}
        # One look at the links for the whole round: they may be replaced meanwhile.
        links = self._connectors
        for job in jobs:
            target = next(
                (
                    name
                    for name in job.candidates
                    if name not in job.tried and name in links and links[name].up
                ),
                None,
            )
            if target is None:
                last = job.tried[-1] if job.tried else job.candidates[0]
                link = links.get(last)
                reason = (link.last_error if link is not None else None) or "not bound"
                outcomes.append(
                    self._retry_later(
                        job,
                        "link_down",
                        f"no connector of its route can take it now ({last}: {reason})",
                        delay=_LINK_DOWN_DELAY if not job.tried else None,
                    )
                )
                continue
            job.tried.append(target)
            groups.setdefault(target, []).append(job)
        if not groups:
            return []
        rounds = await asyncio.gather(
            *(
                self._submit_group(name, links[name], group, outcomes)
                for name, group in groups.items()
            )
        )
        return [job for failover in rounds for job in failover]

    async def _submit_group(
        self, name: str, connector: Connector, jobs: list[_Job], outcomes: list[DispatchOutcome]
    ) -> list[_Job]:
        """Submit in chunks of about one window, each recorded as soon as it is answered, so an
        answered submit waits for its record no longer than one chunk (the at-least-once window
        of a crash stays small even when a slow link holds a large batch)."""
        limit = max(connector.window, 16)
        chunks: list[list[_Job]] = [[]]
        size = 0
        for job in jobs:
            if size and size + len(job.pdus) > limit:
                chunks.append([])
                size = 0
            chunks[-1].append(job)
            size += len(job.pdus)
        if len(chunks) == 1:
            return await self._submit_chunk(name, connector, jobs, outcomes)
        failovers = await asyncio.gather(*(self._chunk(name, connector, chunk) for chunk in chunks))
        return [job for failover in failovers for job in failover]

    async def _chunk(self, name: str, connector: Connector, jobs: list[_Job]) -> list[_Job]:
        outcomes: list[DispatchOutcome] = []
        failover = await self._submit_chunk(name, connector, jobs, outcomes)
        await self._record(outcomes)
        return failover

    async def _submit_chunk(
        self, name: str, connector: Connector, jobs: list[_Job], outcomes: list[DispatchOutcome]
    ) -> list[_Job]:
        pdus = [pdu for job in jobs for pdu in job.pdus]
        started = time.monotonic()
        results = await connector.submit_many(pdus)
        metrics = self._metrics
        if metrics is not None:
            metrics.submit_latency.labels(connector=name).observe(time.monotonic() - started)
        failover: list[_Job] = []
        index = 0
        ids = self._ids
        submitted = 0
        for job in jobs:
            count = len(job.pdus)
            answers = results[index : index + count]
            index += count
            parts: list[SubmittedPart] = []
            first_error: MarconiError | None = None
            for number, answer in enumerate(answers, start=1):
                if isinstance(answer, SubmitSmResp):
                    smsc_id = answer.message_id
                    if not smsc_id:
                        answer = RemoteProtocolError("submit_sm_resp without a message_id")
                    else:
                        parts.append(
                            SubmittedPart(
                                part_number=number, smsc_message_id=ids.submitted(name, smsc_id)
                            )
                        )
                        continue
                if first_error is None:
                    first_error = answer
                parts.append(
                    SubmittedPart(
                        part_number=number, smsc_message_id=None, error_code=error_code(answer)
                    )
                )
                if metrics is not None:
                    metrics.submit_errors.labels(connector=name, code=error_code(answer)).inc()
            if first_error is None or any(p.smsc_message_id for p in parts):
                # Every part answered, or some taken: the message is out; what was refused
                # shows on its parts (a part cannot be resent alone under the same reference).
                outcomes.append(
                    Submitted(
                        message_id=job.message.id,
                        connector=name,
                        parts=tuple(parts),
                        error_message=None if first_error is None else str(first_error),
                    )
                )
                submitted += 1
                continue
            disposition = classify(first_error)
            if isinstance(first_error, LocalProtocolError) and not connector.up:
                # The session refused because the link was closing under the submit (a drop,
                # or a rebind after its settings changed): the link's fault, not the message's.
                disposition = Disposition.FAILOVER
            code = error_code(first_error)
            if disposition is Disposition.FAILOVER:
                if any(c not in job.tried for c in job.candidates):
                    failover.append(job)
                else:
                    outcomes.append(self._retry_later(job, code, str(first_error)))
            elif disposition is Disposition.RETRY:
                outcomes.append(self._retry_later(job, code, str(first_error)))
            else:
                outcomes.append(self._fail(job.message, code, f"{name} refused it: {first_error}"))
        if metrics is not None and submitted:
            metrics.submitted.labels(connector=name).inc(submitted)
        return failover

    async def _record(self, outcomes: Sequence[DispatchOutcome]) -> None:
        """Store the outcomes; while the store is down keep trying (the messages were sent),
        until stopping, when the rows stay ``sending`` for :meth:`start` to hand back."""
        if not outcomes:
            return
        delay = 0.1
        while True:
            try:
                await self._queue.record_submit_results(outcomes, now=self._clock())
            except StoreError as exc:
                if self._stopping:
                    log.error(
                        "dispatcher: %d submit results could not be stored (%s); they will be "
                        "handed back at the next start",
                        len(outcomes),
                        exc,
                    )
                    return
                log.warning("dispatcher: storing submit results failed (%s); retrying", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self.recorded += len(outcomes)
            return

    # -- inbound ---------------------------------------------------------------------------------

    def on_deliver_sm(
        self, connector: str, pdu: DeliverSm
    ) -> int | asyncio.Future[int] | Awaitable[int]:
        """The connectors' inbound hook: receipts are stored here, MO goes to ``on_inbound``."""
        if not is_receipt(pdu):
            if self.on_inbound is None:
                return _OK
            return self.on_inbound(connector, pdu)
        try:
            parsed = parse_receipt(pdu)
        except MarconiError as exc:
            log.warning("%s: receipt without a usable message id ignored: %s", connector, exc)
            return _OK
        status = _PART_STATUS[parsed.stat]
        receipt = Receipt(
            connector=connector,
            smsc_message_id=self._ids.resolve(connector, parsed.message_id),
            status=status,
            stat=parsed.stat.value,
            err=parsed.err or None,
            raw=parsed.raw or None,
        )
        return self._receipts.add(receipt)

    async def _store_receipts(self, receipts: Sequence[Receipt]) -> None:
        outcomes = await self._queue.apply_receipts(receipts, now=self._clock())
        metrics = self._metrics
        for receipt, outcome in zip(receipts, outcomes, strict=True):
            if outcome is ReceiptOutcome.EARLY:
                self._settle_until = time.monotonic() + _SETTLE_LOOKBACK
            elif receipt.status is not PartStatus.SUBMITTED:
                self._ids.forget(receipt.connector, receipt.smsc_message_id)
            if metrics is None:
                continue
            metrics.receipts.labels(outcome=outcome.value).inc()
            if outcome is ReceiptOutcome.APPLIED:
                if receipt.status is PartStatus.DELIVERED:
                    metrics.delivered.labels(connector=receipt.connector).inc()
                elif receipt.status is not PartStatus.SUBMITTED:
                    metrics.undelivered.labels(connector=receipt.connector).inc()
