"""Sending, reading, canceling and redacting messages, and previewing what a text costs.

Accepting a message is validating it, encoding it (to know its segments) and storing it as
``queued`` (or ``scheduled``); the dispatcher sends it afterwards. Nothing here waits for a
carrier.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from marconi.errors import Conflict, EncodingError, ValidationError
from marconi.services.address import normalize_phone, parse_sender
from marconi.services.clock import Clock, utc_now
from marconi.services.number import SenderBook, check_url
from marconi.store.model import (
    Direction,
    JsonValue,
    Message,
    MessageEvent,
    MessageFilter,
    MessagePart,
    MessageStatus,
    NewMessage,
    Page,
)
from marconi.store.protocols import MessageRepository
from marconi.text import TextAnalysis, analyze, smarten

if TYPE_CHECKING:
    from marconi.services.optout import OptOutService
    from marconi.services.template import TemplateService

__all__ = [
    "BODY_MAX",
    "IDEMPOTENCY_KEY_MAX",
    "METADATA_MAX_BYTES",
    "SCHEDULE_MAX",
    "VALIDITY_MAX",
    "MessageConflict",
    "MessageDetail",
    "MessageService",
    "SendRequest",
    "parse_time",
]

BODY_MAX: Final = 1600
METADATA_MAX_BYTES: Final = 2048
VALIDITY_MAX: Final = 14 * 24 * 3600  # seconds
SCHEDULE_MAX: Final = timedelta(days=35)
IDEMPOTENCY_KEY_MAX: Final = 255
PAGE_MAX: Final = 500
ENCODINGS: Final = ("auto", "gsm7", "ucs2")


class MessageConflict(Conflict):
    """A request the message's state or an earlier request refuses; ``code`` says which."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True, kw_only=True)
class SendRequest:
    to: str
    body: str = ""  # or a template with its variables:
    template: str | None = None
    template_version: int | None = None  # None: the newest
    locale: str | None = None  # None: the template's default locale
    variables: Mapping[str, JsonValue] | None = None
    opt_out_exempt: bool = False  # the answer to an opt-out keyword goes out all the same
    from_: str | None = None  # None: the account's default (oldest) sender
    status_callback: str | None = None  # None: the sender's default status callback, if any
    validity_period: int | None = None  # seconds
    send_at: datetime | None = None
    encoding: str = "auto"
    smart_encoding: bool = False
    metadata: Mapping[str, JsonValue] = field(default_factory=dict)
    idempotency_key: str | None = None
    priority: int = 0  # higher is claimed first; verification codes use the priority class
    id: str | None = None  # the message's id when the caller chose it (Verify stores it first)


@dataclass(frozen=True, slots=True)
class MessageDetail:
    message: Message
    events: list[MessageEvent]
    parts: list[MessagePart]


def parse_time(value: str, *, field: str) -> datetime:
    """An RFC 3339 date-time with its offset (``2026-05-01T09:30:00Z``)."""
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "zZ" else text)
    except ValueError:
        parsed = None
    if parsed is None or "T" not in text.upper() or parsed.tzinfo is None:
        raise ValidationError(
            f"{field} must be an RFC 3339 date-time with an offset, like 2026-05-01T09:30:00Z",
            code="invalid_datetime",
            field=field,
        )
    return parsed


def _check_body(body: str) -> None:
    if not body:
        raise ValidationError("body must not be empty", code="missing_field", field="body")
    if len(body) > BODY_MAX:
        raise ValidationError(
            f"body has {len(body)} characters; the limit is {BODY_MAX}",
            code="body_too_long",
            field="body",
        )


def _check_encoding(encoding: str) -> None:
    if encoding not in ENCODINGS:
        raise ValidationError(
            f"encoding must be one of {', '.join(ENCODINGS)}, got {encoding!r}",
            code="invalid_value",
            field="encoding",
        )


def _analyze(body: str, encoding: str, smart_encoding: bool) -> TextAnalysis:
    _check_body(body)
    _check_encoding(encoding)
    try:
        return analyze(body, encoding=encoding, smart_encoding=smart_encoding)
    except EncodingError as exc:
        raise ValidationError(
            f"body cannot be sent as {encoding}: {exc}; use encoding auto or ucs2",
            code="body_not_encodable",
            field="body",
        ) from None


def _metadata_size(metadata: Mapping[str, JsonValue]) -> int:
    return len(json.dumps(metadata, ensure_ascii=False, separators=(",", ":")).encode())


