"""``marconi migrate``: bring the database to the newest schema (Alembic migrations).

Safe to run on every deploy and from several nodes at once (PostgreSQL takes an advisory lock).
SQLite databases are also migrated by ``marconi serve`` itself at start.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from marconi.config import load_settings
from marconi.errors import MarconiError
from marconi.store import run_migrations
from marconi.store.migrate import head_revision

__all__ = ["add_parser"]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "migrate", help="bring the database schema to the newest revision", description=__doc__
    )
    parser.add_argument("--data-dir", help="where the SQLite database lives (MARCONI_DATA_DIR)")
    parser.add_argument(
        "--database-url", help="sqlite:///… or postgresql://… (MARCONI_DATABASE_URL)"
    )
    parser.add_argument("--config", help="a TOML settings file (MARCONI_CONFIG)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(
            config_file=args.config,
            overrides={"data_dir": args.data_dir, "database_url": args.database_url},
        )
        asyncio.run(run_migrations(settings.database_url))
    except MarconiError as exc:
        print(f"marconi migrate: {exc}", file=sys.stderr)
        return 1
    print(f"database is at revision {head_revision()}")
    return 0
