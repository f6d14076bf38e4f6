"""Signatures in the style of the Standard Webhooks specification.

Every request carries::

    webhook-id: WH0190…              the delivery's id, the same on every retry
    webhook-timestamp: 1614265330    seconds since the epoch, when this try was signed
    webhook-signature: v1,<base64>   HMAC-SHA256 of "{id}.{timestamp}.{body}"; space-separated
                                     when several secrets are valid (during a rotation)
    webhook-sequence: 3              the message's event number: order and deduplicate by it

Secrets are ``whsec_`` followed by the base64 of 32 random bytes; the HMAC key is those bytes.
:func:`verify` is what a receiver runs; it is exported for applications and tests.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable, Mapping
from typing import Final

from marconi.errors import MarconiError

__all__ = [
    "HEADER_ID",
    "HEADER_SEQUENCE",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "SECRET_PREFIX",
    "WebhookVerificationError",
    "generate_secret",
    "secret_key",
    "sign",
    "signature_header",
    "verify",
]

HEADER_ID: Final = "webhook-id"
HEADER_TIMESTAMP: Final = "webhook-timestamp"
HEADER_SIGNATURE: Final = "webhook-signature"
HEADER_SEQUENCE: Final = "webhook-sequence"
SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - a prefix, not a secret
_SECRET_BYTES: Final = 32
_VERSION: Final = "v1"


class WebhookVerificationError(MarconiError):
    """A webhook request whose headers, timestamp or signature do not check out."""


def generate_secret() -> str:
    """A new signing secret: ``whsec_`` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key a ``whsec_…`` secret stands for."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError("the secret is not whsec_ followed by base64") from None
    if not key:
        raise WebhookVerificationError("the secret is empty")
    return key


def _as_bytes(payload: bytes | str) -> bytes:
    return payload.encode("utf-8") if isinstance(payload, str) else payload


def sign(key: bytes, *, webhook_id: str, timestamp: int, payload: bytes | str) -> str:
    """``v1,<base64 HMAC-SHA256>`` of ``{id}.{timestamp}.{payload}`` under ``key``."""
    mac = hmac.new(key, f"{webhook_id}.{timestamp}.".encode(), hashlib.sha256)
    mac.update(_as_bytes(payload))
    return f"{_VERSION},{base64.b64encode(mac.digest()).decode('ascii')}"


def signature_header(
    keys: Iterable[bytes], *, webhook_id: str, timestamp: int, payload: bytes | str
) -> str:
    """The ``webhook-signature`` value: one signature per key, space-separated."""
    body = _as_bytes(payload)
    return " ".join(sign(k, webhook_id=webhook_id, timestamp=timestamp, payload=body) for k in keys)


def verify(
    payload: bytes | str,
    headers: Mapping[str, str],
    secret: str | Iterable[str],
    *,
    tolerance: int = 300,
    now: float | None = None,
) -> None:
    """Check a received webhook; raises :class:`WebhookVerificationError` unless it is genuine.

    ``payload`` is the raw body exactly as received. ``headers`` is looked up case-insensitively.
    ``secret`` is one ``whsec_…`` secret or several (accept either while you rotate). A timestamp
    more than ``tolerance`` seconds away from ``now`` (the current time by default) is refused,
    which bounds how long a captured request can be replayed.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        webhook_id = lowered[HEADER_ID]
        stamp = lowered[HEADER_TIMESTAMP]
        signatures = lowered[HEADER_SIGNATURE]
    except KeyError as missing:
        raise WebhookVerificationError(f"the {missing.args[0]} header is missing") from None
    try:
        timestamp = int(stamp)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not a whole number") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookVerificationError(
            f"webhook-timestamp is more than {tolerance} s away from now"
        )
    secret_list = [secret] if isinstance(secret, str) else list(secret)
    body = _as_bytes(payload)
    expected = [
        sign(secret_key(s), webhook_id=webhook_id, timestamp=timestamp, payload=body)
        for s in secret_list
    ]
    matched = False
    for candidate in signatures.split():
        if not candidate.startswith(_VERSION + ","):
            continue  # other schemes (v1a: asymmetric) are not ours
        for wanted in expected:
            # compare_digest over every pair: the time taken does not say which one matched
            matched |= hmac.compare_digest(candidate.encode(), wanted.encode())
    if not matched:
        raise WebhookVerificationError("no webhook-signature matches the secret")