def _request_hash(request: SendRequest, from_addr: str, to_addr: str) -> str:
    canonical = json.dumps(
        [
            to_addr,
            from_addr,
            request.body,
            request.status_callback,
            request.validity_period,
            request.send_at.isoformat() if request.send_at else None,
            request.encoding,
            request.smart_encoding,
            request.metadata,
        ],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def as_accepted(message: Message) -> Message:
    """A message as it was when it was accepted, so a retried request with the same
    Idempotency-Key gets the same answer as the first (a redacted body stays erased)."""
    initial = MessageStatus.SCHEDULED if message.send_at is not None else MessageStatus.QUEUED
    return dataclasses.replace(
        message,
        status=initial,
        updated_at=message.created_at,
        next_attempt_at=message.send_at or message.created_at,
        attempts=0,
        connector=None,
        error_code=None,
        error_message=None,
        event_seq=1,
        sent_at=None,
        done_at=None,
        claimed_by=None,
        claimed_at=None,
    )


class MessageService:
    def __init__(
        self,
        *,
        messages: MessageRepository,
        book: SenderBook,
        clock: Clock = utc_now,
        optouts: OptOutService | None = None,
        templates: TemplateService | None = None,
    ) -> None:
        self._messages = messages
        self._book = book
        self._clock = clock
        self._optouts = optouts
        self._templates = templates

    async def send(self, account_id: str, request: SendRequest) -> Message:
        """Validate, encode and store a message to send; returns it ``queued`` or ``scheduled``.

        With an ``idempotency_key`` the account used before, returns that first message when the
        request is the same and raises MessageConflict ``idempotency_key_reused`` when it is not.
        """
        now = self._clock()
        new = await self.prepare(account_id, request, now=now)
        key = request.idempotency_key
        try:
            message = await self._messages.insert_message(new, now=now)
        except MessageConflict:
            raise
        except Conflict:
            raise MessageConflict(
                f"Idempotency-Key {key!r} was already used with a different request; use a new "
                "key for a new message",
                code="idempotency_key_reused",
            ) from None
        if message.created_at != now:
            return as_accepted(message)
        return message

    async def prepare(self, account_id: str, request: SendRequest, *, now: datetime) -> NewMessage:
        """The message :meth:`send` would store at ``now``, checked and encoded (Verify stores
        a code's message in the transaction of its verification)."""
        to_addr = normalize_phone(request.to, field="to")
        if (
            request.template is not None
            or request.variables is not None
            or request.template_version is not None
            or request.locale is not None
        ):
            request = await self._from_template(account_id, request)
        analysis = _analyze(request.body, request.encoding, request.smart_encoding)
        owned, default = await self._book.senders(account_id)
        if request.from_ is None:
            if default is None:
                raise ValidationError(
                    "from is required: this account has no numbers yet; add one with "
                    "POST /v1/numbers (or `marconi numbers add`)",
                    code="missing_field",
                    field="from",
                )
            from_addr = default
        else:
            from_addr = parse_sender(request.from_, field="from").value
            if from_addr not in owned:
                raise ValidationError(
                    f"from {from_addr!r} is not one of this account's numbers; add it with "
                    "POST /v1/numbers first",
                    code="sender_not_owned",
                    field="from",
                )
        status_callback = (
            owned[from_addr]
            if request.status_callback is None
            else check_url(request.status_callback, field="status_callback")
        )
        status = MessageStatus.QUEUED
        start = now
        if request.send_at is not None:
            if request.send_at.tzinfo is None:
                raise ValidationError(
                    "send_at needs a time zone offset", code="invalid_datetime", field="send_at"
                )
            if request.send_at <= now:
                raise ValidationError(
                    "send_at must be in the future", code="send_at_in_past", field="send_at"
                )
            if request.send_at > now + SCHEDULE_MAX:
                raise ValidationError(
                    f"send_at must be within {SCHEDULE_MAX.days} days from now",
                    code="send_at_too_far",
                    field="send_at",
                )
            status = MessageStatus.SCHEDULED
            start = request.send_at
        expires_at = None
        if request.validity_period is not None:
            if not 1 <= request.validity_period <= VALIDITY_MAX:
                raise ValidationError(
                    f"validity_period must be between 1 and {VALIDITY_MAX} seconds",
                    code="invalid_value",
                    field="validity_period",
                )
            expires_at = start + timedelta(seconds=request.validity_period)
        if request.metadata and _metadata_size(request.metadata) > METADATA_MAX_BYTES:
            raise ValidationError(
                f"metadata is larger than {METADATA_MAX_BYTES} bytes of JSON",
                code="metadata_too_large",
                field="metadata",
            )
        request_hash = None
        key = request.idempotency_key
        if key is not None:
            if not key or len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable():
                raise ValidationError(
                    f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} printable characters",
                    code="invalid_idempotency_key",
                    field="Idempotency-Key",
                )
            request_hash = _request_hash(request, from_addr, to_addr)
        if self._optouts is not None and not request.opt_out_exempt:
            await self._optouts.check(account_id, to_addr, from_addr)
        body = smarten(request.body)[0] if analysis.replacements else request.body
        return NewMessage(
            account_id=account_id,
            from_addr=from_addr,
            to_addr=to_addr,
            body=body,
            encoding=analysis.encoding,
            segments=analysis.segments,
            data_coding=analysis.data_coding,
            priority=request.priority,
            id=request.id,
            status=status,
            send_at=request.send_at,
            expires_at=expires_at,
            status_callback=status_callback,
            metadata=request.metadata,
            idempotency_key=key,
            request_hash=request_hash,
        )

    async def _from_template(self, account_id: str, request: SendRequest) -> SendRequest:
        """The request with its template rendered as the body."""
        if request.template is None:
            for name in ("variables", "template_version", "locale"):
                if getattr(request, name) is not None:
                    raise ValidationError(
                        f"{name} goes with template; give template too, or leave {name} out",
                        code="invalid_value",
                        field=name,
                    )
        if request.body:
            raise ValidationError(
                "give either body or template (with variables), not both",
                code="invalid_value",
                field="template",
            )
        if self._templates is None:
            raise ValidationError(
                "templates are not available here", code="unknown_template", field="template"
            )
        assert request.template is not None
        rendered = await self._templates.render(
            account_id,
            request.template,
            request.variables or {},
            version=request.template_version,
            locale=request.locale,
        )
        return dataclasses.replace(request, body=rendered.text)

    def preview(
        self, body: str, *, encoding: str = "auto", smart_encoding: bool = False
    ) -> TextAnalysis:
        """What sending ``body`` would cost, without sending it."""
        return _analyze(body, encoding, smart_encoding)

    async def get_message(self, account_id: str, message_id: str) -> Message:
        return await self._messages.get_message(account_id, message_id)

    async def get_detail(self, account_id: str, message_id: str) -> MessageDetail:
        message = await self._messages.get_message(account_id, message_id)
        events = await self._messages.list_events(account_id, message_id)
        parts = await self._messages.list_parts(account_id, message_id)
        return MessageDetail(message, events, parts)

    async def list_messages(
        self,
        account_id: str,
        *,
        to: str | None = None,
        from_: str | None = None,
        statuses: frozenset[MessageStatus] = frozenset(),
        direction: Direction | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Message]:
        if not 1 <= limit <= PAGE_MAX:
            raise ValidationError(
                f"limit must be between 1 and {PAGE_MAX}", code="invalid_value", field="limit"
            )
        filter_ = MessageFilter(
            to_addr=None if to is None else _address_filter(to, "to"),
            from_addr=None if from_ is None else _address_filter(from_, "from"),
            statuses=statuses,
            direction=direction,
            created_after=created_after,
            created_before=created_before,
        )
        return await self._messages.list_messages(
            account_id, filter=filter_, limit=limit, cursor=cursor
        )

    async def cancel(self, account_id: str, message_id: str) -> Message:
        """Cancel a scheduled or queued message; MessageConflict ``not_cancelable`` after."""
        try:
            return await self._messages.cancel_message(account_id, message_id, now=self._clock())
        except MessageConflict:
            raise
        except Conflict as exc:
            raise MessageConflict(
                f"{exc}; only scheduled or queued messages can be canceled",
                code="not_cancelable",
            ) from None

    async def redact(self, account_id: str, message_id: str) -> Message:
        """Erase the body; MessageConflict ``not_redactable`` while it still has to be sent."""
        try:
            return await self._messages.redact_message(account_id, message_id, now=self._clock())
        except MessageConflict:
            raise
        except Conflict as exc:
            raise MessageConflict(
                f"{exc}; cancel it first or wait until it is sent",
                code="not_redactable",
            ) from None


def _address_filter(value: str, field: str) -> str:
    """A filter value in the form the store keeps: E.164 for numbers, as given for senders."""
    try:
        return parse_sender(value, field=field).value
    except ValidationError:
        return value.strip()
