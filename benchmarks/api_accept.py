"""How many messages a second ``POST /v1/messages`` accepts, and how fast it answers.

    python benchmarks/api_accept.py                          # SQLite, 64 and 100 clients
    python benchmarks/api_accept.py --clients 64 --count 60000
    python benchmarks/api_accept.py --database-url postgresql://postgres@127.0.0.1:5432/test
    MARCONI_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python benchmarks/api_accept.py
    python benchmarks/api_accept.py --rate 3000               # p50/p99 at a fixed offered load

The API runs under uvicorn (uvloop, httptools) in a subprocess, over a fresh SQLite file in a
temporary directory (or a schema of its own in PostgreSQL, dropped afterwards), with the request
rate limit off. Clients are HTTP/1.1 keep-alive connections that each send one request at a time:
``wrk`` when it is installed (``apt-get install wrk``; it costs the server the least CPU), else a
raw asyncio client in a second process. Every 201 is a message committed to the database.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PG_URL = os.environ.get("MARCONI_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
BODY = json.dumps({"to": "+14155550100", "body": "Your code is 123456"}).encode()


# -- the server (run in a subprocess) -------------------------------------------------------------


async def prepare(database_url: str, schema: str | None, ready_file: str) -> None:
    """Migrate, make sure the admin exists, and write a fresh key for the clients."""
    from marconi.services import build_services
    from marconi.store import open_store

    store = await open_store(database_url, schema=schema, migrate=True)
    services = build_services(store)
    try:
        admin = await services.accounts.admin_account()
        key = await services.keys.create_key(admin.id, name="benchmark")
    finally:
        await services.aclose()
        await store.aclose()
    Path(ready_file).write_text(key.token)  # noqa: ASYNC240 - once, before serving


async def serve(
    database_url: str,
    schema: str | None,
    sock: socket.socket,
    *,
    freeze: bool,
    token: str,
    ready: Any,
) -> None:
    import httpx
    import uvicorn

    from marconi.api import ApiOptions, create_app
    from marconi.config import load_settings
    from marconi.services import build_services
    from marconi.store import open_store

    settings = load_settings(environ={}, overrides={"database_url": database_url})
    store = await open_store(database_url, schema=schema, migrate=False)
    services = build_services(store)
    app = create_app(settings, services, options=ApiOptions(rate_limit=None))
    if freeze:
        # One request first, so the caches it fills (phone number metadata, compiled SQL) are
        # built; then everything so far lives as long as the process: keep it out of every
        # collection, or each full collection walks it all (up to hundreds of milliseconds).
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://warm-up"
        ) as client:
            await client.post(
                "/v1/messages",
                content=BODY,
                headers={
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {token}",
                },
            )
        gc.collect()
        gc.freeze()
    config = uvicorn.Config(
        app,
        loop="none",
        http="httptools",
        ws="none",
        lifespan="off",
        access_log=False,
        log_level="warning",
        proxy_headers=False,
        server_header=False,
        date_header=False,
    )
    server = uvicorn.Server(config)
    started = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    while not server.started and not started.done():  # noqa: ASYNC110 - uvicorn has no event
        await asyncio.sleep(0.01)
    ready.put(os.getpid())
    try:
        await started
    finally:
        await services.aclose()
        await store.aclose()


def serve_process(
    database_url: str,
    schema: str | None,
    sock: socket.socket,
    freeze: bool,
    token: str,
    ready: Any,
) -> None:
    import uvloop

    uvloop.run(serve(database_url, schema, sock, freeze=freeze, token=token, ready=ready))


def serve_main(args: argparse.Namespace) -> None:
    """Several processes share one listening socket; each has its own store and event loop."""
    asyncio.run(prepare(args.database_url, args.schema, args.ready_file + ".tmp"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(4096)
    sock.set_inheritable(True)
    token = Path(args.ready_file + ".tmp").read_text()
    context = multiprocessing.get_context("fork")
    ready = context.Queue()
    workers = [
        context.Process(
            target=serve_process,
            args=(args.database_url, args.schema, sock, args.gc_freeze, token, ready),
        )
        for _ in range(args.workers)
    ]
    for worker in workers:
        worker.start()
    for _ in workers:  # every worker warmed up and serving: the clients may start
        ready.get(timeout=60)
    os.replace(args.ready_file + ".tmp", args.ready_file)

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        for worker in workers:
            worker.join()
    finally:
        for worker in workers:
            worker.terminate()


# -- drivers --------------------------------------------------------------------------------------

WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = '%s'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "%s"
"""


def run_wrk(
    port: int, auth: str, clients: int, seconds: float, rate: int | None
) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(WRK_SCRIPT % (BODY.decode(), auth))
        if rate is not None:
            # Each connection waits before each request, so all of them offer about ``rate``.
            f.write(f"function delay()\n  return math.random(0, {2000 * clients // rate})\nend\n")
        script = f.name
    command = [
        "wrk",
        "-t2",
        f"-c{clients}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "-s",
        script,
        f"http://127.0.0.1:{port}/v1/messages",
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    os.unlink(script)
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    elapsed = _wrk_seconds(re.search(r"requests in ([\d.]+\w+),", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    return {
        "accepted": requests - errors,
        "errors": errors,
        "seconds": elapsed,
        "p50": _wrk_ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1)),  # type: ignore[union-attr]
        "p99": _wrk_ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1)),  # type: ignore[union-attr]
    }


