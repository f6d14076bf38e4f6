"""Test helpers shipped with the package: a webhook receiver on loopback and an in-memory outbox.

::

    async with WebhookReceiver() as receiver:          # http://127.0.0.1:<port>/
        url = receiver.url("/status")
        ...                                            # have Marconi post to url
        request = await receiver.next_request()
        verify(request.body, request.headers, secret)

``respond`` decides each answer (200 with an empty body by default); it may be async.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Final, cast

from marconi.errors import NotFound
from marconi.store.ids import WEBHOOK_DELIVERY, new_id
from marconi.store.model import (
    NewWebhook,
    Page,
    WebhookAttempt,
    WebhookAttemptResult,
    WebhookDelivery,
    WebhookStatus,
)
from marconi.webhooks.sender import Answer, Outgoing

__all__ = [
    "FakeSender",
    "MemoryOutbox",
    "ReceivedRequest",
    "ReceiverResponse",
    "WebhookReceiver",
]

_MAX_HEAD: Final = 64 * 1024
_REASONS: Final = {200: "OK", 204: "No Content", 410: "Gone", 429: "Too Many Requests"}


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes


@dataclass(frozen=True, slots=True)
class ReceiverResponse:
    status: int = 200
    body: bytes = b""
    headers: Sequence[tuple[str, str]] = ()


Respond = Callable[[ReceivedRequest], "ReceiverResponse | Awaitable[ReceiverResponse]"]


def _ok(request: ReceivedRequest) -> ReceiverResponse:
    return ReceiverResponse()


Handle = Callable[[Outgoing], "Answer | Awaitable[Answer]"]


class FakeSender:
    """A webhook :class:`~marconi.webhooks.sender.Sender` without a network: ``handle`` answers
    each request (or raises a SendError); every request is kept in ``requests``."""

    def __init__(self, handle: Handle) -> None:
        self.handle = handle
        self.requests: list[Outgoing] = []
        self.closed = False

    async def post(self, request: Outgoing) -> Answer:
        self.requests.append(request)
        answer = self.handle(request)
        if inspect.isawaitable(answer):
            answer = await answer
        return answer

    async def aclose(self) -> None:
        self.closed = True


class _Session(asyncio.Protocol):
    def __init__(self, receiver: WebhookReceiver) -> None:
        self._receiver = receiver
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._busy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass
        self._receiver.connections += 1
        self._receiver._sessions.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._receiver._sessions.discard(self)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if not self._busy:
            self._serve()

    def _serve(self) -> None:
        while self._transport is not None and not self._transport.is_closing():
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > _MAX_HEAD:
                    self._transport.close()
                return
            lines = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
            method, path, _version = lines[0].split(" ", 2)
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            if len(self._buffer) < end + 4 + length:
                return
            body = bytes(self._buffer[end + 4 : end + 4 + length])
            del self._buffer[: end + 4 + length]
            request = ReceivedRequest(method, path, headers, body)
            answer = self._receiver._handle(request)
            if isinstance(answer, ReceiverResponse):
                self._write(answer)
                continue
            self._busy = True
            task = asyncio.ensure_future(answer)
            task.add_done_callback(self._answered)
            return

    def _answered(self, task: asyncio.Future[ReceiverResponse]) -> None:
        self._busy = False
        if task.cancelled() or task.exception() is not None:
            self.close()
            return
        self._write(task.result())
        self._serve()

    def _write(self, response: ReceiverResponse) -> None:
        assert self._transport is not None
        reason = _REASONS.get(response.status, "Status")
        head = [f"HTTP/1.1 {response.status} {reason}", f"content-length: {len(response.body)}"]
        head += [f"{name}: {value}" for name, value in response.headers]
        self._transport.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.body)


class WebhookReceiver:
    """A small HTTP/1.1 server on loopback (keep-alive, Content-Length bodies) that records
    what it is sent. ``keep=False`` only counts requests (for benchmarks)."""

    def __init__(
        self,
        *,
        respond: Respond = _ok,
        host: str = "127.0.0.1",
        port: int = 0,
        keep: bool = True,
    ) -> None:
        self.respond = respond
        self._host = host
        self._port = port
        self._keep = keep
        self.requests: list[ReceivedRequest] = []
        self.count = 0
        self.connections = 0
        self._arrived = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._sessions: set[_Session] = set()

    @property
    def port(self) -> int:
        assert self._server is not None, "the receiver is not started"
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def url(self, path: str = "/") -> str:
        return f"http://{self._host}:{self.port}{path}"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Session(self), self._host, self._port, reuse_address=True
        )

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
            for session in list(self._sessions):
                session.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> WebhookReceiver:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _handle(self, request: ReceivedRequest) -> ReceiverResponse | Awaitable[ReceiverResponse]:
        self.count += 1
        if self._keep:
            self.requests.append(request)
            self._arrived.set()
        answer = self.respond(request)
        if inspect.isawaitable(answer):
            return answer
        assert isinstance(answer, ReceiverResponse)
        return answer

    async def wait_for(self, count: int, *, within: float = 5.0) -> list[ReceivedRequest]:
        """Wait until ``count`` requests have arrived (TimeoutError after ``within`` seconds);
        returns them all."""
        async with asyncio.timeout(within):
            while len(self.requests) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return list(self.requests)


@dataclass
class _Row:
    delivery: WebhookDelivery
    attempts: list[WebhookAttempt] = field(default_factory=list)


class MemoryOutbox:
    """The outbox half of the store in a dict: claims, tries and replays as the SQL store does
    them, for tests that need no database."""

    def __init__(self) -> None:
        self.rows: dict[str, _Row] = {}
        self._ready = asyncio.Event()

    async def enqueue_webhook(self, new: NewWebhook, *, now: datetime) -> WebhookDelivery:
        delivery = WebhookDelivery(
            id=new_id(WEBHOOK_DELIVERY),
            account_id=new.account_id,
            message_id=new.message_id,
            url=new.url,
            event_type=new.event_type,
            payload=new.payload,
            sequence=new.sequence,
            status=WebhookStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            last_error=None,
            created_at=now,
            updated_at=now,
            delivered_at=None,
        )
        self.rows[delivery.id] = _Row(delivery)
        self._ready.set()
        return delivery

    async def wait_for_webhooks(self) -> None:
        await self._ready.wait()
        self._ready.clear()

    async def claim_webhooks(
        self, limit: int, *, now: datetime, lease_until: datetime
    ) -> list[WebhookDelivery]:
        due = sorted(
            (
                r
                for r in self.rows.values()
                if r.delivery.status is WebhookStatus.PENDING
                and r.delivery.next_attempt_at is not None
                and r.delivery.next_attempt_at <= now
            ),
            key=lambda r: (r.delivery.next_attempt_at, r.delivery.id),
        )[: max(limit, 0)]
        claimed = []
        for row in due:
            row.delivery = replace(row.delivery, next_attempt_at=lease_until, updated_at=now)
            claimed.append(row.delivery)
        return claimed

    async def record_webhook_attempts(
        self, results: Sequence[WebhookAttemptResult], *, now: datetime
    ) -> None:
        for result in results:
            row = self.rows[result.delivery_id]
            d = row.delivery
            if result.ok:
                status, next_at, error, done = WebhookStatus.DELIVERED, None, None, now
            elif result.next_attempt_at is not None:
                status, next_at, error, done = (
                    WebhookStatus.PENDING,
                    result.next_attempt_at,
                    result.error,
                    None,
                )
            else:
                status, next_at, error, done = WebhookStatus.DEAD, None, result.error, None
            row.delivery = replace(
                d,
                status=status,
                attempts=d.attempts + 1,
                next_attempt_at=next_at,
                last_error=error,
                delivered_at=done,
                updated_at=now,
            )
            row.attempts.append(
                WebhookAttempt(
                    delivery_id=d.id,
                    number=d.attempts + 1,
                    at=now,
                    status_code=result.status_code,
                    error=result.error,
                    duration_ms=result.duration_ms,
                )
            )

    def _row(self, account_id: str, delivery_id: str) -> _Row:
        row = self.rows.get(delivery_id)
        if row is None or row.delivery.account_id != account_id:
            raise NotFound(f"webhook delivery {delivery_id} not found")
        return row

    async def get_webhook_delivery(self, account_id: str, delivery_id: str) -> WebhookDelivery:
        return self._row(account_id, delivery_id).delivery

    async def list_webhook_deliveries(
        self,
        account_id: str,
        *,
        status: WebhookStatus | None = None,
        message_id: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[WebhookDelivery]:
        items = [
            r.delivery
            for r in self.rows.values()
            if r.delivery.account_id == account_id
            and (status is None or r.delivery.status is status)
            and (message_id is None or r.delivery.message_id == message_id)
            and (cursor is None or r.delivery.id < cursor)
        ]
        items.sort(key=lambda d: d.id, reverse=True)
        more = len(items) > limit
        items = items[:limit]
        return Page(items=items, next_cursor=items[-1].id if more else None)

    async def list_webhook_attempts(
        self, account_id: str, delivery_id: str
    ) -> list[WebhookAttempt]:
        return list(self._row(account_id, delivery_id).attempts)

    async def replay_webhook(
        self, account_id: str, delivery_id: str, *, now: datetime
    ) -> WebhookDelivery:
        row = self._row(account_id, delivery_id)
        row.delivery = replace(
            row.delivery,
            status=WebhookStatus.PENDING,
            next_attempt_at=now,
            delivered_at=None,
            updated_at=now,
        )
        self._ready.set()
        return row.delivery
