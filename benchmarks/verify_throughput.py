"""Verify: how many verifications ``POST /v1/verify/.../verifications`` starts a second, and how
long a code waits for its submit_sm when a full ordinary backlog is queued on a throttled link.

    python benchmarks/verify_throughput.py                      # both, with the defaults below
    python benchmarks/verify_throughput.py --only starts --clients 32 --duration 10
    python benchmarks/verify_throughput.py --only latency --bulk 100000 --rate 100 --codes 20
    MARCONI_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \
        python benchmarks/verify_throughput.py --only starts

Both run ``marconi serve`` (SQLite in a temporary directory; or, when MARCONI_DATABASE_URL names
a PostgreSQL server, a fresh database made on it and dropped afterwards) and the standalone
``marconi smsc`` as processes of their own, connected over real SMPP.

starts
    ``wrk`` (``apt-get install wrk``) with ``--clients`` keep-alive connections posts
    verifications to distinct numbers (every send counts against the fraud guard, so its limits
    are raised for the run) for ``--duration`` seconds. Every 201 is a verification committed
    and its message queued in the priority class. The CPU the serve process used (user and
    system, from /proc) is divided by the starts: on a shared machine it steers better than the
    rate alone.

latency
    ``--bulk`` ordinary messages are accepted through the message service first (as the API
    would), then the service starts with the SMSC link throttled to ``--rate`` submits a second:
    the dispatcher fills its in-flight limit and the link's queue with bulk. ``--codes``
    verifications are then started one after another; each one's latency is the time from the
    POST to the code's submit_sm at the SMSC (the handset's timestamp of its first part).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx

MARCONI = str(Path(sys.executable).with_name("marconi"))
WRK_SCRIPT = r"""
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function init(args)
  n = 0
  path = args[1]
end
function request()
  n = n + 1
  local to = string.format("+1415%d%06d", id % 10, n)
  return wrk.format("POST", path, nil, '{"to":"' .. to .. '"}')
