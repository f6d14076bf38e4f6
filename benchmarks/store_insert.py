"""How fast the store accepts messages, and how fast it carries them through a dispatcher's life.

    python benchmarks/store_insert.py                    # SQLite and PostgreSQL, 1 and 64 callers
    python benchmarks/store_insert.py --backend sqlite --messages 50000 --concurrency 1,64,100

``insert``: callers each await ``insert_message`` in a loop (every message committed before the
call returns, as the API needs). ``cycle``: the dispatcher's store work per message: claim,
record the submit result, apply the delivery receipt, claim and settle the status callbacks
(sending, sent, delivered), with ``--dispatch-batch`` messages per call.

PostgreSQL is the local server (``MARCONI_TEST_DATABASE_URL`` or postgres@127.0.0.1/test); the
benchmark works in a schema of its own and drops it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from marconi.store import open_store, run_migrations
from marconi.store.model import (
    NewMessage,
    PartStatus,
    Receipt,
    Submitted,
    SubmittedPart,
    WebhookAttemptResult,
)
from marconi.store.sql import SqlStore

PG_URL = os.environ.get("MARCONI_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


@asynccontextmanager
async def backend(name: str, synchronous: str) -> AsyncIterator[SqlStore]:
    if name == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            store = await open_store(f"sqlite:///{Path(tmp) / 'bench.db'}", synchronous=synchronous)
            try:
                yield store
            finally:
                await store.aclose()
        return
    schema = f"bench_{secrets.token_hex(4)}"
    await run_migrations(PG_URL, schema=schema)
    store = await open_store(PG_URL, schema=schema)
    try:
        yield store
    finally:
        await store.aclose()
        conn = await asyncpg.connect(PG_URL)
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()


async def analyze(store: SqlStore) -> None:
    """Fresh tables have no planner statistics until autovacuum's first pass (about a minute in);
    a benchmark that loads and runs at once would measure sequential scans."""
    await store.analyze()


def message(account_id: str, i: int, callback: str | None = None) -> NewMessage:
    return NewMessage(
        account_id=account_id,
        from_addr="MARCONI",
        to_addr=f"+4477009{i % 100000:05d}",
        body="Your code is 123456. It expires in 10 minutes.",
        encoding="gsm7",
        segments=1,
        status_callback=callback,
    )


async def bench_insert(store: SqlStore, total: int, concurrency: int) -> float:
    now = datetime.now(UTC)
    account = await store.create_account(name="bench", now=now)
    per_caller = total // concurrency

    async def caller(c: int) -> None:
        for i in range(per_caller):
            await store.insert_message(message(account.id, c * per_caller + i), now=now)

    started = time.perf_counter()
    await asyncio.gather(*(caller(c) for c in range(concurrency)))
    return per_caller * concurrency / (time.perf_counter() - started)


async def bench_cycle(store: SqlStore, total: int, batch: int) -> float:
    now = datetime.now(UTC)
    account = await store.create_account(name="cycle", now=now)
    for start in range(0, total, 1000):
        await store.insert_messages(
            [
                message(account.id, i, "http://127.0.0.1:9/cb")
                for i in range(start, min(total, start + 1000))
            ],
            now=now,
        )
    await analyze(store)
    done = 0
    started = time.perf_counter()
    lease = now + timedelta(minutes=5)
    while done < total:
        claimed = await store.claim_batch(batch, now=now, worker_id="bench")
        if not claimed:
            break
        await store.record_submit_results(
            [
                Submitted(
                    message_id=m.id,
                    connector="sim",
                    parts=(SubmittedPart(part_number=1, smsc_message_id=m.id[2:]),),
                )
                for m in claimed
            ],
            now=now,
        )
        await store.apply_receipts(
            [
                Receipt(
                    connector="sim",
                    smsc_message_id=m.id[2:],
                    status=PartStatus.DELIVERED,
                    stat="DELIVRD",
                    err="000",
                    raw=f"id:{m.id[2:]} sub:001 dlvrd:001 stat:DELIVRD err:000",
                )
                for m in claimed
            ],
            now=now,
        )
        hooks = await store.claim_webhooks(3 * len(claimed), now=now, lease_until=lease)
        await store.record_webhook_attempts(
            [WebhookAttemptResult(delivery_id=h.id, ok=True, status_code=204) for h in hooks],
            now=now,
        )
        done += len(claimed)
    return done / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--concurrency", default="1,64")
    parser.add_argument("--dispatch-batch", type=int, default=256)
    parser.add_argument("--synchronous", choices=["normal", "full"], default="normal")
    args = parser.parse_args()
    names = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for name in names:
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            total = args.messages if concurrency > 1 else min(args.messages, 5000)
            async with backend(name, args.synchronous) as store:
                rate = await bench_insert(store, total, concurrency)
                per_txn = store.committer.jobs / max(store.committer.transactions, 1)
            print(
                f"{name:10} insert  callers={concurrency:<4} {rate:9,.0f} msg/s"
                f"  ({per_txn:.1f} per transaction)"
            )
        async with backend(name, args.synchronous) as store:
            rate = await bench_cycle(store, args.messages, args.dispatch_batch)
        print(f"{name:10} cycle   batch={args.dispatch_batch:<6} {rate:9,.0f} msg/s")


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main())
