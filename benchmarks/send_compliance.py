"""What the opt-out check and templates cost the send path, in process (no HTTP).

    python benchmarks/send_compliance.py                  # SQLite in a temporary directory
    python benchmarks/send_compliance.py --count 20000 --concurrency 64
    python benchmarks/send_compliance.py --database-url postgresql://postgres@127.0.0.1:5432/test

``MessageService.send`` is called ``--count`` times, ``--concurrency`` at once (as API requests
arrive), in four cases: a body to an account without opt-outs (the usual case: the check is a
dictionary lookup), the same with the check switched off (the price of the check), a body to an
account with ``--optouts`` opted-out destinations (one indexed read per send), and a template
with two variables. It prints sends a second and the mean CPU per send.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import tempfile
import time
from typing import Any

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


async def _case(services: Any, account_id: str, requests: list[Any], concurrency: int) -> float:
    queue = iter(requests)

    async def worker() -> None:
        for request in queue:
            await services.messages.send(account_id, request)

    wall = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - wall


async def main(args: argparse.Namespace) -> None:
    import asyncpg  # type: ignore[import-untyped]

    from marconi.services import SendRequest, build_services
    from marconi.services.message import MessageService
    from marconi.store import open_store

    schema = None
    if args.database_url.startswith("postgresql"):
        schema = f"bench_{secrets.token_hex(4)}"
        url = args.database_url
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/marconi.db"
    store = await open_store(url, schema=schema, migrate=True)
    services = build_services(store)
    try:
        admin = (await services.accounts.admin_account()).id
        busy, _ = await services.accounts.create_subaccount(admin, name="with opt-outs")
        await services.numbers.add_number(busy.account.id, "Busy")
        for n in range(args.optouts):
            await services.optouts.add(busy.account.id, f"+4477009{n:05d}")
        await services.templates.create(
            admin, name="ship", body="Hello {{first_name}}, your order {{order}} ships today"
        )
        # Messages go to numbers nobody opted out of: every send is accepted.
        to = [f"+1415555{n % 10000:04d}" for n in range(args.count)]
        body = [SendRequest(to=t, body="Your order 1042 ships today") for t in to]
        template = [
            SendRequest(to=t, template="ship", variables={"first_name": "Ada", "order": n})
            for n, t in enumerate(to)
        ]
        unchecked = MessageService(
            messages=store,
            book=services.messages._book,
            templates=services.templates,
        )
        cases = [
            ("body, account without opt-outs", services, admin, body),
            ("body, opt-out check off", _With(services, unchecked), admin, body),
            (f"body, account with {args.optouts} opt-outs", services, busy.account.id, body),
            ("template (2 variables), no opt-outs", services, admin, template),
        ]
        await _case(services, admin, body[:500], args.concurrency)  # warm up
        print(f"{args.count} sends, {args.concurrency} at once, {url.split(':')[0]}")
        for name, svc, account, requests in cases:
            cpu = time.process_time()
            wall = await _case(svc, account, requests, args.concurrency)
            cpu = time.process_time() - cpu
            print(
                f"  {name:42s} {args.count / wall:8.0f} sends/s  "
                f"{cpu / args.count * 1e6:6.0f} µs CPU/send"
            )
    finally:
        await services.aclose()
        await store.aclose()
        if schema is not None:
            conn = await asyncpg.connect(args.database_url)
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
            await conn.close()


class _With:
    """The services with another MessageService."""

    def __init__(self, services: Any, messages: Any) -> None:
        self.messages = messages


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("MARCONI_DATABASE_URL", "sqlite"),
        help="sqlite (a temporary file) or a postgresql:// URL",
    )
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--optouts", type=int, default=10_000)
    arguments = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(arguments))
