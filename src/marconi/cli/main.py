"""The ``marconi`` command: one subcommand per module, each a thin face over the library."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from marconi import __version__

# Each module defines ``add_parser(subparsers)`` and sets ``func`` on the parser it adds;
# ``func(args) -> int`` runs the command and returns the exit status. Only the module of the
# command being run is imported (``marconi smsc`` need not load the web stack and the database
# drivers); the others are listed by name and the help line given here, which a test keeps equal
# to the module's own.
COMMANDS: dict[str, tuple[str, str]] = {
    "segments": ("marconi.cli.segments", "show the encoding and number of segments a text needs"),
    "send": ("marconi.cli.send", "queue an SMS (the running server sends it)"),
    "keys": ("marconi.cli.keys", "create, list and revoke API keys"),
    "accounts": ("marconi.cli.accounts", "create and show accounts"),
    "numbers": (
        "marconi.cli.numbers",
        "manage the numbers, short codes and sender IDs an account sends from",
    ),
    "messages": ("marconi.cli.messages", "list and show messages"),
    "optouts": ("marconi.cli.optouts", "add, list and remove opted-out destinations"),
    "templates": ("marconi.cli.templates", "manage message templates and try them out"),
    "smsc": ("marconi.cli.smsc", "run the built-in SMSC simulator"),
    "serve": ("marconi.cli.serve", "run the SMS API with its dispatcher and carrier links"),
    "migrate": ("marconi.cli.migrate", "bring the database schema to the newest revision"),
}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for ``argv``: the command it names gets its full parser, the others a stub.

    With no ``argv`` every command's full parser is built.
    """
    parser = argparse.ArgumentParser(
        prog="marconi",
        description="Marconi: a self-hostable SMS API platform.",
    )
    parser.add_argument("--version", action="version", version=f"marconi {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = None if argv is None else next((a for a in argv if not a.startswith("-")), "")
    for name, (module, help_line) in COMMANDS.items():
        if chosen is None or chosen == name:
            importlib.import_module(module).add_parser(subparsers)
        else:
            subparsers.add_parser(name, help=help_line)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(arguments)
    args = parser.parse_args(arguments)
    if args.command is None:
        parser.print_help()
        return 2
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
