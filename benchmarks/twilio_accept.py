"""How many messages a second ``POST /2010-04-01/Accounts/{Sid}/Messages.json`` accepts.

    python benchmarks/twilio_accept.py                       # SQLite, 64 connections, 10 s
    python benchmarks/twilio_accept.py --clients 16 --seconds 5

The API runs under uvicorn (uvloop, httptools) in a subprocess over a fresh SQLite file, rate
limit off; ``wrk`` (``apt-get install wrk``) sends form-encoded creates as Twilio's helper
libraries do, signed in with a sub-account's SID and auth token. Every 201 is a message
committed to the database.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

SENDER = "+14155550100"
BODY = urlencode({"To": "+14155550199", "From": SENDER, "Body": "Your code is 123456"})


async def serve(database_url: str, port: int, ready: Path) -> None:
    import uvicorn

    from marconi.api import ApiOptions, create_app
    from marconi.config import load_settings
    from marconi.services import build_services
    from marconi.store import open_store

    store = await open_store(database_url, migrate=True)
    services = build_services(store)
    admin = await services.accounts.admin_account()
    new, _ = await services.accounts.create_subaccount(admin.id, name="benchmark")
    await services.numbers.add_number(new.account.id, SENDER)
    settings = load_settings(environ={}, overrides={"database_url": database_url})
    app = create_app(settings, services, options=ApiOptions(rate_limit=None))
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        loop="none",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn has no event
        await asyncio.sleep(0.01)
    ready.write_text(f"{new.account.id}:{new.auth_token}")  # noqa: ASYNC240 - once
    try:
        await task
    finally:
        await services.aclose()
        await store.aclose()


def run_wrk(port: int, sid: str, token: str, clients: int, seconds: int) -> str:
    auth = base64.b64encode(f"{sid}:{token}".encode()).decode()
    script = (
        'wrk.method = "POST"\n'
        f"wrk.body = '{BODY}'\n"
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
        f'wrk.headers["Authorization"] = "Basic {auth}"\n'
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    url = f"http://127.0.0.1:{port}/2010-04-01/Accounts/{sid}/Messages.json"
    command = ["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--latency", "-s", f.name, url]
    try:
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(f.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument(
        "--serve", nargs=2, metavar=("DATABASE_URL", "PORT"), help=argparse.SUPPRESS
    )
    parser.add_argument("--ready-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        import uvloop

        with contextlib.suppress(KeyboardInterrupt):  # how the parent stops it
            uvloop.run(serve(args.serve[0], int(args.serve[1]), Path(args.ready_file)))
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    work = Path(tempfile.mkdtemp())
    ready = work / "ready"
    database_url = f"sqlite:///{work / 'marconi.db'}"
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", database_url, str(port), "--ready-file", str(ready)]
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.05)
        sid, token = ready.read_text().split(":", 1)
        out = run_wrk(port, sid, token, args.clients, args.seconds)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(30)
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    print(
        f"Twilio-compatible create, {args.clients} connections, {args.seconds} s: "
        f"{rate} requests/s, {requests - errors} accepted, {errors} errors, p50 {p50}, p99 {p99}"
    )


if __name__ == "__main__":
    main()
