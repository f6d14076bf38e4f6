"""``marconi send``: queue a message, as ``POST /v1/messages`` does; the server sends it."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from marconi.cli.local import add_common_options, dump_json, run_with_services
from marconi.cli.messages import message_dict
from marconi.services import SendRequest, Services
from marconi.services.message import parse_time


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "send",
        help="queue an SMS (the running server sends it)",
        description=(
            "Validate, encode and queue a message in the database; `marconi serve` sends it. "
            "The body is read from standard input when --body is '-'."
        ),
    )
    parser.add_argument("--to", required=True, help="destination, like +14155550100")
    parser.add_argument(
        "--from", dest="from_", help="one of the account's senders (default: its first)"
    )
    parser.add_argument("--body", required=True, help="the text, or '-' for standard input")
    parser.add_argument("--send-at", help="schedule it: RFC 3339, like 2026-05-01T09:30:00Z")
    parser.add_argument("--validity", type=int, help="seconds before an unsent message expires")
    parser.add_argument("--encoding", default="auto", choices=["auto", "gsm7", "ucs2"])
    parser.add_argument("--smart", action="store_true", help="replace typographic look-alikes")
    parser.add_argument("--status-callback", help="URL told about every status change")
    parser.add_argument("--idempotency-key", help="send once, however often this is retried")
    add_common_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    body = args.body
    if body == "-":
        body = sys.stdin.read()
        if body.endswith("\n"):
            body = body[:-1]

    async def command(services: Services, account_id: str) -> int:
        message = await services.messages.send(
            account_id,
            SendRequest(
                to=args.to,
                from_=args.from_,
                body=body,
                send_at=None if args.send_at is None else parse_time(args.send_at, field="send_at"),
                validity_period=args.validity,
                encoding=args.encoding,
                smart_encoding=args.smart,
                status_callback=args.status_callback,
                idempotency_key=args.idempotency_key,
            ),
        )
        if args.json:
            dump_json(message_dict(message))
        else:
            plural = "s" if message.segments != 1 else ""
            print(
                f"{message.status.value} {message.id}: {message.from_addr} → {message.to_addr}, "
                f"{message.encoding}, {message.segments} segment{plural}"
            )
        return 0

    return run_with_services(args, command)
