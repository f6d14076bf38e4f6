"""Dispatchers and webhook senders sleep until a commit makes work for them."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from tests.integration.store.conftest import PG_URL, OpenStore
from tests.integration.store.factory import account, later, queued

from marconi.store.engine import Dialect
from marconi.store.model import MessageStatus, NewWebhook, Submitted, SubmittedPart
from marconi.store.sql import _MESSAGES_CHANNEL, SqlStore, _channel


async def woken(wait: asyncio.Task[None], seconds: float = 5.0) -> bool:
    try:
        async with asyncio.timeout(seconds):
            await asyncio.shield(wait)
    except TimeoutError:
        return False
    return True


async def listening(store: SqlStore) -> None:
    """On PostgreSQL the first waits return once the listener is connected: it may have missed
    news while it was not, so it wakes everyone. Take those wakeups out of the way."""
    if store.dialect is Dialect.POSTGRESQL:
        async with asyncio.timeout(10):
            await store.wait_for_messages()
            await store.wait_for_webhooks()


async def test_queued_messages_wake_the_dispatcher(store: SqlStore) -> None:
    a = await account(store)
    await listening(store)
    waiter = asyncio.create_task(store.wait_for_messages())
    await queued(store, a.id, status=MessageStatus.SCHEDULED, send_at=later(60))
    assert not await woken(waiter, 0.3)  # a scheduled message is not work yet
    await queued(store, a.id)
    assert await woken(waiter)


async def test_status_callbacks_and_replays_wake_the_webhook_sender(store: SqlStore) -> None:
    a = await account(store)
    m = await queued(store, a.id, status_callback="http://127.0.0.1:9/cb")
    await store.claim_batch(1, now=later(1), worker_id="w")
    await listening(store)
    waiter = asyncio.create_task(store.wait_for_webhooks())
    await asyncio.sleep(0)
    await store.record_submit_results(
        [
            Submitted(
                message_id=m.id,
                connector="c",
                parts=(SubmittedPart(part_number=1, smsc_message_id="x"),),
            )
        ],
        now=later(2),
    )
    assert await woken(waiter)

    delivery = await store.enqueue_webhook(
        NewWebhook(account_id=a.id, url="http://127.0.0.1:9/x", event_type="t", payload="{}"),
        now=later(3),
    )
    await store.wait_for_webhooks()  # already set by the enqueue: returns at once
    waiter = asyncio.create_task(store.wait_for_webhooks())
    assert not await woken(waiter, 0.2)
    await store.replay_webhook(a.id, delivery.id, now=later(4))
    assert await woken(waiter)


async def test_another_node_is_woken_through_postgresql(open_stores: OpenStore) -> None:
    api_node = await open_stores()
    if api_node.dialect is not Dialect.POSTGRESQL:
        pytest.skip("SQLite runs one node: its wakeups stay in the process")
    dispatcher_node = await open_stores()
    a = await account(api_node)
    await listening(dispatcher_node)
    waiter = asyncio.create_task(dispatcher_node.wait_for_messages())
    assert not await woken(waiter, 0.3)
    await queued(api_node, a.id)
    assert await woken(waiter)


async def test_a_deployment_in_another_schema_does_not_wake_this_one(
    open_stores: OpenStore,
) -> None:
    node = await open_stores()
    if node.dialect is not Dialect.POSTGRESQL:
        pytest.skip("SQLite runs one node: its wakeups stay in the process")
    await listening(node)
    waiter = asyncio.create_task(node.wait_for_messages())
    other = await asyncpg.connect(PG_URL)
    try:
        # What a deployment in another schema, and one in the default schema, would send.
        for schema in ("another_deployment", None):
            await other.execute("SELECT pg_notify($1, 'x')", _channel(_MESSAGES_CHANNEL, schema))
    finally:
        await other.close()
    assert not await woken(waiter, 0.3)
    api_node = await open_stores()
    await queued(api_node, (await account(api_node)).id)
    assert await woken(waiter)
