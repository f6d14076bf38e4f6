"""Messages: accepting, reading, isolation, idempotency, pagination, cancel and redact."""

from __future__ import annotations

import asyncio

import pytest
from tests.integration.store.conftest import T0
from tests.integration.store.factory import account, later, new_message, queued

from marconi.errors import Conflict, NotFound, ValidationError
from marconi.store.model import (
    Direction,
    MessageFilter,
    MessageStatus,
    NewWebhook,
    Submitted,
    SubmittedPart,
)
from marconi.store.sql import SqlStore


async def test_insert_returns_what_get_reads(store: SqlStore) -> None:
    a = await account(store)
    message = await store.insert_message(
        new_message(
            a.id,
            body="héllo ✓",
            encoding="ucs2",
            segments=2,
            data_coding=8,
            priority=3,
            expires_at=later(3600),
            status_callback="http://127.0.0.1:9/cb",
            metadata={"order": 42, "tags": ["a", "b"], "nested": {"ok": True}},
            price="0.0075",
            price_unit="EUR",
        ),
        now=T0,
    )
    assert message.id.startswith("SM")
    assert len(message.id) == 34
    assert message.status is MessageStatus.QUEUED
    assert message.next_attempt_at == T0
    assert message.event_seq == 1
    assert (message.price, message.price_unit) == ("0.0075", "EUR")
    assert await store.get_message(a.id, message.id) == message
    events = await store.list_events(a.id, message.id)
    assert [(e.seq, e.status, e.at) for e in events] == [(1, MessageStatus.QUEUED, T0)]


async def test_insert_many_is_one_call(store: SqlStore) -> None:
    a = await account(store)
    got = await store.insert_messages(
        [new_message(a.id, to_addr=f"+1555000{i:04d}") for i in range(5)], now=T0
    )
    assert len({m.id for m in got}) == 5
    page = await store.list_messages(a.id, limit=10)
    assert {m.id for m in page.items} == {m.id for m in got}
    assert await store.insert_messages([], now=T0) == []


async def test_scheduled_and_received_messages(store: SqlStore) -> None:
    a = await account(store)
    scheduled = await queued(store, a.id, status=MessageStatus.SCHEDULED, send_at=later(60))
    assert scheduled.next_attempt_at == later(60)
    inbound = await store.insert_message(
        new_message(
            a.id,
            direction=Direction.INBOUND,
            status=MessageStatus.RECEIVED,
            connector="sim",
            webhook=NewWebhook(
                account_id=a.id,
                url="http://127.0.0.1:9/in",
                event_type="message.received",
                payload="{}",
            ),
        ),
        now=T0,
    )
    assert inbound.final
    assert inbound.done_at == T0
    deliveries = (await store.list_webhook_deliveries(a.id)).items
    assert [(d.message_id, d.event_type) for d in deliveries] == [(inbound.id, "message.received")]
    with pytest.raises(ValueError, match="send_at"):
        await store.insert_message(new_message(a.id, status=MessageStatus.SCHEDULED), now=T0)
    with pytest.raises(ValueError, match="inbound"):
        await store.insert_message(new_message(a.id, status=MessageStatus.RECEIVED), now=T0)


async def test_every_read_and_write_by_id_is_scoped_to_the_account(store: SqlStore) -> None:
    a = await account(store, "a")
    b = await account(store, "b")
    message = await queued(store, a.id)
    with pytest.raises(NotFound):
        await store.get_message(b.id, message.id)
    with pytest.raises(NotFound):
        await store.list_events(b.id, message.id)
    with pytest.raises(NotFound):
        await store.list_parts(b.id, message.id)
    with pytest.raises(NotFound):
        await store.cancel_message(b.id, message.id, now=later(1))
    with pytest.raises(NotFound):
        await store.redact_message(b.id, message.id, now=later(1))
    assert (await store.list_messages(b.id)).items == []
    # and nothing changed for the owner
    assert (await store.get_message(a.id, message.id)).status is MessageStatus.QUEUED


async def test_idempotency_key_returns_the_first_message(store: SqlStore) -> None:
    a = await account(store, "a")
    b = await account(store, "b")
    first = await queued(store, a.id, idempotency_key="k1", request_hash="h")
    again = await queued(store, a.id, at=later(5), idempotency_key="k1", request_hash="h")
    assert again == first
    with pytest.raises(Conflict, match="different request"):
        await queued(store, a.id, idempotency_key="k1", request_hash="other")
    other_account = await queued(store, b.id, idempotency_key="k1", request_hash="h")
    assert other_account.id != first.id
    assert len((await store.list_messages(a.id)).items) == 1


async def test_purged_idempotency_keys_are_forgotten(store: SqlStore) -> None:
    a = await account(store)
    old = await queued(store, a.id, at=later(0), idempotency_key="old", request_hash="h")
    await queued(store, a.id, at=later(100), idempotency_key="new", request_hash="h")
    assert await store.purge_idempotency_keys(created_before=later(50)) == 1
    fresh = await queued(store, a.id, at=later(200), idempotency_key="old", request_hash="h")
    assert fresh.id != old.id
    kept = await queued(store, a.id, at=later(200), idempotency_key="new", request_hash="h")
    assert kept.created_at == later(100)


