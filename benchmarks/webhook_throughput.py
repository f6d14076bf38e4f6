"""How many webhooks a second the worker delivers to a fast receiver on loopback.

    python benchmarks/webhook_throughput.py                        # SQLite, 20,000 webhooks
    python benchmarks/webhook_throughput.py --backend postgresql --webhooks 50000
    python benchmarks/webhook_throughput.py --concurrency 64,256 --batch 256

The outbox is filled first (status-callback-sized bodies); then a :class:`WebhookWorker` claims,
signs, posts and records them all. The receiver (``marconi.webhooks.testing.WebhookReceiver``, a
keep-alive HTTP/1.1 server answering 200) runs in a process of its own, as an application
would. Printed: webhooks/s from the worker's start until every try is recorded, the CPU time of
the worker's process per webhook, and the receiver's connection count.

PostgreSQL is the local server (``MARCONI_TEST_DATABASE_URL`` or postgres@127.0.0.1/test); the
benchmark works in a schema of its own and drops it.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

import asyncpg
import orjson

from marconi.store import open_store, run_migrations
from marconi.store.model import NewWebhook, WebhookStatus
from marconi.store.sql import SqlStore
from marconi.webhooks.testing import WebhookReceiver
from marconi.webhooks.worker import WebhookWorker

PG_URL = os.environ.get("MARCONI_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass
class Policy:
    allow_private_webhooks: bool = True


def _receiver_main(pipe: Connection) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    async def serve() -> None:
        async with WebhookReceiver(keep=False) as receiver:
            pipe.send(receiver.port)
            stop = asyncio.Event()
            asyncio.get_running_loop().add_reader(pipe.fileno(), stop.set)
            await stop.wait()
            pipe.send((receiver.count, receiver.connections))

    asyncio.run(serve())


def _payload(n: int) -> str:
    return orjson.dumps(
        {
            "type": "message.status",
            "message_id": f"SM{n:032x}",
            "account_id": "AC" + "0" * 32,
            "status": "delivered",
            "previous_status": "sent",
            "sequence": 4,
            "timestamp": "2026-01-01T12:00:00.000000Z",
            "to": "+447700900123",
            "from": "+14155550100",
            "segments": 1,
            "connector": "simulator",
            "error_code": None,
            "error_message": None,
            "details": {},
        }
    ).decode()


async def _fill(store: SqlStore, account_id: str, url: str, count: int) -> None:
    now = datetime.now(UTC)
    chunk = 2000
    for start in range(0, count, chunk):
        await asyncio.gather(
            *(
                store.enqueue_webhook(
                    NewWebhook(
                        account_id=account_id,
                        url=url,
                        event_type="message.status",
                        payload=_payload(n),
                        sequence=4,
                    ),
                    now=now,
                )
                for n in range(start, min(start + chunk, count))
            )
        )


async def _run(store: SqlStore, url: str, count: int, concurrency: int, batch: int) -> None:
    account = await store.create_account(name="bench", now=datetime.now(UTC))
    await _fill(store, account.id, url, count)
    worker = WebhookWorker(
        store=store, settings=Policy(), concurrency=concurrency, batch=batch, poll_interval=0.05
    )
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    task = asyncio.create_task(worker.run())
    while worker.stats.delivered + worker.stats.dead < count:  # noqa: ASYNC110 (a cheap poll)
        await asyncio.sleep(0.01)
    sent = time.perf_counter() - t0
    await worker.aclose()
    await task
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    left = await store.list_webhook_deliveries(account.id, status=WebhookStatus.PENDING, limit=1)
    assert not left.items, "deliveries left pending"
    print(
        f"  concurrency {concurrency:>4}  batch {batch:>4}: {count / elapsed:>7,.0f} webhooks/s "
        f"recorded ({count / sent:,.0f}/s sent), {cpu / count * 1e6:.0f} µs CPU each, "
        f"{worker.stats.dead} dead"
    )


async def _bench(args: argparse.Namespace, url: str) -> None:
    for concurrency in args.concurrency:
        if args.backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                store = await open_store(f"sqlite:///{Path(tmp) / 'bench.db'}")
                try:
                    await _run(store, url, args.webhooks, concurrency, args.batch)
                finally:
                    await store.aclose()
        else:
            schema = f"bench_{secrets.token_hex(4)}"
            await run_migrations(PG_URL, schema=schema)
            store = await open_store(PG_URL, schema=schema)
            try:
                await _run(store, url, args.webhooks, concurrency, args.batch)
            finally:
                await store.aclose()
                conn = await asyncpg.connect(PG_URL)
                await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
                await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--webhooks", type=int, default=20_000)
    parser.add_argument(
        "--concurrency", type=lambda v: [int(x) for x in v.split(",")], default=[256]
    )
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--no-uvloop", action="store_true")
    args = parser.parse_args()

    ours, theirs = multiprocessing.Pipe()
    receiver = multiprocessing.get_context("spawn").Process(
        target=_receiver_main, args=(theirs,), daemon=True
    )
    receiver.start()
    port = ours.recv()
    url = f"http://127.0.0.1:{port}/status"
    print(f"webhooks to {url} ({args.backend}, {args.webhooks:,} per run, {os.cpu_count()} CPUs)")
    if not args.no_uvloop:
        try:
            import uvloop

            uvloop.install()
        except ImportError:
            pass
    asyncio.run(_bench(args, url))
    ours.send("stop")
    count, connections = ours.recv()
    receiver.join(timeout=5)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  receiver: {count:,} requests over {connections} connections; worker RSS {rss:.0f} MB")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
