"""``marconi serve``: the whole service — API, dispatcher, carrier links, webhooks — in one process.

With no arguments: SQLite in ``./marconi-data/``, the API on 127.0.0.1:8080, the built-in SMSC
simulator as the only connector and default route. The first start creates the admin account and
prints its API key once. SIGINT or SIGTERM shuts down gracefully (exit status 0).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Iterator

import uvicorn

from marconi.api.app import ApiOptions
from marconi.config import Settings, load_settings
from marconi.errors import ConfigError, MarconiError
from marconi.runtime import Runtime
from marconi.transport.loop import install_uvloop, tune_gc

__all__ = ["add_parser", "serve"]

log = logging.getLogger("marconi.serve")

_EPILOG = """\
examples:
  marconi serve                                  SQLite in ./marconi-data, http://127.0.0.1:8080
  marconi serve --data-dir /var/lib/marconi --host 0.0.0.0 --port 8000
  marconi serve --config marconi.toml            connectors and routes from a TOML file
  MARCONI_DATABASE_URL=postgresql://marconi@db/marconi marconi serve

environment: MARCONI_DATA_DIR, MARCONI_HOST, MARCONI_PORT, MARCONI_DATABASE_URL, MARCONI_CONFIG,
MARCONI_ALLOW_PRIVATE_WEBHOOKS, MARCONI_SQLITE_SYNCHRONOUS (flags win over the environment,
which wins over the file). See docs/operations.md.
"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the SMS API with its dispatcher and carrier links",
        description=__doc__,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data-dir", help="where the SQLite database lives (./marconi-data)")
    parser.add_argument("--host", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (8080)")
    parser.add_argument("--config", help="a TOML settings file (connectors, routes, ...)")
    parser.add_argument(
        "--rate-limit",
        type=float,
        help="requests a second each API key may make (default 100; 0 turns the limit off; "
        "MARCONI_RATE_LIMIT)",
    )
    parser.add_argument(
        "--log-level", default="info", choices=("debug", "info", "warning", "error")
    )
    parser.add_argument(
        "--access-log", action="store_true", help="log every HTTP request (off: it costs speed)"
    )
    parser.set_defaults(func=run)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: ``serve`` stops it, then shuts down the rest,
    and the process exits 0 instead of dying of the re-raised signal."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _banner(runtime: Runtime, settings: Settings) -> None:
    url = f"http://{settings.host}:{settings.port}"
    out = sys.stdout
    print(f"Marconi is listening on {url}  (API docs: {url}/docs)", file=out)
    database = settings.database_url if settings.is_sqlite else "PostgreSQL"
    print(f"database: {database}", file=out)
    for name, connector in runtime.connectors.items():
        kind = type(connector).__name__.removesuffix("Connector").lower()
        print(f"connector {name} ({kind})", file=out)
    boot = runtime.bootstrap
    if boot is not None and boot.key is not None:
        key = boot.key
        print("", file=out)
        print(
            "Created the admin account and its first API key; the secret is shown only now:",
            file=out,
        )
        print(f"  key id:  {key.key.id}", file=out)
        print(f"  secret:  {key.secret}", file=out)
        print("Send a message:", file=out)
        print(
            f"  curl -u {key.key.id}:{key.secret} {url}/v1/messages \\\n"
            '       -d \'{"to": "+14155550100", "body": "Hello from Marconi"}\'',
            file=out,
        )
        print("", file=out)
    out.flush()


def api_options(rate_limit: float | None) -> ApiOptions:
    """The API's per-key rate limit: the flag, else ``MARCONI_RATE_LIMIT``, else the default."""
    if rate_limit is None:
        raw = os.environ.get("MARCONI_RATE_LIMIT", "")
        if raw:
            try:
                rate_limit = float(raw)
            except ValueError:
                raise ConfigError(f"MARCONI_RATE_LIMIT must be a number, got {raw!r}") from None
    if rate_limit is None:
        return ApiOptions()
    if rate_limit < 0:
        raise ConfigError("the rate limit must be 0 (off) or a positive number")
    if rate_limit == 0:
        return ApiOptions(rate_limit=None)
    return ApiOptions(rate_limit=rate_limit, rate_burst=max(1, int(rate_limit * 2)))


async def serve(
    settings: Settings,
    *,
    log_level: str = "info",
    access_log: bool = False,
    options: ApiOptions | None = None,
) -> int:
    runtime = await Runtime.build(settings, api_options=options)
    loop = asyncio.get_running_loop()
    config = uvicorn.Config(
        runtime.app,
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        access_log=access_log,
        lifespan="off",
        http="auto",
        loop="none",
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=10,
    )
    server = _Server(config)
    signals = 0

    def on_signal() -> None:
        nonlocal signals
        signals += 1
        server.should_exit = True
        if signals > 1:
            server.force_exit = True

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)
    try:
        await runtime.start()
        _banner(runtime, settings)
        await server.serve()
        log.info("shutting down: finishing messages in flight and unbinding")
    finally:
        await runtime.aclose()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    print("Marconi stopped.", flush=True)
    return 0


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = load_settings(
            config_file=args.config,
            overrides={"data_dir": args.data_dir, "host": args.host, "port": args.port},
        )
        options = api_options(args.rate_limit)
    except MarconiError as exc:
        print(f"marconi serve: {exc}", file=sys.stderr)
        return 2
    install_uvloop()
    tune_gc()  # in-flight messages, as in the simulator, outlive the young generations
    try:
        return asyncio.run(
            serve(settings, log_level=args.log_level, access_log=args.access_log, options=options)
        )
    except MarconiError as exc:
        print(f"marconi serve: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"marconi serve: {exc}", file=sys.stderr)
        return 1