def _wrk_seconds(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"ms": 0.001, "s": 1.0, "m": 60.0}[unit]


def _wrk_ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


async def _client(
    port: int,
    request: bytes,
    count: int,
    latencies: list[float],
    statuses: dict[int, int],
    interval: float | None,
    start: float,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    due = start
    for _ in range(count):
        if interval is not None:
            due += interval
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        sent = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
        await reader.readexactly(length)
        latencies.append(time.perf_counter() - (due if interval is not None else sent))
        statuses[status] = statuses.get(status, 0) + 1
    writer.close()


def _python_driver(
    port: int, auth: str, clients: int, count: int, rate: int | None, out: multiprocessing.Queue
) -> None:
    import uvloop

    request = (
        b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Authorization: {auth}\r\nContent-Length: {len(BODY)}\r\n\r\n".encode()
        + BODY
    )

    async def main() -> None:
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        per_client = count // clients
        interval = None if rate is None else clients / rate
        start = time.perf_counter()
        await asyncio.gather(
            *(
                _client(port, request, per_client, latencies, statuses, interval, start)
                for _ in range(clients)
            )
        )
        elapsed = time.perf_counter() - start
        latencies.sort()
        out.put(
            {
                "accepted": statuses.get(201, 0),
                "errors": sum(v for k, v in statuses.items() if k != 201),
                "seconds": elapsed,
                "p50": statistics.median(latencies) * 1000,
                "p99": latencies[int(len(latencies) * 0.99)] * 1000,
            }
        )

    uvloop.run(main())


def run_python(
    port: int, auth: str, clients: int, count: int, rate: int | None
) -> dict[str, float]:
    queue: multiprocessing.Queue = multiprocessing.Queue()
    process = multiprocessing.Process(
        target=_python_driver, args=(port, auth, clients, count, rate, queue)
    )
    process.start()
    result: dict[str, float] = queue.get()
    process.join()
    return result


# -- orchestration --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    database_url: str, schema: str | None, workers: int, gc_freeze: bool
) -> tuple[subprocess.Popen[bytes], int, str]:
    port = free_port()
    ready = Path(tempfile.mkdtemp()) / "token"
    command = [
        sys.executable,
        __file__,
        "--serve",
        "--database-url",
        database_url,
        "--port",
        str(port),
        "--ready-file",
        str(ready),
        "--workers",
        str(workers),
    ]
    if not gc_freeze:
        command.append("--no-gc-freeze")
    if schema:
        command += ["--schema", schema]
    process = subprocess.Popen(command)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if ready.exists() and ready.read_text():
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    token = ready.read_text()
                    basic = base64.b64encode(token.encode()).decode()
                    return process, port, f"Basic {basic}"
            except OSError:
                pass
        if process.poll() is not None:
            raise SystemExit("the server did not start")
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start within 30 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("MARCONI_DATABASE_URL") or None,
        help="default: MARCONI_DATABASE_URL, else a temporary SQLite file",
    )
    parser.add_argument("--clients", default="64,100", help="comma-separated client counts")
    parser.add_argument(
        "--count", type=int, default=60_000, help="requests per run (python driver)"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per run (wrk)")
    parser.add_argument("--driver", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--rate",
        type=int,
        default=None,
        help="offer about this many requests/s, not as many as possible",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes sharing the port (default 1)"
    )
    parser.add_argument(
        "--no-gc-freeze",
        dest="gc_freeze",
        action="store_false",
        help="leave the objects built at start in the garbage collector's generations",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--schema", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--ready-file", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve:
        serve_main(args)
        return

    driver = args.driver
    if driver == "auto":
        driver = "wrk" if shutil.which("wrk") else "python"
    tmp = tempfile.mkdtemp()
    schema = None
    if args.database_url is None:
        database_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        backend = "sqlite"
    else:
        database_url = args.database_url
        backend = "postgresql" if database_url.startswith("postgres") else "sqlite"
        if backend == "postgresql":
            schema = f"bench_{secrets.token_hex(4)}"
    for clients in [int(c) for c in args.clients.split(",")]:
        process, port, auth = start_server(database_url, schema, args.workers, args.gc_freeze)
        try:
            if driver == "wrk":
                result = run_wrk(port, auth, clients, args.seconds, args.rate)
            else:
                result = run_python(port, auth, clients, args.count, args.rate)
        finally:
            process.terminate()
            process.wait(timeout=30)
        rate = result["accepted"] / result["seconds"]
        offered = f" offered={args.rate}/s" if args.rate else ""
        print(
            f"{backend:<10} {driver:<6} workers={args.workers} clients={clients:<4}{offered} "
            f"{rate:>8,.0f} accepted/s  "
            f"p50={result['p50']:.1f} ms  p99={result['p99']:.1f} ms  "
            f"errors={result['errors']}",
            flush=True,
        )
    if schema is not None:
        import asyncpg

        async def drop() -> None:
            conn = await asyncpg.connect(database_url)
            try:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            finally:
                await conn.close()

        asyncio.run(drop())
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
