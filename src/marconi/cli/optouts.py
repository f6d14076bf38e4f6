"""``marconi optouts add/list/remove``: destinations an account may not message, for example to
import a suppression list kept elsewhere."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from marconi.cli.local import add_common_options, dump_json, run_with_services, table, when
from marconi.services import Services
from marconi.store.optout import OptOut


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "optouts",
        help="add, list and remove opted-out destinations",
        description="Destinations an account's messages are refused for (see docs/optout.md).",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="opt destinations out")
    add.add_argument("numbers", metavar="NUMBER", nargs="*", help="+14155550100 …")
    add.add_argument(
        "--file", help="also read destinations from this file, one a line ('-': stdin)"
    )
    add.add_argument("--from", dest="from_", help="stop only this sender (default: all of them)")
    add_common_options(add)
    add.set_defaults(func=run_add)

    listing = actions.add_parser("list", help="list opted-out destinations, by number")
    listing.add_argument("--to", help="only this destination")
    add_common_options(listing)
    listing.set_defaults(func=run_list)

    remove = actions.add_parser("remove", help="let messages go to a destination again")
    remove.add_argument("number", metavar="NUMBER")
    remove.add_argument("--from", dest="from_", help="the sender it stops (default: all)")
    add_common_options(remove)
    remove.set_defaults(func=run_remove)


def _opt_out(opt_out: OptOut) -> dict[str, object]:
    return {
        "to": opt_out.to_addr,
        "from": opt_out.from_addr,
        "source": opt_out.source,
        "keyword": opt_out.keyword,
        "created_at": opt_out.created_at,
    }


def _numbers(args: argparse.Namespace) -> list[str]:
    numbers = list(args.numbers)
    if args.file:
        if args.file == "-":
            lines = sys.stdin.read().splitlines()
        else:
            with open(args.file, encoding="utf-8") as file:
                lines = file.read().splitlines()
        numbers += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return numbers


def run_add(args: argparse.Namespace) -> int:
    numbers = _numbers(args)
    if not numbers:
        print("marconi optouts add: give numbers, or --file", file=sys.stderr)
        return 2

    async def command(services: Services, account_id: str) -> int:
        added = [
            await services.optouts.add(account_id, number, from_=args.from_) for number in numbers
        ]
        if args.json:
            dump_json([_opt_out(o) for o in added])
        else:
            scope = f"from {args.from_}" if args.from_ else "from every sender"
            print(f"opted out {len(added)} destination{'s' * (len(added) != 1)} {scope}")
        return 0

    return run_with_services(args, command)


def run_list(args: argparse.Namespace) -> int:
    async def command(services: Services, account_id: str) -> int:
        items: list[OptOut] = []
        cursor = None
        while True:
            page = await services.optouts.list_opt_outs(
                account_id, to=args.to, limit=500, cursor=cursor
            )
            items += page.items
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        if args.json:
            dump_json([_opt_out(o) for o in items])
        elif not items:
            print("no opted-out destinations")
        else:
            print(
                table(
                    ["TO", "FROM", "SOURCE", "KEYWORD", "SINCE"],
                    [
                        [
                            o.to_addr,
                            o.from_addr or "(all)",
                            o.source,
                            o.keyword or "-",
                            when(o.created_at),
                        ]
                        for o in items
                    ],
                )
            )
        return 0

    return run_with_services(args, command)


def run_remove(args: argparse.Namespace) -> int:
    async def command(services: Services, account_id: str) -> int:
        await services.optouts.remove(account_id, args.number, from_=args.from_)
        if not args.json:
            print(f"removed the opt-out of {args.number}")
        return 0

    return run_with_services(args, command)
