"""``marconi keys create/list/revoke``: API keys of an account, straight on the database."""

from __future__ import annotations

import argparse
from typing import Any

from marconi.cli.local import add_common_options, dump_json, run_with_services, table, when
from marconi.services import Services


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "keys", help="create, list and revoke API keys", description="Manage API keys."
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="create a key; its secret is printed once")
    create.add_argument("--name", default="", help="a label for the key")
    add_common_options(create)
    create.set_defaults(func=run_create)

    listing = actions.add_parser("list", help="list the account's keys (without secrets)")
    add_common_options(listing)
    listing.set_defaults(func=run_list)

    revoke = actions.add_parser("revoke", help="revoke a key")
    revoke.add_argument("key_id", metavar="KEY_ID")
    add_common_options(revoke)
    revoke.set_defaults(func=run_revoke)


def run_create(args: argparse.Namespace) -> int:
    async def command(services: Services, account_id: str) -> int:
        new = await services.keys.create_key(account_id, name=args.name)
        if args.json:
            dump_json(
                {
                    "id": new.key.id,
                    "secret": new.secret,
                    "account_sid": account_id,
                    "token": new.token,
                    "name": new.key.name,
                }
            )
        else:
            print(f"key id:   {new.key.id}")
            print(f"secret:   {new.secret}")
            print(f"account:  {account_id}")
            print("The secret is shown only now. Use it as HTTP Basic (key id, secret) or as")
            print(f"  Authorization: Bearer {new.key.id}:<secret>")
        return 0

    return run_with_services(args, command)


def run_list(args: argparse.Namespace) -> int:
    async def command(services: Services, account_id: str) -> int:
        keys = await services.keys.list_keys(account_id)
        if args.json:
            dump_json(
                [
                    {
                        "id": k.id,
                        "name": k.name,
                        "account_sid": k.account_id,
                        "created_at": k.created_at,
                        "last_used_at": k.last_used_at,
                        "revoked_at": k.revoked_at,
                    }
                    for k in keys
                ]
            )
        elif not keys:
            print("no keys yet; create one with `marconi keys create`")
        else:
            print(
                table(
                    ["ID", "NAME", "CREATED", "LAST USED", "STATUS"],
                    [
                        [
                            k.id,
                            k.name or "-",
                            when(k.created_at),
                            when(k.last_used_at),
                            "active" if k.active else f"revoked {when(k.revoked_at)}",
                        ]
                        for k in keys
                    ],
                )
            )
        return 0

    return run_with_services(args, command)


def run_revoke(args: argparse.Namespace) -> int:
    async def command(services: Services, account_id: str) -> int:
        key = await services.keys.revoke_key(account_id, args.key_id)
        if args.json:
            dump_json({"id": key.id, "revoked_at": key.revoked_at})
        else:
            print(f"revoked {key.id} ({key.name or 'unnamed'})")
        return 0

    return run_with_services(args, command)
