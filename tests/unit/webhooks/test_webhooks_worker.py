"""The worker's decisions, over an in-memory outbox and a fake sender (no sockets); the real
HTTP client is tested over loopback in tests/integration/webhooks/test_webhooks_sender.py."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from marconi.errors import StoreError
from marconi.store.model import NewWebhook, WebhookStatus
from marconi.webhooks.backoff import RetrySchedule
from marconi.webhooks.payload import INBOUND_EVENT_TYPE, STATUS_EVENT_TYPE
from marconi.webhooks.secret import MemorySecretRepository
from marconi.webhooks.sender import Answer, CannotConnect, Outgoing, SendTimeout
from marconi.webhooks.signature import verify
from marconi.webhooks.testing import FakeSender, MemoryOutbox
from marconi.webhooks.worker import WebhookWorker

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ACCOUNT = "AC" + "1" * 32


@dataclass
class Policy:
    allow_private_webhooks: bool = True


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Harness:
    def __init__(
        self, handler: object, *, store: MemoryOutbox | None = None, **options: object
    ) -> None:
        self.outbox = store or MemoryOutbox()
        self.secrets = MemorySecretRepository()
        self.clock = Clock()
        self.replies: list[tuple[str, str, str, str]] = []
        self.sender = FakeSender(handler)  # type: ignore[arg-type]
        self.seen: list[Outgoing] = self.sender.requests

        async def on_reply(account_id: str, number: str, to: str, body: str) -> None:
            self.replies.append((account_id, number, to, body))

        settings = {
            "store": self.outbox,
            "settings": Policy(),
            "secrets": self.secrets,
            "clock": self.clock,
            "sender": self.sender,
            "on_reply": on_reply,
            "schedule": RetrySchedule(delays=(10.0, 20.0), jitter=0),
        }
        settings.update(options)
        self.worker = WebhookWorker(**settings)  # type: ignore[arg-type]

    async def enqueue(
        self,
        *,
        url: str = "http://hooks.example/status",
        event_type: str = STATUS_EVENT_TYPE,
        payload: str = '{"type":"message.status","sequence":2}',
        sequence: int = 2,
    ) -> str:
        new = NewWebhook(
            account_id=ACCOUNT,
            url=url,
            event_type=event_type,
            payload=payload,
            message_id="SM" + "2" * 32,
            sequence=sequence,
        )
        return (await self.outbox.enqueue_webhook(new, now=self.clock())).id

    def row(self, delivery_id: str) -> tuple[WebhookStatus, int, str | None]:
        d = self.outbox.rows[delivery_id].delivery
        return d.status, d.attempts, d.last_error


async def eventually(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_a_2xx_delivers_a_signed_request() -> None:
    h = Harness(lambda r: Answer(204))
    delivery_id = await h.enqueue()
    assert await h.worker.run_once() == 1
    assert h.row(delivery_id) == (WebhookStatus.DELIVERED, 1, None)
    (request,) = h.seen
    secret = h.secrets.secrets[ACCOUNT].secret
    assert request.headers["webhook-id"] == delivery_id
    assert request.headers["webhook-sequence"] == "2"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-timestamp"] == str(int(T0.timestamp()))
    verify(request.body, dict(request.headers), secret, now=T0.timestamp())
    assert h.worker.stats.delivered == 1
    await h.worker.aclose()


async def test_failures_are_retried_on_schedule_then_dead_with_the_response_kept() -> None:
    h = Harness(lambda r: Answer(500, body=b"  database\n exploded  " + b"x" * 500))
    delivery_id = await h.enqueue()
    await h.worker.run_once()
    status, attempts, error = h.row(delivery_id)
    assert (status, attempts) == (WebhookStatus.PENDING, 1)
    assert error is not None
    assert error.startswith("HTTP 500: database exploded xxx")
    assert len(error) < 230
    assert error.endswith("…")
    assert h.outbox.rows[delivery_id].delivery.next_attempt_at == T0 + timedelta(seconds=10)
    assert await h.worker.run_once() == 0  # not due yet
    h.clock.advance(10)
    await h.worker.run_once()
    assert h.outbox.rows[delivery_id].delivery.next_attempt_at == h.clock() + timedelta(seconds=20)
    h.clock.advance(20)
    await h.worker.run_once()
    assert h.row(delivery_id)[:2] == (WebhookStatus.DEAD, 3)
    attempts_log = h.outbox.rows[delivery_id].attempts
    assert [a.status_code for a in attempts_log] == [500, 500, 500]
    assert h.worker.stats.dead == 1
    assert h.worker.stats.failed == 2
    await h.worker.aclose()


async def test_410_gone_stops_at_once() -> None:
    h = Harness(lambda r: Answer(410))
    delivery_id = await h.enqueue()
    await h.worker.run_once()
    status, attempts, error = h.row(delivery_id)
    assert (status, attempts) == (WebhookStatus.DEAD, 1)
    assert error is not None
    assert "410 Gone" in error
    await h.worker.aclose()


@pytest.mark.parametrize("code", [301, 400, 401, 403, 404, 408, 422, 502])
async def test_other_statuses_are_retried(code: int) -> None:
    h = Harness(lambda r: Answer(code, headers={"location": "http://10.0.0.1/"}))
    delivery_id = await h.enqueue()
    await h.worker.run_once()
    assert h.row(delivery_id)[:2] == (WebhookStatus.PENDING, 1)
    assert len(h.seen) == 1  # a redirect is not followed
    await h.worker.aclose()


@pytest.mark.parametrize("code", [429, 503])
async def test_retry_after_is_honoured(code: int) -> None:
    h = Harness(lambda r: Answer(code, headers={"retry-after": "120"}))
    delivery_id = await h.enqueue()
    await h.worker.run_once()
    assert h.outbox.rows[delivery_id].delivery.next_attempt_at == T0 + timedelta(seconds=120)
    await h.worker.aclose()


async def test_a_timeout_and_a_refused_connection_are_retried() -> None:
    def fail(request: Outgoing) -> Answer:
        if "slow" in request.url:
            raise SendTimeout("timed out after 10 s")
        raise CannotConnect("cannot connect: [Errno 111] Connection refused")

    h = Harness(fail)
    slow = await h.enqueue(url="http://hooks.example/slow")
    down = await h.enqueue(url="http://hooks.example/down")
    await h.worker.run_once()
    assert h.row(slow) == (WebhookStatus.PENDING, 1, "timed out after 10 s")
    assert h.row(down) == (
        WebhookStatus.PENDING,
        1,
        "cannot connect: [Errno 111] Connection refused",
    )
    await h.worker.aclose()


async def test_a_private_target_is_refused_without_a_request_and_not_retried() -> None:
    h = Harness(lambda r: Answer(200), settings=Policy(allow_private_webhooks=False))
    delivery_id = await h.enqueue(url="http://127.0.0.1:9/hook")
    await h.worker.run_once()
    status, attempts, error = h.row(delivery_id)
    assert (status, attempts) == (WebhookStatus.DEAD, 1)
    assert error == (
        "refused: 127.0.0.1, a loopback address; webhooks to private addresses are disabled "
        "(MARCONI_ALLOW_PRIVATE_WEBHOOKS=false)"
    )
    assert h.seen == []
    assert h.worker.stats.refused == 1
    await h.worker.aclose()


async def test_a_public_target_is_pinned_to_its_checked_address() -> None:
    async def resolve(host: str, port: int) -> list[object]:
        import ipaddress

        return [ipaddress.ip_address("93.184.216.34")]

    h = Harness(
        lambda r: Answer(200),
        settings=Policy(allow_private_webhooks=False),
        resolver=resolve,
    )
    await h.enqueue(url="https://hooks.example:8443/status?k=1")
    await h.worker.run_once()
    (request,) = h.seen
    assert request.url == "https://93.184.216.34:8443/status?k=1"
    assert request.headers["host"] == "hooks.example:8443"
    assert request.server_hostname == "hooks.example"
    await h.worker.aclose()


INBOUND = orjson.dumps(
    {"type": INBOUND_EVENT_TYPE, "from": "+14155550100", "to": "+14155550199", "body": "hi"}
).decode()


@pytest.mark.parametrize(
    ("content_type", "body", "reply"),
    [
        ("application/json", b'{"reply": "thanks!"}', "thanks!"),
        ("application/json; charset=utf-8", b'{"reply": ""}', None),
        ("text/plain; charset=utf-8", b"  see you  \n", "see you"),
        ("text/html", b"<p>ok</p>", None),
        ("application/json", b"", None),
    ],
)
async def test_an_inbound_webhook_reply_is_handed_on(
    content_type: str, body: bytes, reply: str | None
) -> None:
    h = Harness(lambda r: Answer(200, body=body, headers={"content-type": content_type}))
    delivery_id = await h.enqueue(event_type=INBOUND_EVENT_TYPE, payload=INBOUND, sequence=1)
    await h.worker.run_once()
    assert h.row(delivery_id)[0] is WebhookStatus.DELIVERED
    expected = [] if reply is None else [(ACCOUNT, "+14155550199", "+14155550100", reply)]
    assert h.replies == expected
    await h.worker.aclose()


async def test_a_status_callback_answer_is_never_a_reply() -> None:
    h = Harness(
        lambda r: Answer(200, body=b'{"reply": "no"}', headers={"content-type": "application/json"})
    )
    await h.enqueue()
    await h.worker.run_once()
    assert h.replies == []
    await h.worker.aclose()


async def test_a_failing_reply_hook_does_not_undo_the_delivery() -> None:
    async def broken(account_id: str, number: str, to: str, body: str) -> None:
        raise RuntimeError("no route")

    h = Harness(
        lambda r: Answer(200, body=b"hello", headers={"content-type": "text/plain; charset=utf-8"}),
        on_reply=broken,
    )
    delivery_id = await h.enqueue(event_type=INBOUND_EVENT_TYPE, payload=INBOUND)
    await h.worker.run_once()
    assert h.row(delivery_id)[0] is WebhookStatus.DELIVERED
    await h.worker.aclose()


async def test_during_a_rotation_both_secrets_sign() -> None:
    h = Harness(lambda r: Answer(200))
    old = (await h.secrets.get_or_create_secret(ACCOUNT, now=T0)).secret
    new = (await h.secrets.rotate_secret(ACCOUNT, now=T0, grace=timedelta(hours=1))).secret
    await h.enqueue()
    await h.worker.run_once()
    (request,) = h.seen
    assert len(request.headers["webhook-signature"].split()) == 2
    for secret in (old, new):
        verify(request.body, dict(request.headers), secret, now=T0.timestamp())
    await h.worker.aclose()


async def test_run_delivers_what_is_enqueued_while_it_runs_and_aclose_stops_it() -> None:
    h = Harness(lambda r: Answer(200), poll_interval=30.0)
    task = asyncio.create_task(h.worker.run())
    ids = [await h.enqueue(sequence=n) for n in range(1, 51)]
    await eventually(lambda: all(h.row(i)[0] is WebhookStatus.DELIVERED for i in ids))
    await h.worker.aclose()
    await task
    assert sorted(int(r.headers["webhook-sequence"]) for r in h.seen) == list(range(1, 51))


class FailingOutbox(MemoryOutbox):
    def __init__(self) -> None:
        super().__init__()
        self.down = True

    async def record_webhook_attempts(self, results, *, now):  # type: ignore[no-untyped-def]
        if self.down:
            raise StoreError("the database failed the write: ConnectionRefusedError")
        await super().record_webhook_attempts(results, now=now)


async def test_tries_are_recorded_once_the_database_is_back() -> None:
    outbox = FailingOutbox()
    h = Harness(lambda r: Answer(200), store=outbox, poll_interval=0.05)
    task = asyncio.create_task(h.worker.run())
    delivery_id = await h.enqueue()
    await eventually(lambda: bool(h.seen))
    await asyncio.sleep(0.1)
    assert h.row(delivery_id)[0] is WebhookStatus.PENDING
    outbox.down = False
    await eventually(lambda: h.row(delivery_id)[0] is WebhookStatus.DELIVERED)
    await h.worker.aclose()
    await task
    assert len(h.seen) == 1
