"""``marconi accounts create/show``: sub-accounts and their auth tokens."""

from __future__ import annotations

import argparse
from typing import Any

from marconi.cli.local import add_common_options, dump_json, run_with_services, when
from marconi.services import Services
from marconi.store.model import Account


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "accounts",
        help="create and show accounts",
        description="Sub-accounts of the admin account (or of --account).",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    create = actions.add_parser(
        "create", help="create a sub-account; its auth token and first key are printed once"
    )
    create.add_argument("--name", default="", help="a label for the account")
    add_common_options(create)
    create.set_defaults(func=run_create)

    show = actions.add_parser(
        "show", help="show an account (with its auth token) and its sub-accounts"
    )
    show.add_argument("sid", nargs="?", metavar="SID", help="default: the acting account")
    add_common_options(show)
    show.set_defaults(func=run_show)

    rotate = actions.add_parser(
        "rotate-token",
        help="give an account a new auth token (printed once); the old one stops working",
    )
    rotate.add_argument("sid", nargs="?", metavar="SID", help="default: the acting account")
    add_common_options(rotate)
    rotate.set_defaults(func=run_rotate)


def _account(account: Account) -> dict[str, object]:
    return {
        "sid": account.id,
        "parent_sid": account.parent_id,
        "name": account.name,
        "status": account.status.value,
        "created_at": account.created_at,
    }


def run_create(args: argparse.Namespace) -> int:
    async def command(services: Services, account_id: str) -> int:
        new, key = await services.accounts.create_subaccount(
            account_id, name=args.name, with_key=True
        )
        assert key is not None
        if args.json:
            dump_json(
                {
                    **_account(new.account),
                    "auth_token": new.auth_token,
                    "key": {"id": key.key.id, "secret": key.secret, "token": key.token},
                }
            )
        else:
            print(f"account sid:  {new.account.id}")
            print(f"auth token:   {new.auth_token}")
            print(f"key id:       {key.key.id}")
            print(f"key secret:   {key.secret}")
            print("The auth token and the secret are shown only now.")
        return 0

    return run_with_services(args, command)


def run_show(args: argparse.Namespace) -> int:
    async def command(services: Services, account_id: str) -> int:
        account = await services.accounts.get_account(account_id, args.sid or account_id)
        subs = await services.accounts.list_subaccounts(account.id)
        token = await services.accounts.auth_token(account_id, account.id)
        if args.json:
            dump_json(
                {
                    **_account(account),
                    "auth_token": token,
                    "subaccounts": [_account(a) for a in subs],
                }
            )
        else:
            print(f"sid:      {account.id}")
            print(f"name:     {account.name or '-'}")
            print(f"status:   {account.status.value}")
            print(f"parent:   {account.parent_id or '-'}")
            print(f"created:  {when(account.created_at)}")
            print(f"token:    {token or '- (made before tokens were kept)'}")
            for sub in subs:
                print(f"  sub-account {sub.id}  {sub.name or '-'}  {sub.status.value}")
        return 0

    return run_with_services(args, command)


def run_rotate(args: argparse.Namespace) -> int:
    async def command(services: Services, account_id: str) -> int:
        new = await services.accounts.rotate_auth_token(account_id, args.sid or account_id)
        if args.json:
            dump_json({"sid": new.account.id, "auth_token": new.auth_token})
        else:
            print(f"account sid:  {new.account.id}")
            print(f"auth token:   {new.auth_token}")
            print("The old token no longer signs in; webhooks are signed with the new one.")
        return 0

    return run_with_services(args, command)