async def test_concurrent_retries_with_one_key_make_one_message(store: SqlStore) -> None:
    a = await account(store)
    results = await asyncio.gather(
        *(queued(store, a.id, idempotency_key="same", request_hash="h") for _ in range(20)),
        *(queued(store, a.id, to_addr=f"+1555111{i:04d}") for i in range(20)),
    )
    assert len({m.id for m in results[:20]}) == 1
    assert len({m.id for m in results[20:]}) == 20
    assert len((await store.list_messages(a.id, limit=100)).items) == 21


async def test_a_refused_job_does_not_fail_the_batch_it_shared(store: SqlStore) -> None:
    a = await account(store)
    await queued(store, a.id, idempotency_key="k", request_hash="h1")
    outcomes = await asyncio.gather(
        *(queued(store, a.id) for _ in range(10)),
        queued(store, a.id, idempotency_key="k", request_hash="h2"),
        *(queued(store, a.id) for _ in range(10)),
        return_exceptions=True,
    )
    assert isinstance(outcomes[10], Conflict)
    assert sum(1 for o in outcomes if not isinstance(o, BaseException)) == 20
    assert len((await store.list_messages(a.id, limit=100)).items) == 21


async def test_group_commit_shares_transactions(store: SqlStore) -> None:
    a = await account(store)
    before = store.committer.transactions
    await asyncio.gather(*(queued(store, a.id) for _ in range(200)))
    used = store.committer.transactions - before
    assert 1 <= used < 100


async def test_cursor_pagination_walks_everything_newest_first(store: SqlStore) -> None:
    a = await account(store)
    made = [await queued(store, a.id, at=later(i // 2)) for i in range(7)]  # pairs share a time
    seen: list[str] = []
    cursor = None
    while True:
        page = await store.list_messages(a.id, limit=3, cursor=cursor)
        seen += [m.id for m in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    expected = sorted(made, key=lambda m: (m.created_at, m.id), reverse=True)
    assert seen == [m.id for m in expected]
    with pytest.raises(ValidationError) as caught:
        await store.list_messages(a.id, cursor="not-a-cursor")
    assert caught.value.field == "cursor"


async def test_filters(store: SqlStore) -> None:
    a = await account(store)
    m1 = await queued(store, a.id, to_addr="+15550000100", at=later(1))
    m2 = await queued(store, a.id, to_addr="+15550000200", from_addr="ACME", at=later(2))
    m3 = await queued(store, a.id, to_addr="+15550000100", at=later(3))
    inbound = await store.insert_message(
        new_message(a.id, direction=Direction.INBOUND, status=MessageStatus.RECEIVED),
        now=later(4),
    )
    await store.claim_batch(1, now=later(10), worker_id="w")  # m1 becomes sending

    async def ids(f: MessageFilter) -> list[str]:
        return [m.id for m in (await store.list_messages(a.id, filter=f)).items]

    assert await ids(MessageFilter(to_addr="+15550000100")) == [m3.id, m1.id]
    assert await ids(MessageFilter(from_addr="ACME")) == [m2.id]
    assert await ids(MessageFilter(statuses=frozenset({MessageStatus.SENDING}))) == [m1.id]
    assert await ids(
        MessageFilter(statuses=frozenset({MessageStatus.QUEUED, MessageStatus.RECEIVED}))
    ) == [inbound.id, m3.id, m2.id]
    assert await ids(MessageFilter(direction=Direction.INBOUND)) == [inbound.id]
    assert await ids(MessageFilter(created_after=later(2), created_before=later(4))) == [
        m3.id,
        m2.id,
    ]
    assert await ids(MessageFilter(to_addr="+15550000100", created_before=later(3))) == [m1.id]


async def test_cancel(store: SqlStore) -> None:
    a = await account(store)
    scheduled = await queued(store, a.id, status=MessageStatus.SCHEDULED, send_at=later(60))
    canceled = await store.cancel_message(a.id, scheduled.id, now=later(1))
    assert canceled.status is MessageStatus.CANCELED
    assert canceled.done_at == later(1)
    assert [e.status for e in await store.list_events(a.id, scheduled.id)] == [
        MessageStatus.SCHEDULED,
        MessageStatus.CANCELED,
    ]
    # a canceled scheduled message is never claimed, even when its time comes
    assert await store.claim_batch(10, now=later(120), worker_id="w") == []

    taken = await queued(store, a.id)
    await store.claim_batch(10, now=later(2), worker_id="w")
    with pytest.raises(Conflict):
        await store.cancel_message(a.id, taken.id, now=later(3))
    with pytest.raises(Conflict):
        await store.cancel_message(a.id, scheduled.id, now=later(3))


async def test_redact(store: SqlStore) -> None:
    a = await account(store)
    message = await queued(store, a.id)
    with pytest.raises(Conflict):
        await store.redact_message(a.id, message.id, now=later(1))
    await store.claim_batch(1, now=later(1), worker_id="w")
    await store.record_submit_results(
        [
            Submitted(
                message_id=message.id,
                connector="c",
                parts=(SubmittedPart(part_number=1, smsc_message_id="r1"),),
            )
        ],
        now=later(2),
    )
    redacted = await store.redact_message(a.id, message.id, now=later(3))
    assert redacted.body is None
    assert redacted.redacted_at == later(3)
    assert redacted.status is MessageStatus.SENT
    again = await store.redact_message(a.id, message.id, now=later(4))
    assert again.redacted_at == later(3)
