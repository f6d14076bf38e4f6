"""What the account, key, number and message commands share: they work directly on the configured
database (migrated first), as the admin account unless ``--account`` names another."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from marconi.config import Settings, load_settings
from marconi.errors import MarconiError, ValidationError
from marconi.services import Services, build_services
from marconi.store import open_store

__all__ = [
    "add_common_options",
    "dump_json",
    "fail",
    "run_with_services",
    "table",
    "when",
]

Command = Callable[[Services, str], Awaitable[int]]


def add_common_options(parser: argparse.ArgumentParser, *, json_output: bool = True) -> None:
    group = parser.add_argument_group("database")
    group.add_argument("--data-dir", help="where the SQLite database lives (MARCONI_DATA_DIR)")
    group.add_argument(
        "--database-url", help="sqlite:///… or postgresql://… (MARCONI_DATABASE_URL)"
    )
    group.add_argument("--config", help="a TOML settings file (MARCONI_CONFIG)")
    parser.add_argument(
        "--account", metavar="SID", help="act as this account (default: the admin account)"
    )
    if json_output:
        parser.add_argument("--json", action="store_true", help="print JSON, for scripts")


def settings_from(args: argparse.Namespace) -> Settings:
    return load_settings(
        config_file=args.config,
        overrides={"data_dir": args.data_dir, "database_url": args.database_url},
    )


def run_with_services(args: argparse.Namespace, command: Command) -> int:
    """Open the store (migrating it), run ``command`` with the services and the acting account's
    id, close everything; errors become one line on stderr and exit status 1."""
    name = f"marconi {args.command}"
    try:
        settings = settings_from(args)
    except MarconiError as exc:
        return fail(name, exc)

    async def main() -> int:
        store = await open_store(
            settings.database_url, migrate=True, synchronous=settings.sqlite_synchronous
        )
        services = build_services(store)
        try:
            if args.account:
                account_id = (await services.accounts.get_account(args.account, args.account)).id
            else:
                account_id = (await services.accounts.admin_account()).id
            return await command(services, account_id)
        finally:
            await services.aclose()
            await store.aclose()

    try:
        return asyncio.run(main())
    except MarconiError as exc:
        return fail(name, exc)


def fail(name: str, exc: MarconiError) -> int:
    if isinstance(exc, ValidationError) and exc.field:
        print(f"{name}: {exc.field}: {exc.message}", file=sys.stderr)
    else:
        print(f"{name}: {exc}", file=sys.stderr)
    return 1


def _default(value: object) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"{type(value).__name__} is not JSON")


def dump_json(data: object) -> None:
    print(json.dumps(data, default=_default, ensure_ascii=False, indent=2))


def when(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.strftime("%Y-%m-%d %H:%M:%S")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    )