end
"""


def postgres_server() -> str | None:
    url = os.environ.get("MARCONI_DATABASE_URL", "")
    return url if url.startswith("postgres") else None


@contextlib.contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A database of its own on ``server``'s PostgreSQL, dropped afterwards."""
    name = "marconi_verify_" + secrets.token_hex(4)

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(server)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f"CREATE DATABASE {name}"))
    try:
        yield f"{server.rsplit('/', 1)[0]}/{name}"
    finally:
        asyncio.run(run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def serve_environment(database_url: str | None) -> dict[str, str]:
    """The environment for ``marconi serve``: SQLite in its data directory unless told."""
    env = {k: v for k, v in os.environ.items() if k != "MARCONI_DATABASE_URL"}
    if database_url is not None:
        env["MARCONI_DATABASE_URL"] = database_url
    return env


def cpu_seconds(pid: int) -> float:
    """User and system CPU the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Smsc:
    """``marconi smsc`` in its own process, and a line to its admin port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.admin_port = free_port()
        self.proc = subprocess.Popen(
            [
                MARCONI,
                "smsc",
                "--port",
                str(self.port),
                "--admin-port",
                str(self.admin_port),
                "--summary-interval",
                "0",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def ask(self, line: str) -> object:
        if self._reader is None:
            for _ in range(200):
                try:
                    self._reader, self._writer = await asyncio.open_connection(
                        "127.0.0.1", self.admin_port
                    )
                    break
                except OSError:
                    await asyncio.sleep(0.05)
        assert self._reader is not None
        assert self._writer is not None
        self._writer.write(line.encode() + b"\n")
        answer = (await self._reader.readline()).decode()
        if not answer.startswith("OK"):
            raise RuntimeError(f"smsc admin: {answer.strip()}")
        return json.loads(answer[2:])

    def stop(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self.proc.terminate()
        self.proc.wait(10)


class Serve:
    """``marconi serve`` over ``data``, its one connector the SMSC, throttled to ``rate``."""

    def __init__(
        self, data: Path, smsc: Smsc, rate: float | None, database_url: str | None = None
    ) -> None:
        self.port = free_port()
        config = data / "marconi.toml"
        throughput = "" if rate is None else f"throughput = {rate}\n"
        config.write_text(
            "[[connectors]]\n"
            'name = "smsc"\ntype = "smpp"\nhost = "127.0.0.1"\n'
            f'port = {smsc.port}\nsystem_id = "marconi"\npassword = "marconi"\nwindow = 64\n'
            f"{throughput}\n"
            '[[routes]]\nconnectors = ["smsc"]\n'
        )
        self.proc = subprocess.Popen(
            [
                MARCONI,
                "serve",
                "--data-dir",
                str(data),
                "--port",
                str(self.port),
                "--config",
                str(config),
                "--rate-limit",
                "0",
                "--log-level",
                "warning",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=serve_environment(database_url),
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def key(self) -> tuple[str, str]:
        """The admin key a first start prints."""
        assert self.proc.stdout is not None
        key_id = secret = ""
        for line in self.proc.stdout:
            if found := re.search(r"key id:\s+(\S+)", line):
                key_id = found.group(1)
            if found := re.search(r"secret:\s+(\S+)", line):
                secret = found.group(1)
                break
        return key_id, secret

    async def ready(self) -> None:
        async with httpx.AsyncClient() as client:
            for _ in range(600):
                try:
                    if (await client.get(f"{self.url}/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError("marconi serve did not become ready")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def make_service(client: httpx.AsyncClient, **limits: int) -> str:
    response = await client.post("/v1/verify/services", json={"name": "Bench", **limits})
    response.raise_for_status()
    service_id: str = response.json()["id"]
    return service_id


# -- starts a second ---------------------------------------------------------------------------


async def bench_starts(args: argparse.Namespace, tmp: Path, database_url: str | None) -> None:
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    smsc = Smsc()
    (tmp / "starts").mkdir()
    serve = Serve(tmp / "starts", smsc, rate=None, database_url=database_url)
    try:
        key_id, secret = serve.key()
        await serve.ready()
        async with httpx.AsyncClient(base_url=serve.url, auth=(key_id, secret)) as client:
            service = await make_service(
                client, max_sends=1000, prefix_limit=1_000_000, country_limit=10_000_000
            )
            started = await client.post(
                f"/v1/verify/services/{service}/verifications", json={"to": "+14155550000"}
            )
            assert started.status_code == 201, started.text
        script = tmp / "verify.lua"
        script.write_text(WRK_SCRIPT)
        token = "Basic " + base64.b64encode(f"{key_id}:{secret}".encode()).decode()
        cpu_before = cpu_seconds(serve.proc.pid)
        proc = await asyncio.create_subprocess_exec(
            *[
                wrk,
                f"-t{args.threads}",
                f"-c{args.clients}",
                f"-d{args.duration}s",
                "--latency",
                "-s",
                str(script),
                "-H",
                "Content-Type: application/json",
                "-H",
                f"Authorization: {token}",
                serve.url,
                "--",
                f"/v1/verify/services/{service}/verifications",
            ],
            stdout=asyncio.subprocess.PIPE,
        )
        out = (await proc.communicate())[0].decode()
        cpu = cpu_seconds(serve.proc.pid) - cpu_before
        requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        p50 = re.search(r"^\s*50%\s+(\S+)", out, re.MULTILINE)
        p99 = re.search(r"^\s*99%\s+(\S+)", out, re.MULTILINE)
        backend = "SQLite" if database_url is None else "PostgreSQL"
        print(
            f"starts ({backend}): {rate:,.0f} verifications/s with {args.clients} clients for "
            f"{args.duration} s ({requests} requests, {int(bad.group(1)) if bad else 0} not 201; "
            f"latency p50 {p50.group(1) if p50 else '?'}, p99 {p99.group(1) if p99 else '?'}; "
            f"serve's CPU {cpu / max(requests, 1) * 1e6:,.0f} µs a start)"
        )
    finally:
        serve.stop()
        smsc.stop()


# -- latency under a full ordinary queue -------------------------------------------------------


async def preload(data: Path, bulk: int) -> tuple[str, str]:
    """The admin, a key, and ``bulk`` ordinary messages queued through the message service."""
    from marconi.services import SendRequest, build_services
    from marconi.store import open_store

    store = await open_store(f"sqlite:///{data / 'marconi.db'}", migrate=True)
    services = build_services(store)
    try:
        admin = await services.accounts.admin_account()
        key = await services.keys.create_key(admin.id, name="benchmark")
        began = time.perf_counter()
        for start in range(0, bulk, 1000):
            await asyncio.gather(
                *(
                    services.messages.send(
                        admin.id, SendRequest(to=f"+1646{n:07d}", body=f"Your order {n} shipped")
                    )
                    for n in range(start, min(start + 1000, bulk))
                )
            )
        took = time.perf_counter() - began
        print(f"latency: {bulk:,} ordinary messages queued in {took:.1f} s")
    finally:
        await services.aclose()
        await store.aclose()
    return key.key.id, key.secret


async def bench_latency(args: argparse.Namespace, tmp: Path) -> None:
    data = tmp / "latency"
    data.mkdir()
    key_id, secret = await preload(data, args.bulk)
    smsc = Smsc()
    serve = Serve(data, smsc, rate=args.rate)
    try:
        await serve.ready()
        await asyncio.sleep(args.settle)  # the dispatcher fills its in-flight limit with bulk
        async with httpx.AsyncClient(base_url=serve.url, auth=(key_id, secret)) as client:
            service = await make_service(client, prefix_limit=1_000_000)
            before = await smsc.ask("stats")
            latencies: list[float] = []
            for n in range(args.codes):
                number = f"4477009{1000 + n:05d}"  # past the simulator's magic numbers
                asked = time.time()
                response = await client.post(
                    f"/v1/verify/services/{service}/verifications", json={"to": f"+{number}"}
                )
                assert response.status_code == 201, response.text
                while True:
                    messages = await smsc.ask(f"handset {number}")
                    if messages:
                        latencies.append(messages[0]["at"] - asked)  # type: ignore[index]
                        break
                    await asyncio.sleep(0.002)
                await asyncio.sleep(args.gap)
            after = await smsc.ask("stats")
            depth = (await client.get("/metrics")).text
        submits = after["submits"] - before["submits"]  # type: ignore[index]
        queued = re.search(r"marconi_queue_depth\S*\s+([\d.e+]+)", depth)
        ms = sorted(x * 1000 for x in latencies)
        print(
            f"latency: start-verification to submit_sm at the SMSC over {len(ms)} codes, link "
            f"throttled to {args.rate:g}/s: p50 {statistics.median(ms):.0f} ms, "
            f"p90 {ms[int(len(ms) * 0.9) - 1]:.0f} ms, max {ms[-1]:.0f} ms"
        )
        print(
            f"latency: meanwhile the SMSC took {submits} submits; "
            f"still queued at the end: {float(queued.group(1)) if queued else float('nan'):,.0f}"
            f" (a code behind them would wait {args.bulk / args.rate:,.0f} s)"
        )
    finally:
        serve.stop()
        smsc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["starts", "latency"])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--bulk", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--codes", type=int, default=20)
    parser.add_argument("--gap", type=float, default=0.2, help="seconds between codes")
    parser.add_argument("--settle", type=float, default=3.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="marconi-verify-") as name:
        tmp = Path(name)
        if args.only in (None, "starts"):
            server = postgres_server()
            if server is None:
                asyncio.run(bench_starts(args, tmp, None))
            else:
                with fresh_database(server) as database_url:
                    asyncio.run(bench_starts(args, tmp, database_url))
        if args.only in (None, "latency"):
            asyncio.run(bench_latency(args, tmp))


if __name__ == "__main__":
    main()
