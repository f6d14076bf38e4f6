"""The webhook outbox: scheduling, leases, attempts, dead letters and replay."""

from __future__ import annotations

import pytest
from tests.integration.store.factory import account, later

from marconi.errors import NotFound
from marconi.store.model import NewWebhook, WebhookAttemptResult, WebhookStatus
from marconi.store.sql import SqlStore


def hook(account_id: str, n: int = 0) -> NewWebhook:
    return NewWebhook(
        account_id=account_id,
        url=f"http://127.0.0.1:9/hook/{n}",
        event_type="message.received",
        payload=f'{{"n":{n}}}',
        sequence=n,
    )


async def test_claim_leases_and_gives_back_after_the_lease(store: SqlStore) -> None:
    a = await account(store)
    first = await store.enqueue_webhook(hook(a.id, 1), now=later(0))
    second = await store.enqueue_webhook(hook(a.id, 2), now=later(1))
    assert first.status is WebhookStatus.PENDING
    assert first.next_attempt_at == later(0)
    claimed = await store.claim_webhooks(10, now=later(2), lease_until=later(32))
    assert [d.id for d in claimed] == [first.id, second.id]
    assert claimed[0].payload == '{"n":1}'
    assert await store.claim_webhooks(10, now=later(31), lease_until=later(61)) == []
    # the sender died: after the lease the deliveries come back
    again = await store.claim_webhooks(1, now=later(32), lease_until=later(62))
    assert [d.id for d in again] == [first.id]


async def test_attempts_move_deliveries_to_delivered_retry_or_dead(store: SqlStore) -> None:
    a = await account(store)
    ok, retry, dead = [await store.enqueue_webhook(hook(a.id, i), now=later(0)) for i in range(3)]
    await store.claim_webhooks(10, now=later(1), lease_until=later(31))
    await store.record_webhook_attempts(
        [
            WebhookAttemptResult(delivery_id=ok.id, ok=True, status_code=204, duration_ms=3),
            WebhookAttemptResult(
                delivery_id=retry.id,
                ok=False,
                status_code=503,
                error="HTTP 503",
                next_attempt_at=later(60),
            ),
            WebhookAttemptResult(delivery_id=dead.id, ok=False, error="connection refused"),
        ],
        now=later(2),
    )
    got_ok = await store.get_webhook_delivery(a.id, ok.id)
    assert got_ok.status is WebhookStatus.DELIVERED
    assert got_ok.delivered_at == later(2)
    assert got_ok.attempts == 1
    got_retry = await store.get_webhook_delivery(a.id, retry.id)
    assert got_retry.status is WebhookStatus.PENDING
    assert got_retry.last_error == "HTTP 503"
    assert await store.claim_webhooks(10, now=later(59), lease_until=later(99)) == []
    assert [d.id for d in await store.claim_webhooks(10, now=later(60), lease_until=later(90))] == [
        retry.id
    ]
    await store.record_webhook_attempts(
        [WebhookAttemptResult(delivery_id=retry.id, ok=True, status_code=200)], now=later(61)
    )
    attempts = await store.list_webhook_attempts(a.id, retry.id)
    assert [(t.number, t.status_code, t.error) for t in attempts] == [
        (1, 503, "HTTP 503"),
        (2, 200, None),
    ]
    got_dead = await store.get_webhook_delivery(a.id, dead.id)
    assert got_dead.status is WebhookStatus.DEAD
    assert got_dead.next_attempt_at is None

    dead_page = await store.list_webhook_deliveries(a.id, status=WebhookStatus.DEAD)
    assert [d.id for d in dead_page.items] == [dead.id]

    replayed = await store.replay_webhook(a.id, dead.id, now=later(100))
    assert replayed.status is WebhookStatus.PENDING
    assert replayed.next_attempt_at == later(100)
    assert [
        d.id for d in await store.claim_webhooks(10, now=later(100), lease_until=later(130))
    ] == [dead.id]


async def test_outbox_is_scoped_to_the_account(store: SqlStore) -> None:
    a = await account(store, "a")
    b = await account(store, "b")
    delivery = await store.enqueue_webhook(hook(a.id), now=later(0))
    with pytest.raises(NotFound):
        await store.get_webhook_delivery(b.id, delivery.id)
    with pytest.raises(NotFound):
        await store.list_webhook_attempts(b.id, delivery.id)
    with pytest.raises(NotFound):
        await store.replay_webhook(b.id, delivery.id, now=later(1))
    assert (await store.list_webhook_deliveries(b.id)).items == []


async def test_delivery_list_pages(store: SqlStore) -> None:
    a = await account(store)
    made = [await store.enqueue_webhook(hook(a.id, i), now=later(i)) for i in range(5)]
    first = await store.list_webhook_deliveries(a.id, limit=2)
    assert [d.id for d in first.items] == [made[4].id, made[3].id]
    assert first.next_cursor is not None
    rest = await store.list_webhook_deliveries(a.id, limit=10, cursor=first.next_cursor)
    assert [d.id for d in rest.items] == [made[2].id, made[1].id, made[0].id]
    assert rest.next_cursor is None


async def test_deliveries_filter_by_message(store: SqlStore) -> None:
    a = await account(store)
    one = await store.enqueue_webhook(
        NewWebhook(
            account_id=a.id,
            url="http://127.0.0.1:9/a",
            event_type="t",
            payload="{}",
            message_id="SM1",
        ),
        now=later(0),
    )
    await store.enqueue_webhook(hook(a.id), now=later(1))
    page = await store.list_webhook_deliveries(a.id, message_id="SM1")
    assert [d.id for d in page.items] == [one.id]
