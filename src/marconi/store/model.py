"""The values the store hands out and takes in: frozen records, statuses, batch inputs."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Generic, TypeAlias, TypeVar

__all__ = [
    "FINAL_STATUSES",
    "Account",
    "AccountStatus",
    "ApiKey",
    "Direction",
    "DispatchOutcome",
    "Failed",
    "JsonValue",
    "Message",
    "MessageEvent",
    "MessageFilter",
    "MessagePart",
    "MessageStatus",
    "NewMessage",
    "NewWebhook",
    "Number",
    "NumberKind",
    "Page",
    "PartStatus",
    "Receipt",
    "ReceiptOutcome",
    "RetryLater",
    "StatusChange",
    "StoredConnector",
    "Submitted",
    "SubmittedPart",
    "Unset",
    "WebhookAttempt",
    "WebhookAttemptResult",
    "WebhookDelivery",
    "WebhookStatus",
]

JsonValue: TypeAlias = "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"
T = TypeVar("T")


class Unset(enum.Enum):
    """Marks a keyword that was not passed (as opposed to one passed as ``None``)."""

    UNSET = "unset"


class MessageStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    PARTIALLY_DELIVERED = "partially_delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELED = "canceled"
    RECEIVED = "received"


FINAL_STATUSES: Final = frozenset(
    {
        MessageStatus.DELIVERED,
        MessageStatus.PARTIALLY_DELIVERED,
        MessageStatus.UNDELIVERED,
        MessageStatus.FAILED,
        MessageStatus.EXPIRED,
        MessageStatus.CANCELED,
        MessageStatus.RECEIVED,
    }
)


class Direction(enum.StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class PartStatus(enum.StrEnum):
    """Where one segment of a message stands; the last three are final."""

    SUBMITTED = "submitted"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"


class AccountStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class NumberKind(enum.StrEnum):
    E164 = "e164"
    SHORT_CODE = "short_code"
    ALPHANUMERIC = "alphanumeric"


class WebhookStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


class ReceiptOutcome(enum.StrEnum):
    """What :meth:`apply_receipts` did with one receipt."""

    APPLIED = "applied"  # matched a part and changed it
    DUPLICATE = "duplicate"  # matched a part that was already final: nothing changed
    EARLY = "early"  # no part yet: kept until the submit result arrives


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    id: str
    parent_id: str | None
    name: str
    status: AccountStatus
    auth_token_hash: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKey:
    id: str
    account_id: str
    name: str
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True, kw_only=True)
class Number:
    id: str
    account_id: str
    value: str  # E.164 with '+', a short code's digits, or an alphanumeric sender
    kind: NumberKind
    inbound_webhook_url: str | None
    inbound_webhook_method: str
    status_callback_url: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    id: str
    account_id: str
    direction: Direction
    from_addr: str
    to_addr: str
    body: str | None  # None once redacted
    status: MessageStatus
    encoding: str
    segments: int
    data_coding: int | None
    priority: int
    send_at: datetime | None
    expires_at: datetime | None
    next_attempt_at: datetime | None
    attempts: int
    connector: str | None
    error_code: str | None
    error_message: str | None
    status_callback: str | None
    metadata: Mapping[str, JsonValue]
    event_seq: int  # sequence number of the latest event
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    done_at: datetime | None  # when it reached a final status
    redacted_at: datetime | None
    claimed_by: str | None
    claimed_at: datetime | None
    price: str | None  # a decimal as text, e.g. "0.0075"
    price_unit: str | None  # ISO 4217, e.g. "USD"

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES


@dataclass(frozen=True, slots=True, kw_only=True)
class MessagePart:
    message_id: str
    part_number: int  # 1-based
    connector: str
    smsc_message_id: str | None
    status: PartStatus
    error_code: str | None
    submitted_at: datetime
    receipt_stat: str | None  # the receipt's stat field as received, e.g. DELIVRD
    receipt_err: str | None
    receipt_raw: str | None  # the whole receipt text or TLVs as received
    receipt_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageEvent:
    message_id: str
    seq: int
    status: MessageStatus
    at: datetime
    details: Mapping[str, JsonValue]


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusChange:
    """One status move of a message, as a status callback reports it."""

    message_id: str
    account_id: str
    status: MessageStatus
    sequence: int  # the event's seq: receivers order and deduplicate by it
    at: datetime
    to_addr: str
    from_addr: str
    segments: int
    connector: str | None
    error_code: str | None
    error_message: str | None
    details: Mapping[str, JsonValue]


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookDelivery:
    id: str
    account_id: str
    message_id: str | None
    url: str
    event_type: str
    payload: str  # serialized once, so every retry signs and sends the same bytes
    sequence: int
    status: WebhookStatus
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookAttempt:
    delivery_id: str
    number: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredConnector:
    """A connector configured through the API; ``settings`` as marconi.config reads them."""

    name: str
    kind: str  # "smpp" or "simulator"
    settings: Mapping[str, JsonValue]
    enabled: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None  # pass back to get the next page; None on the last one


# -- inputs ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class NewWebhook:
    """A webhook delivery to put in the outbox."""

    account_id: str
    url: str
    event_type: str
    payload: str
    message_id: str | None = None
    sequence: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class NewMessage:
    account_id: str
    from_addr: str
    to_addr: str
    body: str
    encoding: str
    segments: int
    direction: Direction = Direction.OUTBOUND
    status: MessageStatus = MessageStatus.QUEUED  # queued, scheduled (with send_at) or received
    data_coding: int | None = None
    priority: int = 0  # higher goes first
    send_at: datetime | None = None
    expires_at: datetime | None = None
    status_callback: str | None = None
    metadata: Mapping[str, JsonValue] = field(default_factory=dict)
    connector: str | None = None  # for inbound: the link it came on
    idempotency_key: str | None = None
    request_hash: str | None = None  # with idempotency_key: a replay must carry the same hash
    webhook: NewWebhook | None = None  # written in the same transaction; message_id is filled in
    price: str | None = None
    price_unit: str | None = None
    id: str | None = None  # chosen by the store when None


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageFilter:
    to_addr: str | None = None
    from_addr: str | None = None
    statuses: frozenset[MessageStatus] = frozenset()
    direction: Direction | None = None
    created_after: datetime | None = None  # inclusive
    created_before: datetime | None = None  # exclusive


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmittedPart:
    part_number: int
    smsc_message_id: str | None  # None when the SMSC refused this part
    error_code: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Submitted:
    """The SMSC answered every part: the message becomes ``sent`` (``failed`` if none was taken)."""

    message_id: str
    connector: str
    parts: tuple[SubmittedPart, ...]
    error_message: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryLater:
    """A transient failure: back to ``queued``, due at ``next_attempt_at``."""

    message_id: str
    next_attempt_at: datetime
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Failed:
    """A permanent failure, or expiry (``status=EXPIRED``) before the message could be sent."""

    message_id: str
    status: MessageStatus = MessageStatus.FAILED
    error_code: str | None = None
    error_message: str | None = None


DispatchOutcome: TypeAlias = Submitted | RetryLater | Failed


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt:
    """A delivery receipt for one part, as the connector parsed it."""

    connector: str
    smsc_message_id: str
    status: PartStatus  # SUBMITTED for intermediate receipts (ENROUTE, ACCEPTED)
    stat: str | None = None
    err: str | None = None
    raw: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookAttemptResult:
    """One try of a webhook delivery.

    ``ok`` marks it delivered. Otherwise ``next_attempt_at`` schedules the next try, and ``None``
    there moves it to the dead letters.
    """

    delivery_id: str
    ok: bool
    status_code: int | None = None
    error: str | None = None
    duration_ms: int | None = None
    next_attempt_at: datetime | None = None
