"""The sender: takes due deliveries from the outbox, signs and posts them, records each try.

Outcomes of one try:

- **2xx**: delivered. For an inbound-message webhook, a reply in the body (see
  :mod:`marconi.webhooks.reply`) goes to ``on_reply``.
- **410 Gone**: the receiver asks us to stop: dead at once, no more tries.
- **Any other status** (3xx, 4xx, 5xx; redirects are not followed), a timeout, a refused or
  broken connection, a name that does not resolve: tried again after the schedule's next delay,
  or after ``Retry-After`` on 429 and 503. When the schedule is used up the delivery is dead.
- **A private target** while private webhooks are disallowed: dead at once, with the reason.

Every try is recorded (status code, time taken, error with the start of the response body).
Deliveries are claimed with a lease: one that was sent but not yet recorded when the process died
comes due again when the lease ends, so a receiver may see a delivery twice and should
deduplicate by ``webhook-id``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol
from urllib.parse import urlsplit

import orjson

from marconi import __version__
from marconi.errors import MarconiError
from marconi.services.clock import Clock, utc_now
from marconi.store.model import WebhookAttemptResult, WebhookDelivery
from marconi.store.protocols import WebhookOutbox
from marconi.webhooks.backoff import DEFAULT_SCHEDULE, RetrySchedule, parse_retry_after
from marconi.webhooks.guard import (
    Resolver,
    TargetGuard,
    TargetRefused,
    TargetUnresolved,
    WebhookPolicy,
    system_resolver,
)
from marconi.webhooks.payload import INBOUND_EVENT_TYPE
from marconi.webhooks.reply import MAX_REPLY_BYTES, parse_reply
from marconi.webhooks.secret import SecretRepository, SigningKeys, secret_repository_for
from marconi.webhooks.sender import AiohttpSender, Outgoing, Sender, SendError
from marconi.webhooks.signature import (
    HEADER_ID,
    HEADER_SEQUENCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    signature_header,
)

__all__ = ["ReplyHook", "RequestFormat", "WebhookMetrics", "WebhookStats", "WebhookWorker"]

log = logging.getLogger(__name__)

SNIPPET_CHARS: Final = 200
_USER_AGENT: Final = f"Marconi/{__version__} (webhooks)"


ReplyHook = Callable[[str, str, str, str], Awaitable[None]]
"""``on_reply(account_id, number, to, body)``: send ``body`` from ``number`` (the account's
number that received the inbound message) back to ``to`` (its sender)."""


class RequestFormat(Protocol):
    """Another wire form for some deliveries (Twilio's form posts, see marconi.twilio.webhook):
    the outbox keeps the native payload; this renders what goes out, and reads the reply."""

    def claims(self, delivery: WebhookDelivery) -> bool: ...

    async def render(self, delivery: WebhookDelivery) -> tuple[str, bytes, dict[str, str]]:
        """(url, body, headers) to post."""
        ...

    def reply(self, content_type: str | None, body: bytes) -> str | None: ...


class _Counter(Protocol):
    def inc(self, amount: float = 1) -> None: ...


class WebhookMetrics(Protocol):
    """The counters the worker keeps up to date (:class:`marconi.metrics.Metrics` has them)."""

    @property
    def webhook_deliveries(self) -> _Counter: ...

    @property
    def webhook_failures(self) -> _Counter: ...


@dataclass(slots=True)
class WebhookStats:
    """Counts since start, for metrics."""

    delivered: int = 0
    failed: int = 0  # tries that will be retried
    dead: int = 0
    refused: int = 0  # dead because the target is private
    replies: int = 0


class WebhookWorker:
    """Delivers the webhook outbox until closed.

    ::

        worker = WebhookWorker(store=store, settings=settings, on_reply=send_reply)
        task = asyncio.create_task(worker.run())
        ...
        await worker.aclose()   # stops claiming, finishes tries in flight, records them

    ``store`` is the outbox (and, for a :class:`SqlStore`, where signing secrets live unless
    ``secrets`` is given). ``settings`` supplies ``allow_private_webhooks``. ``request_format``
    sends the deliveries it claims in its own form (Twilio's, for URLs marked by the compatible
    API) instead of signed JSON. ``on_reply`` gets
    the replies to inbound messages; it may be called again for the same delivery after a crash
    or a replay, so send with an idempotency key such as ``webhook-reply:<delivery_id>``.

    Tuning: up to ``concurrency`` requests in flight over pooled keep-alive connections (at
    most ``per_target`` to one receiver; half of ``concurrency`` by default), claims of up to
    ``batch`` rows, ``timeout`` seconds per request, a claim ``lease`` after which an unrecorded
    delivery comes due again, and ``poll_interval`` seconds between claims when no commit wakes
    the worker (retries come due by the clock). ``sender`` replaces the HTTP client (tests).
    """

    def __init__(
        self,
        *,
        store: WebhookOutbox,
        settings: WebhookPolicy,
        on_reply: ReplyHook | None = None,
        request_format: RequestFormat | None = None,
        metrics: WebhookMetrics | None = None,
        secrets: SecretRepository | None = None,
        schedule: RetrySchedule = DEFAULT_SCHEDULE,
        clock: Clock = utc_now,
        concurrency: int = 256,
        per_target: int | None = None,
        batch: int = 256,
        timeout: float = 10.0,
        lease: float = 120.0,
        poll_interval: float = 1.0,
        resolver: Resolver = system_resolver,
        sender: Sender | None = None,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        if secrets is None:
            secrets = secret_repository_for(store)
        if lease <= timeout:
            raise ValueError("the claim lease must outlast a request")
        self._store = store
        self._allow_private = settings.allow_private_webhooks
        self._on_reply = on_reply
        self._format = request_format
        self._metrics = metrics
        self._keys = SigningKeys(repository=secrets)
        self._schedule = schedule
        self._clock = clock
        self._concurrency = concurrency
        self._batch = batch
        self._timeout = timeout
        self._lease = timedelta(seconds=lease)
        self._poll_interval = poll_interval
        self._guard = TargetGuard(resolver=resolver)
        self._uniform = uniform
        self._per_target = per_target
        self._sender = sender  # built on first use, inside the running loop
        self.stats = WebhookStats()
        self._tasks: set[asyncio.Task[None]] = set()
        self._results: list[WebhookAttemptResult] = []
        self._results_ready = asyncio.Event()
        self._slot_free = asyncio.Event()
        self._stop = asyncio.Event()
        self._running = False
        self._done = asyncio.Event()
        self._closed = False

    # -- lifecycle -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Claim and deliver until :meth:`aclose`."""
        if self._running or self._closed:
            raise RuntimeError("a WebhookWorker runs once")
        self._running = True
        flusher = asyncio.create_task(self._flush_loop(), name="webhook-recorder")
        try:
            while not self._stop.is_set():
                free = self._concurrency - len(self._tasks)
                if free <= 0:
                    self._slot_free.clear()
                    await self._until(self._slot_free.wait(), None)
                    continue
                want = min(free, self._batch)
                claimed = await self._claim(want)
                if claimed is None:  # the database is down: try again later
                    await self._until(self._stop.wait(), self._poll_interval)
                    continue
                for delivery in claimed:
                    self._spawn(delivery)
                if len(claimed) < want:
                    await self._until(self._store.wait_for_webhooks(), self._poll_interval)
        finally:
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            self._stop.set()
            self._results_ready.set()
            await flusher
            await self._close_clients()
            self._done.set()

    async def aclose(self) -> None:
        """Stop claiming, let tries in flight finish (each within ``timeout``), record them."""
        self._closed = True
        self._stop.set()
        self._slot_free.set()
        if self._running:
            await self._done.wait()
        else:
            await self._close_clients()

    async def _close_clients(self) -> None:
        if self._sender is not None:
            await self._sender.aclose()

    def _http(self) -> Sender:
        if self._sender is None:
            self._sender = AiohttpSender(
                timeout=self._timeout,
                connections=self._concurrency,
                per_target=self._per_target,
                max_body=MAX_REPLY_BYTES + 1,
                user_agent=_USER_AGENT,
            )
        return self._sender

    async def run_once(self) -> int:
        """Claim what is due now (up to ``batch``), deliver it and record every try; returns
        how many were tried. For tools and tests that drive the worker step by step."""
        claimed = await self._claim(self._batch) or []
        results = await asyncio.gather(*(self._attempt(d) for d in claimed))
        if results:
            await self._store.record_webhook_attempts(results, now=self._clock())
        return len(results)

    async def _until(self, awaitable: Awaitable[object], at_most: float | None) -> None:
        """Wait for ``awaitable``, the stop signal or ``at_most`` seconds, whichever is first."""
        waiter = asyncio.ensure_future(awaitable)
        stopper = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({waiter, stopper}, timeout=at_most, return_when="FIRST_COMPLETED")
        finally:
            for future in (waiter, stopper):
                if not future.done():
                    future.cancel()
            await asyncio.gather(waiter, stopper, return_exceptions=True)

    async def _claim(self, limit: int) -> list[WebhookDelivery] | None:
        now = self._clock()
        try:
            return await self._store.claim_webhooks(limit, now=now, lease_until=now + self._lease)
        except MarconiError as exc:
            log.warning("claiming webhooks failed: %s", exc)
            return None

    def _spawn(self, delivery: WebhookDelivery) -> None:
        task = asyncio.create_task(self._deliver(delivery))
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slot_free.set()

    async def _deliver(self, delivery: WebhookDelivery) -> None:
        result = await self._attempt(delivery)
        self._results.append(result)
        self._results_ready.set()

    async def _flush_loop(self) -> None:
        while True:
            await self._results_ready.wait()
            self._results_ready.clear()
            if self._results:
                batch, self._results = self._results, []
                try:
                    await self._store.record_webhook_attempts(batch, now=self._clock())
                except MarconiError as exc:
                    # Kept for the next round; the claim lease covers a longer outage.
                    log.warning("recording %d webhook tries failed: %s", len(batch), exc)
                    self._results[:0] = batch
                    if self._stop.is_set():
                        return
                    await asyncio.sleep(self._poll_interval)
                    self._results_ready.set()
                    continue
            if self._stop.is_set() and not self._results and not self._tasks:
                return

    # -- one try ---------------------------------------------------------------------------------

    async def _attempt(self, delivery: WebhookDelivery) -> WebhookAttemptResult:
        attempt = delivery.attempts + 1
        started = time.perf_counter()
        status_code: int | None = None
        retry_after: float | None = None
        try:
            answer = await self._http().post(await self._request(delivery))
        except TargetRefused as exc:
            self.stats.refused += 1
            self.stats.dead += 1
            log.warning("webhook %s refused: %s", delivery.id, exc.reason)
            return self._result(delivery, started, error=f"refused: {exc.reason}", final=True)
        except TargetUnresolved as exc:
            return self._retry(delivery, attempt, started, error=str(exc))
        except SendError as exc:
            return self._retry(delivery, attempt, started, error=exc.reason)
        except MarconiError as exc:  # the signing secret could not be read
            return self._retry(delivery, attempt, started, error=f"not sent: {exc}")
        status_code = answer.status
        body = answer.body
        if 200 <= status_code < 300:
            self.stats.delivered += 1
            if delivery.event_type == INBOUND_EVENT_TYPE and self._on_reply is not None:
                await self._reply(delivery, answer.headers.get("content-type"), body)
            return self._result(delivery, started, status_code=status_code, ok=True)
        error = f"HTTP {status_code}{_snippet(body)}"
        if status_code == 410:
            self.stats.dead += 1
            return self._result(
                delivery,
                started,
                status_code=status_code,
                error=f"{error} (410 Gone: no more tries)",
                final=True,
            )
        if status_code in (429, 503):
            retry_after = parse_retry_after(answer.headers.get("retry-after"), now=self._clock())
        return self._retry(
            delivery,
            attempt,
            started,
            status_code=status_code,
            error=error,
            retry_after=retry_after,
        )

    async def _request(self, delivery: WebhookDelivery) -> Outgoing:
        if self._format is not None and self._format.claims(delivery):
            url, payload, headers = await self._format.render(delivery)
        else:
            url = delivery.url
            payload = delivery.payload.encode("utf-8")
            headers = await self._signed_headers(delivery, payload)
        if self._allow_private:
            return Outgoing(url=url, headers=headers, body=payload)
        target = await self._guard.pin(url)
        headers["host"] = target.host
        return Outgoing(url=target.url, headers=headers, body=payload, server_hostname=target.sni)

    async def _signed_headers(self, delivery: WebhookDelivery, payload: bytes) -> dict[str, str]:
        now = self._clock()
        timestamp = int(now.timestamp())
        keys = await self._keys.keys(delivery.account_id, now=now)
        return {
            "content-type": "application/json",
            HEADER_ID: delivery.id,
            HEADER_TIMESTAMP: str(timestamp),
            HEADER_SIGNATURE: signature_header(
                keys, webhook_id=delivery.id, timestamp=timestamp, payload=payload
            ),
            HEADER_SEQUENCE: str(delivery.sequence),
        }

    async def _reply(
        self, delivery: WebhookDelivery, content_type: str | None, body: bytes
    ) -> None:
        assert self._on_reply is not None
        if self._format is not None and self._format.claims(delivery):
            text = self._format.reply(content_type, body)
        else:
            text = parse_reply(content_type, body)
        if text is None:
            return
        try:
            inbound = orjson.loads(delivery.payload)
            number, sender = str(inbound["to"]), str(inbound["from"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            log.warning("webhook %s: the stored payload names no sender to reply to", delivery.id)
            return
        try:
            await self._on_reply(delivery.account_id, number, sender, text)
            self.stats.replies += 1
        except Exception:
            log.exception("webhook %s: sending the reply failed", delivery.id)

    def _retry(
        self,
        delivery: WebhookDelivery,
        attempt: int,
        started: float,
        *,
        error: str,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> WebhookAttemptResult:
        delay = self._schedule.delay(attempt, retry_after=retry_after, uniform=self._uniform)
        if delay is None:
            self.stats.dead += 1
            log.info("webhook %s dead after %d tries: %s", delivery.id, attempt, error)
            return self._result(delivery, started, status_code=status_code, error=error, final=True)
        self.stats.failed += 1
        return self._result(
            delivery,
            started,
            status_code=status_code,
            error=error,
            next_attempt_at=self._clock() + timedelta(seconds=delay),
        )

    def _result(
        self,
        delivery: WebhookDelivery,
        started: float,
        *,
        ok: bool = False,
        status_code: int | None = None,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
        final: bool = False,
    ) -> WebhookAttemptResult:
        assert ok or final or next_attempt_at is not None
        if self._metrics is not None:
            (self._metrics.webhook_deliveries if ok else self._metrics.webhook_failures).inc()
        return WebhookAttemptResult(
            delivery_id=delivery.id,
            ok=ok,
            status_code=status_code,
            error=error,
            duration_ms=round((time.perf_counter() - started) * 1000),
            next_attempt_at=next_attempt_at,
        )


def _snippet(body: bytes) -> str:
    text = " ".join(body[: SNIPPET_CHARS * 4].decode("utf-8", "replace").split())
    if not text:
        return ""
    if len(text) > SNIPPET_CHARS:
        text = text[:SNIPPET_CHARS] + "…"
    return f": {text}"


def host_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL: what logs may show of a webhook target."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"
