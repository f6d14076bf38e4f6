"""The ``marconi`` command: one subcommand per module, each a thin face over the library."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from marconi import __version__

# Each module defines ``add_parser(subparsers)`` and sets ``func`` on the parser it adds;
# ``func(args) -> int`` runs the command and returns the exit status.
COMMAND_MODULES: tuple[str, ...] = (
    "marconi.cli.segments",
    "marconi.cli.send",
    "marconi.cli.keys",
    "marconi.cli.accounts",
    "marconi.cli.numbers",
    "marconi.cli.messages",
    "marconi.cli.smsc",
    "marconi.cli.serve",
    "marconi.cli.migrate",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="marconi",
        description="Marconi: a self-hostable SMS API platform.",
    )
    parser.add_argument("--version", action="version", version=f"marconi {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
