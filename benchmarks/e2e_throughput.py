"""End to end: messages a second from ``POST /v1/messages`` to the SMSC and back, with every
delivery receipt correlated and every status callback delivered; accept-to-delivered latency; and
the server's memory with a million messages queued.

    python benchmarks/e2e_throughput.py                        # SQLite, 64 clients, 15 s
    python benchmarks/e2e_throughput.py --database postgresql  # a fresh PostgreSQL database
    MARCONI_DATABASE_URL=postgresql://postgres@127.0.0.1/test python benchmarks/e2e_throughput.py
    python benchmarks/e2e_throughput.py --queue-only           # RSS while 1,000,000 queue up

``marconi serve`` runs as a subprocess (uvloop, httptools, the rate limit off) with the built-in
simulator as its connector (receipts at once). ``wrk`` offers load for ``--seconds`` with a
``status_callback`` on every message; a receiver in a second process counts the callbacks. The
end-to-end rate is the messages accepted divided by the time from the first request to the last
``delivered`` callback. Latency is each message's ``done_at - created_at`` in the database
(accepted → delivered receipt stored).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path

# The PostgreSQL server to make a fresh database on: MARCONI_DATABASE_URL's when it names one.
_ENV_URL = os.environ.get("MARCONI_DATABASE_URL", "")
PG_ADMIN = (
    _ENV_URL
    if _ENV_URL.startswith("postgres")
    else os.environ.get("MARCONI_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
)

WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = '{"to": "+14155550100", "body": "Your code is 123456"%s}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Basic %s"
"""

CONFIG = """
[[connectors]]
name = "simulator"
type = "simulator"
window = {window}
"""

