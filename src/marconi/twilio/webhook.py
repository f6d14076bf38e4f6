"""Webhooks in Twilio's form: form posts with Twilio's parameter names, signed with
X-Twilio-Signature, through the same durable outbox and worker as native webhooks.

A URL configured through the compatible face (a message's ``StatusCallback``, a number's
``SmsUrl`` or ``StatusCallback``) is stored with the fragment ``#twilio``. Fragments are never
sent over HTTP, so the mark costs the receiver nothing; it tells the worker to send that
delivery as Twilio would. The outbox keeps the native JSON payload, which the worker turns into
Twilio's parameters when it sends (:class:`TwilioFormat`).

The signature is Twilio's: base64 of HMAC-SHA1, keyed by the account's auth token, over the URL
(without the fragment) followed by every parameter name and value, sorted by name.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlencode, urlsplit, urlunsplit

import orjson

from marconi.errors import MarconiError
from marconi.store.auth_token import AuthTokenRepository
from marconi.store.model import MessageStatus, WebhookDelivery
from marconi.twilio.codes import delivery_error_code
from marconi.twilio.twiml import parse_twiml
from marconi.webhooks.payload import INBOUND_EVENT_TYPE
from marconi.webhooks.reply import parse_reply

__all__ = [
    "MARK",
    "SIGNATURE_HEADER",
    "TwilioFormat",
    "compute_signature",
    "inbound_params",
    "is_marked",
    "mark",
    "status_params",
    "unmark",
]

MARK: Final = "twilio"
SIGNATURE_HEADER: Final = "X-Twilio-Signature"
API_VERSION: Final = "2010-04-01"
_FORM: Final = "application/x-www-form-urlencoded"


def mark(url: str) -> str:
    """``url`` marked for Twilio-form webhooks (any fragment it had is dropped: never sent)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(fragment=MARK))


def is_marked(url: str | None) -> bool:
    return url is not None and urlsplit(url).fragment == MARK


def unmark(url: str | None) -> str | None:
    """The URL as the receiver sees it: without the mark."""
    if url is None or not is_marked(url):
        return url
    return urlunsplit(urlsplit(url)._replace(fragment=""))


def compute_signature(token: str, url: str, params: Mapping[str, str]) -> str:
    text = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(token.encode("utf-8"), text.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _twilio_status(native: str) -> str:
    return "failed" if native == MessageStatus.EXPIRED.value else native


def status_params(payload: Mapping[str, object]) -> dict[str, str]:
    """A native ``message.status`` payload as Twilio's status callback parameters."""
    status = _twilio_status(str(payload["status"]))
    params = {
        "MessageSid": str(payload["message_id"]),
        "SmsSid": str(payload["message_id"]),
        "AccountSid": str(payload["account_id"]),
        "From": str(payload["from"]),
        "To": str(payload["to"]),
        "MessageStatus": status,
        "SmsStatus": status,
        "ApiVersion": API_VERSION,
    }
    native_error = payload.get("error_code")
    code = delivery_error_code(native_error if isinstance(native_error, str) else None)
    if code is not None:
        params["ErrorCode"] = str(code)
    return params


# Twilio's OptOutType for the keyword actions Marconi took before the webhook.
_OPT_OUT_TYPE: Final = {
    "opt_out": "STOP",
    "opt_out_all": "STOP",
    "opt_in": "START",
    "help": "HELP",
}


def inbound_params(payload: Mapping[str, object]) -> dict[str, str]:
    """A native ``message.received`` payload as Twilio's incoming-message parameters."""
    sid = str(payload["message_id"])
    params = {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "AccountSid": str(payload["account_id"]),
        "From": str(payload["from"]),
        "To": str(payload["to"]),
        "Body": str(payload["body"]),
        "NumMedia": "0",
        "NumSegments": str(payload["segments"]),
        "SmsStatus": "received",
        "ApiVersion": API_VERSION,
    }
    keyword = payload.get("keyword")
    if isinstance(keyword, Mapping) and keyword.get("action") in _OPT_OUT_TYPE:
        params["OptOutType"] = _OPT_OUT_TYPE[str(keyword["action"])]
    return params


@dataclass(slots=True)
class _Token:
    value: str
    until: float


class TwilioFormat:
    """The webhook worker's ``request_format`` for deliveries to marked URLs.

    Auth tokens are cached for ``ttl`` seconds, so a rotated token signs within that time.
    """

    def __init__(
        self,
        *,
        tokens: AuthTokenRepository,
        ttl: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tokens = tokens
        self._ttl = ttl
        self._monotonic = monotonic
        self._cache: dict[str, _Token] = {}

    def claims(self, delivery: WebhookDelivery) -> bool:
        return is_marked(delivery.url)

    async def render(self, delivery: WebhookDelivery) -> tuple[str, bytes, dict[str, str]]:
        """The URL, body and headers to post for ``delivery``."""
        url = unmark(delivery.url) or delivery.url
        payload = orjson.loads(delivery.payload)
        if delivery.event_type == INBOUND_EVENT_TYPE:
            params = inbound_params(payload)
        else:
            params = status_params(payload)
        token = await self._token(delivery.account_id)
        headers = {
            "content-type": _FORM,
            SIGNATURE_HEADER: compute_signature(token, url, params),
            "I-Twilio-Idempotency-Token": delivery.id,
        }
        return url, urlencode(params).encode("ascii"), headers

    def reply(self, content_type: str | None, body: bytes) -> str | None:
        """The reply in a TwiML answer (``<Response><Message>…``), or a native one."""
        return parse_twiml(content_type, body) or parse_reply(content_type, body)

    async def _token(self, account_id: str) -> str:
        now = self._monotonic()
        cached = self._cache.get(account_id)
        if cached is not None and cached.until > now:
            return cached.value
        token = await self._tokens.get_auth_token(account_id)
        if token is None:
            raise MarconiError(
                f"account {account_id} has no readable auth token to sign with; rotate it"
            )
        self._cache[account_id] = _Token(token, now + self._ttl)
        return token
