"""``marconi messages list/show``: an account's messages and their timelines."""

from __future__ import annotations

import argparse
from typing import Any

from marconi.cli.local import add_common_options, dump_json, run_with_services, table, when
from marconi.errors import ValidationError
from marconi.services import Services
from marconi.store.model import Message, MessageStatus


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "messages", help="list and show messages", description="An account's messages."
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="the newest messages first")
    listing.add_argument("--to", help="only to this number")
    listing.add_argument("--from", dest="from_", help="only from this sender")
    listing.add_argument("--status", help="only these statuses (comma-separated)")
    listing.add_argument("--limit", type=int, default=20, help="how many (default 20, max 500)")
    listing.add_argument("--cursor", help="next page: the cursor printed by the previous one")
    add_common_options(listing)
    listing.set_defaults(func=run_list)

    show = actions.add_parser("show", help="one message with its status timeline and parts")
    show.add_argument("message_id", metavar="MESSAGE_ID")
    add_common_options(show)
    show.set_defaults(func=run_show)


def message_dict(message: Message) -> dict[str, object]:
    return {
        "id": message.id,
        "direction": message.direction.value,
        "from": message.from_addr,
        "to": message.to_addr,
        "body": message.body,
        "status": message.status.value,
        "encoding": message.encoding,
        "segments": message.segments,
        "send_at": message.send_at,
        "expires_at": message.expires_at,
        "error_code": message.error_code,
        "error_message": message.error_message,
        "metadata": dict(message.metadata),
        "created_at": message.created_at,
        "updated_at": message.updated_at,
    }


def _statuses(value: str | None) -> frozenset[MessageStatus]:
    if not value:
        return frozenset()
    try:
        return frozenset(MessageStatus(v.strip()) for v in value.split(","))
    except ValueError:
        raise ValidationError(
            f"status must be among {', '.join(s.value for s in MessageStatus)}",
            code="invalid_value",
            field="status",
        ) from None


def _short(text: str | None, width: int = 40) -> str:
    if text is None:
        return "(redacted)"
    flat = text.replace("\n", " ")
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def run_list(args: argparse.Namespace) -> int:
    async def command(services: Services, account_id: str) -> int:
        page = await services.messages.list_messages(
            account_id,
            to=args.to,
            from_=args.from_,
            statuses=_statuses(args.status),
            limit=args.limit,
            cursor=args.cursor,
        )
        if args.json:
            dump_json(
                {"items": [message_dict(m) for m in page.items], "next_cursor": page.next_cursor}
            )
            return 0
        if not page.items:
            print("no messages")
            return 0
        print(
            table(
                ["ID", "CREATED", "FROM", "TO", "STATUS", "SEG", "BODY"],
                [
                    [
                        m.id,
                        when(m.created_at),
                        m.from_addr,
                        m.to_addr,
                        m.status.value,
                        m.segments,
                        _short(m.body),
                    ]
                    for m in page.items
                ],
            )
        )
        if page.next_cursor:
            print(f"more: marconi messages list --cursor {page.next_cursor}")
        return 0

    return run_with_services(args, command)


def run_show(args: argparse.Namespace) -> int:
    async def command(services: Services, account_id: str) -> int:
        detail = await services.messages.get_detail(account_id, args.message_id)
        m = detail.message
        if args.json:
            dump_json(
                {
                    **message_dict(m),
                    "events": [
                        {"seq": e.seq, "status": e.status.value, "at": e.at, "details": e.details}
                        for e in detail.events
                    ],
                    "parts": [
                        {
                            "part_number": p.part_number,
                            "connector": p.connector,
                            "smsc_message_id": p.smsc_message_id,
                            "status": p.status.value,
                            "receipt_stat": p.receipt_stat,
                        }
                        for p in detail.parts
                    ],
                }
            )
            return 0
        print(f"id:        {m.id}")
        print(f"status:    {m.status.value}")
        print(f"from:      {m.from_addr}")
        print(f"to:        {m.to_addr}")
        print(f"encoding:  {m.encoding}, {m.segments} segment{'s' if m.segments != 1 else ''}")
        print(f"body:      {m.body if m.body is not None else '(redacted)'}")
        if m.error_code or m.error_message:
            print(f"error:     {m.error_code or ''} {m.error_message or ''}".rstrip())
        print("timeline:")
        for event in detail.events:
            print(f"  {when(event.at)}  {event.status.value}")
        for part in detail.parts:
            print(
                f"  part {part.part_number} via {part.connector}: {part.status.value}"
                f" (smsc id {part.smsc_message_id or '-'})"
            )
        return 0

    return run_with_services(args, command)
