"""The worker over the real store (SQLite and PostgreSQL) and a real HTTP receiver on loopback."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
import pytest
from tests.integration.webhooks.conftest import Clock

from marconi.errors import Conflict
from marconi.services.clock import utc_now
from marconi.services.webhooks import WebhookService
from marconi.store.model import (
    NewMessage,
    NewWebhook,
    PartStatus,
    Receipt,
    Submitted,
    SubmittedPart,
    WebhookStatus,
)
from marconi.store.sql import SqlStore
from marconi.webhooks.backoff import RetrySchedule
from marconi.webhooks.payload import INBOUND_EVENT_TYPE, inbound_payload
from marconi.webhooks.secret import SqlSecretRepository
from marconi.webhooks.signature import verify
from marconi.webhooks.testing import ReceiverResponse, WebhookReceiver
from marconi.webhooks.worker import WebhookWorker

SHORT = RetrySchedule(delays=(5.0, 60.0), jitter=0)


@dataclass
class Policy:
    allow_private_webhooks: bool = True


def worker_for(store: SqlStore, clock: Clock, **options: Any) -> WebhookWorker:
    values: dict[str, Any] = {
        "store": store,
        "settings": Policy(),
        "clock": clock,
        "schedule": SHORT,
        "timeout": 2.0,
        "lease": 30.0,
    }
    values.update(options)
    return WebhookWorker(**values)


async def secret_of(store: SqlStore, account_id: str, clock: Clock) -> str:
    return (await SqlSecretRepository(store).get_or_create_secret(account_id, now=clock())).secret


async def enqueue(store: SqlStore, account_id: str, url: str, clock: Clock, **extra: Any) -> str:
    new = NewWebhook(
        account_id=account_id,
        url=url,
        event_type=extra.pop("event_type", "message.status"),
        payload=extra.pop("payload", '{"type":"message.status"}'),
        **extra,
    )
    return (await store.enqueue_webhook(new, now=clock())).id


async def test_status_callbacks_arrive_signed_in_sequence(
    store: SqlStore, account_id: str, receiver: WebhookReceiver, clock: Clock
) -> None:
    message = await store.insert_message(
        NewMessage(
            account_id=account_id,
            from_addr="+14155550100",
            to_addr="+447700900123",
            body="hello",
            encoding="gsm7",
            segments=1,
            status_callback=receiver.url("/status"),
        ),
        now=clock(),
    )
    (claimed,) = await store.claim_batch(10, now=clock(), worker_id="w1")
    await store.record_submit_results(
        [
            Submitted(
                message_id=claimed.id,
                connector="sim",
                parts=(SubmittedPart(part_number=1, smsc_message_id="abc"),),
            )
        ],
        now=clock(),
    )
    await store.apply_receipts(
        [Receipt(connector="sim", smsc_message_id="abc", status=PartStatus.DELIVERED)],
        now=clock(),
    )
    worker = worker_for(store, clock)
    assert await worker.run_once() == 2
    await worker.aclose()
    requests = await receiver.wait_for(2)
    secret = await secret_of(store, account_id, clock)
    for request in requests:
        verify(request.body, request.headers, secret, now=clock().timestamp())
    bodies = sorted((orjson.loads(r.body) for r in requests), key=lambda b: b["sequence"])
    assert [(b["status"], b["message_id"]) for b in bodies] == [
        ("sent", message.id),
        ("delivered", message.id),
    ]
    sequences = sorted(int(r.headers["webhook-sequence"]) for r in requests)
    assert sequences == [b["sequence"] for b in bodies]
    assert sequences[0] < sequences[1]
    assert bodies[1]["previous_status"] == "sent"
    page = await store.list_webhook_deliveries(account_id)
    assert {d.status for d in page.items} == {WebhookStatus.DELIVERED}


async def test_a_500_is_retried_then_delivered(
    store: SqlStore, account_id: str, receiver: WebhookReceiver, clock: Clock
) -> None:
    answers = iter([ReceiverResponse(500, b"try later"), ReceiverResponse(200)])
    receiver.respond = lambda request: next(answers)
    delivery_id = await enqueue(store, account_id, receiver.url("/"), clock)
    worker = worker_for(store, clock)
    await worker.run_once()
    first = await store.get_webhook_delivery(account_id, delivery_id)
    assert (first.status, first.attempts, first.last_error) == (
        WebhookStatus.PENDING,
        1,
        "HTTP 500: try later",
    )
    assert await worker.run_once() == 0  # not due for 5 s
    clock.advance(5)
    assert await worker.run_once() == 1
    await worker.aclose()
    done = await store.get_webhook_delivery(account_id, delivery_id)
    assert (done.status, done.attempts, done.last_error) == (WebhookStatus.DELIVERED, 2, None)
    attempts = await store.list_webhook_attempts(account_id, delivery_id)
    assert [(a.number, a.status_code) for a in attempts] == [(1, 500), (2, 200)]
    assert all(a.duration_ms is not None and a.duration_ms >= 0 for a in attempts)
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert ids == {delivery_id}  # the same id on every try: receivers deduplicate by it


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_a_refused_connection_is_retried_then_delivered(
    store: SqlStore, account_id: str, clock: Clock
) -> None:
    port = _free_port()
    delivery_id = await enqueue(store, account_id, f"http://127.0.0.1:{port}/hook", clock)
    worker = worker_for(store, clock)
    await worker.run_once()
    failed = await store.get_webhook_delivery(account_id, delivery_id)
    assert failed.status is WebhookStatus.PENDING
    assert failed.last_error is not None
    assert failed.last_error.startswith("cannot connect")
    async with WebhookReceiver(port=port) as receiver:
        clock.advance(5)
        await worker.run_once()
        await worker.aclose()
        assert len(receiver.requests) == 1
    done = await store.get_webhook_delivery(account_id, delivery_id)
    assert (done.status, done.attempts) == (WebhookStatus.DELIVERED, 2)


async def test_dead_after_the_schedule_then_replayed(
    store: SqlStore, account_id: str, receiver: WebhookReceiver, clock: Clock
) -> None:
    receiver.respond = lambda request: ReceiverResponse(503, b"maintenance")
    delivery_id = await enqueue(store, account_id, receiver.url("/"), clock)
    worker = worker_for(store, clock)
    for step in (0, 5, 60):
        clock.advance(step)
        assert await worker.run_once() == 1
    dead = await store.get_webhook_delivery(account_id, delivery_id)
    assert (dead.status, dead.attempts, dead.next_attempt_at) == (WebhookStatus.DEAD, 3, None)
    assert dead.last_error == "HTTP 503: maintenance"
    clock.advance(3600)
    assert await worker.run_once() == 0  # dead letters are not tried

    service = WebhookService(outbox=store, secrets=SqlSecretRepository(store), clock=clock)
    receiver.respond = lambda request: ReceiverResponse(200)
    replayed = await service.replay(account_id, delivery_id)
    assert replayed.status is WebhookStatus.PENDING
    with pytest.raises(Conflict):
        await service.replay(account_id, delivery_id)
    assert await worker.run_once() == 1
    await worker.aclose()
    detail = await service.get_delivery(account_id, delivery_id)
    assert detail.delivery.status is WebhookStatus.DELIVERED
    assert [a.status_code for a in detail.attempts] == [503, 503, 503, 200]
    # a delivered one can be replayed too
    assert (await service.replay(account_id, delivery_id)).status is WebhookStatus.PENDING


async def test_an_inbound_reply_is_handed_to_on_reply(
    store: SqlStore, account_id: str, receiver: WebhookReceiver, clock: Clock
) -> None:
    receiver.respond = lambda request: ReceiverResponse(
        200, b'{"reply": "pong"}', [("content-type", "application/json")]
    )
    replies: list[tuple[str, str, str, str]] = []

    async def on_reply(account: str, number: str, to: str, body: str) -> None:
        replies.append((account, number, to, body))

    payload = inbound_payload(
        message_id="SM" + "9" * 32,
        account_id=account_id,
        from_addr="+447700900123",
        to_addr="+14155550100",
        body="ping",
        encoding="gsm7",
        segments=1,
        received_at=clock(),
    )
    await enqueue(
        store,
        account_id,
        receiver.url("/in"),
        clock,
        event_type=INBOUND_EVENT_TYPE,
        payload=payload,
    )
    worker = worker_for(store, clock, on_reply=on_reply)
    await worker.run_once()
    await worker.aclose()
    assert replies == [(account_id, "+14155550100", "+447700900123", "pong")]
    (request,) = receiver.requests
    assert orjson.loads(request.body)["body"] == "ping"


async def test_a_private_target_is_refused_when_private_webhooks_are_disallowed(
    store: SqlStore, account_id: str, receiver: WebhookReceiver, clock: Clock
) -> None:
    delivery_id = await enqueue(store, account_id, receiver.url("/"), clock)
    worker = worker_for(store, clock, settings=Policy(allow_private_webhooks=False))
    await worker.run_once()
    await worker.aclose()
    refused = await store.get_webhook_delivery(account_id, delivery_id)
    assert refused.status is WebhookStatus.DEAD
    assert refused.last_error is not None
    assert "a loopback address" in refused.last_error
    assert "MARCONI_ALLOW_PRIVATE_WEBHOOKS" in refused.last_error
    assert receiver.count == 0


async def test_run_wakes_on_commits_and_stops_cleanly(
    store: SqlStore, account_id: str, receiver: WebhookReceiver
) -> None:
    # the real clock: rows come due at once; no polling, so only the store's wakeup delivers
    worker = WebhookWorker(store=store, settings=Policy(), poll_interval=60.0)
    task = asyncio.create_task(worker.run())
    await asyncio.sleep(0.05)  # the worker is waiting now
    clock_now = utc_now
    for n in range(20):
        await store.enqueue_webhook(
            NewWebhook(
                account_id=account_id,
                url=receiver.url("/"),
                event_type="message.status",
                payload=f'{{"n":{n}}}',
                sequence=n + 1,
            ),
            now=clock_now(),
        )
    await receiver.wait_for(20, within=5)
    await worker.aclose()
    await task
    assert worker.stats.delivered == 20
    pending = await store.list_webhook_deliveries(account_id, status=WebhookStatus.PENDING)
    assert pending.items == []


async def test_the_secret_is_one_per_account_and_rotates(
    store: SqlStore, account_id: str, clock: Clock, receiver: WebhookReceiver
) -> None:
    repository = SqlSecretRepository(store)
    first, again = await asyncio.gather(
        repository.get_or_create_secret(account_id, now=clock()),
        repository.get_or_create_secret(account_id, now=clock()),
    )
    assert first.secret == again.secret
    assert first.secret.startswith("whsec_")
    rotated = await repository.rotate_secret(account_id, now=clock(), grace=timedelta(hours=2))
    assert rotated.previous_secret == first.secret
    reread = await repository.get_or_create_secret(account_id, now=clock())
    assert reread == rotated
    await enqueue(store, account_id, receiver.url("/"), clock)
    worker = worker_for(store, clock)
    await worker.run_once()
    await worker.aclose()
    (request,) = receiver.requests
    verify(request.body, request.headers, first.secret, now=clock().timestamp())
    verify(request.body, request.headers, rotated.secret, now=clock().timestamp())
