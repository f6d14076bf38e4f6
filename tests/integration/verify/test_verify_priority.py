"""The priority class jumps the queue: with 100,000 ordinary messages waiting, a verification
sent last is claimed first, on SQLite and PostgreSQL."""

from __future__ import annotations

import time

import sqlalchemy as sa
from tests.integration.verify.conftest import World

from marconi.store.model import MessageStatus
from marconi.store.schema import messages, to_micros
from marconi.verify import VERIFY_PRIORITY, ServiceSettings

BULK = 100_000


async def fill_queue(world: World, count: int) -> None:
    """``count`` ordinary queued messages, written in one statement (the API would take minutes)."""
    store = world.store
    now = world.clock()
    pg = store.dialect.value == "postgresql"
    at = "CAST(:at AS timestamptz)" if pg else str(to_micros(now))
    series = (
        "SELECT g AS n FROM generate_series(1, :count) AS g"
        if pg
        else "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :count) "
        "SELECT n FROM s"
    )
    meta = "'{}'::jsonb" if pg else "'{}'"
    hex_n = "lpad(to_hex(n), 32, '0')" if pg else "printf('%032x', n)"
    sql = (
        f"INSERT INTO {messages.name} (id, account_id, direction, from_addr, to_addr, body, "
        "status, encoding, segments, priority, next_attempt_at, attempts, metadata, event_seq, "
        "created_at, updated_at) "
        f"SELECT 'SM' || {hex_n}, :account, 'outbound', '+15550000001', '+447700900123', "
        f"'bulk', 'queued', 'gsm7', 1, 0, {at}, 0, {meta}, 1, {at}, {at} FROM ({series}) AS s"
    )
    async with store._write_engine.begin() as conn:
        await conn.execute(sa.text(sql), {"count": count, "account": world.account.id, "at": now})


async def test_a_verification_is_claimed_before_100000_queued_messages(world: World) -> None:
    await fill_queue(world, BULK)
    assert await world.store.queue_depth() == BULK
    a = world.account.id
    svc = await world.verify.create_service(a, ServiceSettings(name="Acme"))
    world.clock.advance(1)
    started = await world.verify.start(a, svc.id, "+447700900999")
    assert started.message.priority == VERIFY_PRIORITY
    began = time.perf_counter()
    first = await world.store.claim_batch(1, now=world.clock(), worker_id="w")
    took = time.perf_counter() - began
    assert [m.id for m in first] == [started.message.id]
    assert first[0].status is MessageStatus.SENDING
    assert took < 0.5  # a walk of the index's head, not a sort of the queue
    # The priority class alone: nothing more, though 100,000 are waiting.
    assert await world.store.claim_batch(10, now=world.clock(), worker_id="w", min_priority=1) == []
    rest = await world.store.claim_batch(3, now=world.clock(), worker_id="w")
    assert [m.priority for m in rest] == [0, 0, 0]
