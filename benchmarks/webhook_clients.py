"""HTTP clients for webhooks, side by side: requests a second and CPU per request.

    python benchmarks/webhook_clients.py                     # httpx and aiohttp, 20,000 posts
    python benchmarks/webhook_clients.py --clients aiohttp --concurrency 32,256

Each client posts a status-callback-sized JSON body with webhook headers to a keep-alive
HTTP/1.1 receiver (``marconi.webhooks.testing.WebhookReceiver``) in its own process, with
``--concurrency`` requests in flight, reading each answer whole. httpx is used as the webhook
worker used it (several small pools, a streamed response); aiohttp through
:class:`marconi.webhooks.sender.AiohttpSender`, the worker's sender. The CPU time is the client
process's alone. This is how the webhook sender's HTTP client was chosen (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection

from marconi.webhooks.sender import AiohttpSender, Outgoing
from marconi.webhooks.testing import WebhookReceiver

BODY = (
    b'{"type":"message.status","message_id":"SM'
    + b"0" * 32
    + b'","status":"delivered"'
    + (b',"to":"+447700900123","from":"+14155550100","segments":1,"details":{}}')
)
HEADERS = {
    "content-type": "application/json",
    "webhook-id": "WH" + "1" * 32,
    "webhook-timestamp": "1767268800",
    "webhook-signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
    "webhook-sequence": "4",
    "user-agent": "Marconi/bench (webhooks)",
}

Post = Callable[[], Awaitable[int]]


def _receiver_main(pipe: Connection) -> None:
    import uvloop

    uvloop.install()

    async def serve() -> None:
        async with WebhookReceiver(keep=False) as receiver:
            pipe.send(receiver.port)
            stop = asyncio.Event()
            asyncio.get_running_loop().add_reader(pipe.fileno(), stop.set)
            await stop.wait()

    asyncio.run(serve())


async def _measure(post: Post, count: int, concurrency: int) -> tuple[float, float]:
    slots = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with slots:
            assert await post() == 200

    await asyncio.gather(*(one() for _ in range(min(count, 500))))  # warm up the pools
    cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    return time.perf_counter() - started, time.process_time() - cpu


async def run_httpx(url: str, count: int, concurrency: int) -> tuple[float, float]:
    import httpx

    shards = max(1, min(16, concurrency // 8))
    per_pool = -(-concurrency // shards)
    clients = [
        httpx.AsyncClient(
            timeout=10.0,
            limits=httpx.Limits(max_connections=per_pool, max_keepalive_connections=per_pool),
            follow_redirects=False,
            trust_env=False,
        )
        for _ in range(shards)
    ]
    turn = 0

    async def post() -> int:
        nonlocal turn
        client = clients[turn]
        turn = (turn + 1) % shards
        request = client.build_request("POST", url, content=BODY, headers=HEADERS)
        response = await client.send(request, stream=True)
        try:
            async for _chunk in response.aiter_bytes():
                pass
        finally:
            await response.aclose()
        return response.status_code

    try:
        return await _measure(post, count, concurrency)
    finally:
        for client in clients:
            await client.aclose()


async def run_aiohttp(url: str, count: int, concurrency: int) -> tuple[float, float]:
    sender = AiohttpSender(connections=concurrency)
    request = Outgoing(url=url, headers=HEADERS, body=BODY)

    async def post() -> int:
        return (await sender.post(request)).status

    try:
        return await _measure(post, count, concurrency)
    finally:
        await sender.aclose()


CLIENTS = {"httpx": run_httpx, "aiohttp": run_aiohttp}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="httpx,aiohttp")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", default="32,256")
    args = parser.parse_args()

    import uvloop

    here, there = multiprocessing.Pipe()
    receiver = multiprocessing.Process(target=_receiver_main, args=(there,), daemon=True)
    receiver.start()
    url = f"http://127.0.0.1:{here.recv()}/status"
    try:
        for name in args.clients.split(","):
            for concurrency in (int(c) for c in args.concurrency.split(",")):
                elapsed, cpu = uvloop.run(CLIENTS[name](url, args.requests, concurrency))
                print(
                    f"{name:<8} concurrency {concurrency:>4}: {args.requests / elapsed:>8,.0f} "
                    f"requests/s, {cpu / args.requests * 1e6:>5.0f} µs CPU each",
                    flush=True,
                )
    finally:
        here.send(b"stop")
        receiver.join(5)


if __name__ == "__main__":
    main()