DEAD_CONFIG = """
[[connectors]]
name = "down"
type = "smpp"
host = "127.0.0.1"
port = {port}
system_id = "marconi"
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- the callback receiver (its own process) ------------------------------------------------------


class _Receiver(asyncio.Protocol):
    def __init__(
        self, delivered: Synchronized[int], total: Synchronized[int], last: Synchronized[float]
    ) -> None:
        self.buffer = b""
        self.delivered = delivered
        self.total = total
        self.last = last
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].lower()
            match = re.search(rb"content-length:\s*(\d+)", head)
            length = int(match.group(1)) if match else 0
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            self.total.value += 1
            if b'"status":"delivered"' in body:
                self.delivered.value += 1
                self.last.value = time.time()
            assert self.transport is not None
            self.transport.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")


def receiver_main(
    port: int, delivered: Synchronized[int], total: Synchronized[int], last: Synchronized[float]
) -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _Receiver(delivered, total, last), "127.0.0.1", port, backlog=1024
        )
        async with server:
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


# -- the server ------------------------------------------------------------------------------


@contextlib.contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'data' / 'marconi.db'}"
        return
    import asyncpg

    name = "marconi_bench_" + secrets.token_hex(4)
    admin = PG_ADMIN

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f"CREATE DATABASE {name}"))
    base = admin.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@contextlib.contextmanager
def serve(url: str, tmp: Path, config: str) -> Iterator[tuple[subprocess.Popen[bytes], int, str]]:
    port = free_port()
    (tmp / "marconi.toml").write_text(config)
    env = {**os.environ, "MARCONI_DATABASE_URL": url}
    out = tmp / "serve.out"
    with out.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "marconi.cli.main",
                "serve",
                "--data-dir",
                str(tmp / "data"),
                "--port",
                str(port),
                "--config",
                str(tmp / "marconi.toml"),
                "--rate-limit",
                "0",
                "--log-level",
                "warning",
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline = time.monotonic() + 60
        while "secret:" not in out.read_text() or not _listening(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("marconi serve did not start:\n" + out.read_text())
            time.sleep(0.1)
        text = out.read_text()
        key = re.search(r"key id:\s+(\S+)", text).group(1)  # type: ignore[union-attr]
        secret = re.search(r"secret:\s+(\S+)", text).group(1)  # type: ignore[union-attr]
        yield process, port, f"{key}:{secret}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def latencies(url: str) -> list[float]:
    """Seconds from accepted to delivered, per delivered message."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        with contextlib.closing(sqlite3.connect(path)) as conn:
            rows = conn.execute(
                "SELECT done_at - created_at FROM messages WHERE status = 'delivered'"
            ).fetchall()
        return [r[0] / 1e6 for r in rows]
    import asyncpg

    async def fetch() -> list[float]:
        conn = await asyncpg.connect(url)
        try:
            rows = await conn.fetch(
                "SELECT extract(epoch FROM done_at - created_at) AS s FROM messages "
                "WHERE status = 'delivered'"
            )
        finally:
            await conn.close()
        return [float(r["s"]) for r in rows]

    return asyncio.run(fetch())


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def run_e2e(args: argparse.Namespace, tmp: Path) -> None:
    import base64

    delivered = multiprocessing.Value("q", 0)
    total = multiprocessing.Value("q", 0)
    last = multiprocessing.Value("d", 0.0)
    hook_port = free_port()
    receiver = multiprocessing.Process(
        target=receiver_main, args=(hook_port, delivered, total, last), daemon=True
    )
    receiver.start()
    with (
        database(args.database, tmp) as url,
        serve(url, tmp, CONFIG.format(window=args.window)) as (process, port, credentials),
    ):
        auth = base64.b64encode(credentials.encode()).decode()
        script = tmp / "post.lua"
        callback = (
            "" if args.no_callbacks else f', "status_callback": "http://127.0.0.1:{hook_port}/s"'
        )
        script.write_text(WRK_SCRIPT % (callback, auth))
        started = time.time()
        rss_peak = 0.0
        wrk = subprocess.Popen(
            [
                "wrk",
                "-t1",
                f"-c{args.clients}",
                f"-d{args.seconds}s",
                "--latency",
                "-s",
                str(script),
                f"http://127.0.0.1:{port}/v1/messages",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        while wrk.poll() is None:
            rss_peak = max(rss_peak, rss_mb(process.pid))
            time.sleep(0.2)
        out = wrk.stdout.read() if wrk.stdout else ""
        requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        accepted = requests - (int(bad.group(1)) if bad else 0)
        accept_seconds = time.time() - started
        deadline = time.time() + 300
        if args.no_callbacks:
            while len(latencies(url)) < accepted and time.time() < deadline:
                rss_peak = max(rss_peak, rss_mb(process.pid))
                time.sleep(0.1)
            last.value = time.time()
            delivered.value = len(latencies(url))
        while delivered.value < accepted and time.time() < deadline:
            rss_peak = max(rss_peak, rss_mb(process.pid))
            time.sleep(0.1)
        elapsed = last.value - started
        lat = latencies(url)
    receiver.terminate()
    print(f"database            {args.database}")
    offered = accepted / accept_seconds
    print(f"accepted            {accepted} in {accept_seconds:.1f} s ({offered:.0f}/s offered)")
    what = "delivered" if args.no_callbacks else "delivered callbacks"
    print(f"{what:<19} {delivered.value} (callbacks received: {total.value})")
    rate = delivered.value / elapsed
    print(f"end to end          {rate:.0f} messages/s (API → SMSC → receipt → callback)")
    p50, p99 = pct(lat, 0.5) * 1000, pct(lat, 0.99) * 1000
    print(f"accept → delivered  p50 {p50:.0f} ms, p99 {p99:.0f} ms")
    print(f"server RSS peak     {rss_peak:.0f} MB")


def run_queue_only(args: argparse.Namespace, tmp: Path) -> None:
    with (
        database(args.database, tmp) as url,
        serve(url, tmp, DEAD_CONFIG.format(port=free_port())) as (process, _port, _credentials),
    ):
        samples = [(0, rss_mb(process.pid))]
        done = 0
        step = args.messages // 4

        async def fill(count: int) -> None:
            from marconi.services.account import ADMIN_ACCOUNT_ID
            from marconi.store import open_store
            from marconi.store.model import NewMessage

            store = await open_store(url, migrate=False)
            try:
                for start in range(0, count, 5000):
                    news = [
                        NewMessage(
                            account_id=ADMIN_ACCOUNT_ID,
                            from_addr="Marconi",
                            to_addr=f"+1415{n % 10_000_000:07d}",
                            body=f"queued {n}",
                            encoding="gsm7",
                            segments=1,
                        )
                        for n in range(start, min(start + 5000, count))
                    ]
                    await store.insert_messages(news, now=datetime.now(UTC))
            finally:
                await store.aclose()

        while done < args.messages:
            asyncio.run(fill(step))
            done += step
            time.sleep(2)  # the server notices the new rows (wake-ups, queue depth)
            samples.append((done, rss_mb(process.pid)))
            print(f"{done:>9} queued: server RSS {samples[-1][1]:.0f} MB", flush=True)
    empty, full = samples[0][1], samples[-1][1]
    print(f"database {args.database}: RSS {empty:.0f} MB empty, {full:.0f} MB with {done} queued")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql"),
        default="postgresql" if _ENV_URL.startswith("postgres") else "sqlite",
        help="postgresql: a fresh database on MARCONI_DATABASE_URL's server (default when it is "
        "set), else on MARCONI_TEST_DATABASE_URL's or postgres@127.0.0.1",
    )
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--window", type=int, default=256)
    parser.add_argument("--queue-only", action="store_true")
    parser.add_argument(
        "--no-callbacks", action="store_true", help="no status_callback: receipts only"
    )
    parser.add_argument("--messages", type=int, default=1_000_000)
    args = parser.parse_args()
    # A SIGTERM (``timeout``, a CI job) unwinds like Ctrl-C: the server stops, the database goes.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix="marconi-e2e-"))
    try:
        if args.queue_only:
            run_queue_only(args, tmp)
        else:
            run_e2e(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # the database and the server's log


if __name__ == "__main__":
    main()
