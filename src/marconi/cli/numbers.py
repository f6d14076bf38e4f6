"""``marconi numbers add/list/update/remove``: the senders an account owns, with their webhooks."""

from __future__ import annotations

import argparse
from typing import Any

from marconi.cli.local import add_common_options, dump_json, run_with_services, table
from marconi.errors import NotFound
from marconi.services import Services
from marconi.store.model import Number, Unset


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "numbers",
        help="manage the numbers, short codes and sender IDs an account sends from",
        description="Numbers (E.164), short codes and alphanumeric sender IDs of an account.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="add a sender")
    add.add_argument("number", metavar="NUMBER", help="+14155550100, 12345 or MyShop")
    add.add_argument("--webhook", help="URL inbound messages are sent to")
    add.add_argument("--method", default="POST", choices=["POST", "GET"], help="webhook method")
    add.add_argument("--status-callback", help="default status callback URL")
    add_common_options(add)
    add.set_defaults(func=run_add)

    listing = actions.add_parser("list", help="list the account's senders")
    add_common_options(listing)
    listing.set_defaults(func=run_list)

    update = actions.add_parser("update", help="change a sender's webhooks")
    update.add_argument("number", metavar="NUMBER_OR_ID")
    update.add_argument("--webhook", help="URL inbound messages are sent to ('' clears it)")
    update.add_argument("--method", choices=["POST", "GET"], help="webhook method")
    update.add_argument("--status-callback", help="default status callback URL ('' clears it)")
    add_common_options(update)
    update.set_defaults(func=run_update)

    remove = actions.add_parser("remove", help="remove a sender")
    remove.add_argument("number", metavar="NUMBER_OR_ID")
    add_common_options(remove)
    remove.set_defaults(func=run_remove)


def _number(number: Number) -> dict[str, object]:
    return {
        "id": number.id,
        "number": number.value,
        "kind": number.kind.value,
        "inbound_webhook_url": number.inbound_webhook_url,
        "inbound_webhook_method": number.inbound_webhook_method,
        "status_callback_url": number.status_callback_url,
        "created_at": number.created_at,
    }


def _show(number: Number, *, as_json: bool, verb: str) -> None:
    if as_json:
        dump_json(_number(number))
        return
    print(f"{verb} {number.value} ({number.kind.value}, id {number.id})")
    if number.inbound_webhook_url:
        print(f"  inbound webhook: {number.inbound_webhook_method} {number.inbound_webhook_url}")
    if number.status_callback_url:
        print(f"  status callback: {number.status_callback_url}")


async def _resolve(services: Services, account_id: str, given: str) -> Number:
    if given.startswith("PN"):
        return await services.numbers.get_number(account_id, given)
    number = await services.numbers.find_by_value(account_id, given)
    if number is None:
        raise NotFound(f"this account has no number {given!r}; see `marconi numbers list`")
    return number


def run_add(args: argparse.Namespace) -> int:
    async def command(services: Services, account_id: str) -> int:
        number = await services.numbers.add_number(
            account_id,
            args.number,
            inbound_webhook_url=args.webhook,
            inbound_webhook_method=args.method,
            status_callback_url=args.status_callback,
        )
        _show(number, as_json=args.json, verb="added")
        return 0

    return run_with_services(args, command)


def run_list(args: argparse.Namespace) -> int:
    async def command(services: Services, account_id: str) -> int:
        numbers = await services.numbers.list_numbers(account_id)
        if args.json:
            dump_json([_number(n) for n in numbers])
        elif not numbers:
            print("no numbers yet; add one with `marconi numbers add +14155550100`")
        else:
            print(
                table(
                    ["ID", "NUMBER", "KIND", "INBOUND WEBHOOK", "STATUS CALLBACK"],
                    [
                        [
                            n.id,
                            n.value,
                            n.kind.value,
                            f"{n.inbound_webhook_method} {n.inbound_webhook_url}"
                            if n.inbound_webhook_url
                            else "-",
                            n.status_callback_url or "-",
                        ]
                        for n in numbers
                    ],
                )
            )
        return 0

    return run_with_services(args, command)


def run_update(args: argparse.Namespace) -> int:
    async def command(services: Services, account_id: str) -> int:
        number = await _resolve(services, account_id, args.number)
        updated = await services.numbers.update_number(
            account_id,
            number.id,
            inbound_webhook_url=Unset.UNSET if args.webhook is None else (args.webhook or None),
            inbound_webhook_method=Unset.UNSET if args.method is None else args.method,
            status_callback_url=(
                Unset.UNSET if args.status_callback is None else (args.status_callback or None)
            ),
        )
        _show(updated, as_json=args.json, verb="updated")
        return 0

    return run_with_services(args, command)


def run_remove(args: argparse.Namespace) -> int:
    async def command(services: Services, account_id: str) -> int:
        number = await _resolve(services, account_id, args.number)
        await services.numbers.remove_number(account_id, number.id)
        if args.json:
            dump_json({"id": number.id, "removed": True})
        else:
            print(f"removed {number.value}")
        return 0

    return run_with_services(args, command)
