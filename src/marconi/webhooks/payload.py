"""The JSON bodies Marconi posts: status callbacks and inbound messages.

Bodies are rendered once, when the outbox row is written, so every retry sends the same bytes.
Status callbacks are rendered by :func:`status_payload`, which the store calls inside the
transaction that moves the message (pass it to ``open_store(status_payload=…)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

import orjson

from marconi.store.model import JsonValue, Message, MessageStatus, StatusChange
from marconi.store.transition import ALLOWED

__all__ = [
    "INBOUND_EVENT_TYPE",
    "STATUS_EVENT_TYPE",
    "inbound_payload",
    "message_payload",
    "status_payload",
]

STATUS_EVENT_TYPE: Final = "message.status"
INBOUND_EVENT_TYPE: Final = "message.received"

# The status a message must have come from, where the transition table allows only one.
_ONLY_SOURCE: Final = {
    target: sources[0]
    for target in MessageStatus
    if len(sources := [s for s, targets in ALLOWED.items() if target in targets]) == 1
}


def _time(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _dumps(body: Mapping[str, JsonValue]) -> str:
    return orjson.dumps(body).decode("utf-8")


def status_payload(change: StatusChange) -> str:
    """The body of a ``message.status`` callback.

    ``previous_status`` is given where the status can only have been reached from one other
    (``delivered`` comes from ``sent``); it is null where several lead to it (``failed``).
    Order and deduplicate by ``sequence``, which grows with every change of the message.
    """
    previous = _ONLY_SOURCE.get(change.status)
    return _dumps(
        {
            "type": STATUS_EVENT_TYPE,
            "message_id": change.message_id,
            "account_id": change.account_id,
            "status": change.status.value,
            "previous_status": None if previous is None else previous.value,
            "sequence": change.sequence,
            "timestamp": _time(change.at),
            "to": change.to_addr,
            "from": change.from_addr,
            "segments": change.segments,
            "connector": change.connector,
            "error_code": change.error_code,
            "error_message": change.error_message,
            "details": dict(change.details),
        }
    )


def inbound_payload(
    *,
    message_id: str,
    account_id: str,
    from_addr: str,
    to_addr: str,
    body: str,
    encoding: str,
    segments: int,
    received_at: datetime,
    connector: str | None = None,
    number_id: str | None = None,
    keyword: Mapping[str, JsonValue] | None = None,
) -> str:
    """The body of a ``message.received`` webhook (an inbound message for one of the account's
    numbers). The message id must be chosen before the row is written, as the body names it.
    ``keyword`` describes the opt-out, opt-in or help keyword the message was, already acted on
    (see docs/optout.md); null for any other message."""
    return _dumps(
        {
            "type": INBOUND_EVENT_TYPE,
            "message_id": message_id,
            "account_id": account_id,
            "from": from_addr,
            "to": to_addr,
            "body": body,
            "encoding": encoding,
            "segments": segments,
            "received_at": _time(received_at),
            "connector": connector,
            "number_id": number_id,
            "keyword": None if keyword is None else dict(keyword),
            "sequence": 1,
        }
    )


def message_payload(message: Message, *, number_id: str | None = None) -> str:
    """:func:`inbound_payload` of a stored inbound message (for a replay or a test)."""
    return inbound_payload(
        message_id=message.id,
        account_id=message.account_id,
        from_addr=message.from_addr,
        to_addr=message.to_addr,
        body=message.body or "",
        encoding=message.encoding,
        segments=message.segments,
        received_at=message.created_at,
        connector=message.connector,
        number_id=number_id,
    )
