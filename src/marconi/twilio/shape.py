"""Marconi's records in the JSON shapes of Twilio's 2010-04-01 API.

Twilio writes counts as strings (``"num_segments": "1"``), dates in RFC 2822 with ``+0000``, and
prices as negative decimals (what the account was charged). Message statuses keep their names,
except ``expired``, which Twilio reports as ``failed`` with error 30036.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Final

from marconi.store.model import Account, ApiKey, Direction, Message, MessageStatus, Number
from marconi.twilio.codes import delivery_error_code
from marconi.twilio.webhook import unmark

__all__ = [
    "API_VERSION",
    "account_json",
    "key_json",
    "message_json",
    "number_json",
    "rfc2822",
    "twilio_status",
]

API_VERSION: Final = "2010-04-01"
PREFIX: Final = f"/{API_VERSION}"
_STATUS: Final = {MessageStatus.EXPIRED: "failed"}


def rfc2822(at: datetime | None) -> str | None:
    return None if at is None else format_datetime(at.astimezone(UTC))


def twilio_status(status: MessageStatus) -> str:
    return _STATUS.get(status, status.value)


def _price(message: Message) -> str | None:
    if message.price is None:
        return None
    return message.price if message.price.startswith("-") else f"-{message.price}"


def message_uri(account_sid: str, message_sid: str) -> str:
    return f"{PREFIX}/Accounts/{account_sid}/Messages/{message_sid}.json"


def message_json(message: Message) -> dict[str, object]:
    uri = message_uri(message.account_id, message.id)
    base = uri.removesuffix(".json")
    return {
        "sid": message.id,
        "account_sid": message.account_id,
        "messaging_service_sid": message.metadata.get("messaging_service_sid"),
        "from": message.from_addr,
        "to": message.to_addr,
        "body": message.body or "",
        "status": twilio_status(message.status),
        "direction": "inbound" if message.direction is Direction.INBOUND else "outbound-api",
        "num_segments": str(message.segments),
        "num_media": "0",
        "price": _price(message),
        "price_unit": message.price_unit or "USD",
        "error_code": delivery_error_code(message.error_code),
        "error_message": message.error_message,
        "date_created": rfc2822(message.created_at),
        "date_updated": rfc2822(message.updated_at),
        "date_sent": rfc2822(message.sent_at),
        "api_version": API_VERSION,
        "uri": uri,
        "subresource_uris": {"media": f"{base}/Media.json", "feedback": f"{base}/Feedback.json"},
    }


def account_json(account: Account, *, auth_token: str | None) -> dict[str, object]:
    uri = f"{PREFIX}/Accounts/{account.id}.json"
    base = uri.removesuffix(".json")
    return {
        "sid": account.id,
        "owner_account_sid": account.parent_id or account.id,
        "friendly_name": account.name,
        "status": account.status.value,
        "type": "Full",
        "auth_token": auth_token,
        "date_created": rfc2822(account.created_at),
        "date_updated": rfc2822(account.updated_at),
        "uri": uri,
        "subresource_uris": {
            "messages": f"{base}/Messages.json",
            "incoming_phone_numbers": f"{base}/IncomingPhoneNumbers.json",
            "keys": f"{base}/Keys.json",
        },
    }


def key_json(key: ApiKey, *, secret: str | None = None) -> dict[str, object]:
    data: dict[str, object] = {
        "sid": key.id,
        "friendly_name": key.name,
        "date_created": rfc2822(key.created_at),
        "date_updated": rfc2822(key.revoked_at or key.created_at),
    }
    if secret is not None:
        data["secret"] = secret
    return data


def number_json(number: Number) -> dict[str, object]:
    return {
        "sid": number.id,
        "account_sid": number.account_id,
        "phone_number": number.value,
        "friendly_name": number.value,
        "sms_url": unmark(number.inbound_webhook_url) or "",
        "sms_method": number.inbound_webhook_method,
        "status_callback": unmark(number.status_callback_url) or "",
        "capabilities": {"sms": True, "mms": False, "voice": False, "fax": False},
        "date_created": rfc2822(number.created_at),
        "date_updated": rfc2822(number.updated_at),
        "api_version": API_VERSION,
        "uri": f"{PREFIX}/Accounts/{number.account_id}/IncomingPhoneNumbers/{number.id}.json",
    }
