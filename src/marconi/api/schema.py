"""The shapes of the native API: request models (validated strictly, unknown fields refused) and
response models (for the OpenAPI document), and the functions that turn records into JSON."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from marconi.api.body import validation_error
from marconi.errors import ValidationError
from marconi.services import MessageDetail, NewKey
from marconi.services.message import BODY_MAX, METADATA_MAX_BYTES, VALIDITY_MAX
from marconi.store.model import (
    Account,
    ApiKey,
    Message,
    MessageEvent,
    MessagePart,
    Number,
)
from marconi.text import TextAnalysis

__all__ = [
    "AccountIn",
    "AccountOut",
    "KeyIn",
    "KeyOut",
    "MessageIn",
    "MessageOut",
    "NumberIn",
    "NumberPatch",
    "PreviewIn",
    "Problem",
    "message_in",
]

_STRICT = ConfigDict(extra="forbid", strict=True, populate_by_name=False)

JSON = dict[str, Any]


class MessageIn(BaseModel):
    model_config = _STRICT

    to: str = Field(
        description="The destination phone number, in international form (E.164 is returned).",
        examples=["+14155550100"],
    )
    from_: str | None = Field(
        default=None,
        alias="from",
        description=(
            "The sender: one of the account's numbers, short codes or alphanumeric sender IDs "
            "(see /v1/numbers). Omitted: the account's first number."
        ),
        examples=["Marconi"],
    )
    body: str | None = Field(
        default=None,
        description=f"The text, 1 to {BODY_MAX} characters; it is split into segments as needed. "
        "Required unless `template` is given.",
        min_length=1,
        examples=["Your code is 123456"],
    )
    status_callback: str | None = Field(
        default=None,
        description="An http(s) URL that receives a signed POST on every status change.",
    )
    validity_period: int | None = Field(
        default=None,
        description=f"Seconds after which an unsent message expires (1 to {VALIDITY_MAX}).",
    )
    send_at: str | None = Field(
        default=None,
        description=(
            "Schedule the message: an RFC 3339 date-time with offset, in the future and at "
            "most 35 days ahead."
        ),
        json_schema_extra={"format": "date-time"},
    )
    encoding: Literal["auto", "gsm7", "ucs2"] = Field(
        default="auto",
        description=(
            "auto: GSM-7 (with national shift tables) when the text fits it, else UCS-2. "
            "gsm7 refuses text that does not fit; ucs2 forces 16-bit."
        ),
    )
    smart_encoding: bool = Field(
        default=False,
        description="Replace typographic look-alikes (curly quotes, dashes) to stay in GSM-7.",
    )
    metadata: dict[str, Any] | None = Field(
        default=None,
        description=f"Your own JSON object, kept with the message (at most {METADATA_MAX_BYTES} "
        "bytes).",
    )
    template: str | None = Field(
        default=None,
        description="Instead of `body`: the name of one of the account's templates "
        "(see /v1/templates), filled with `variables`.",
        examples=["order_shipped"],
    )
    template_version: int | None = Field(
        default=None, description="The template version to use; omitted: the newest."
    )
    locale: str | None = Field(
        default=None,
        description="The template locale to use (pt-BR falls back to pt); omitted: the "
        "template's default locale.",
        examples=["es"],
    )
    variables: dict[str, Any] | None = Field(
        default=None,
        description="Values for the template's placeholders: strings or numbers. A missing or "
        "unknown variable is refused with 400 naming it.",
        examples=[{"first_name": "Ada", "order": 1042}],
    )


class PreviewIn(BaseModel):
    model_config = _STRICT

    body: str | None = Field(
        default=None, description="The text to measure (or give `template`).", min_length=1
    )
    encoding: Literal["auto", "gsm7", "ucs2"] = "auto"
    smart_encoding: bool = False
    template: str | None = Field(default=None, description="A template to render and measure.")
    template_version: int | None = None
    locale: str | None = None
    variables: dict[str, Any] | None = None


class NumberIn(BaseModel):
    model_config = _STRICT

    number: str = Field(
        description="A phone number (E.164), a short code (3-8 digits) or an alphanumeric "
        "sender ID (1-11 GSM characters).",
        examples=["+14155550100"],
    )
    inbound_webhook_url: str | None = Field(
        default=None, description="Where inbound messages to this number are posted."
    )
    inbound_webhook_method: Literal["POST", "GET"] = "POST"
    status_callback_url: str | None = Field(
        default=None, description="Default status callback for messages sent from this number."
    )


class NumberPatch(BaseModel):
    model_config = _STRICT

    inbound_webhook_url: str | None = None
    inbound_webhook_method: Literal["POST", "GET"] | None = None
    status_callback_url: str | None = None


class KeyIn(BaseModel):
    model_config = _STRICT

    name: str = Field(default="", max_length=100, description="A label for the key.")


class AccountIn(BaseModel):
    model_config = _STRICT

    name: str = Field(default="", max_length=100, description="A label for the sub-account.")


class Problem(BaseModel):
    """An error, as RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable, machine-readable error code (see docs/api.md).")
    field: str | None = Field(description="The request field to fix, when there is one.")


class EventOut(BaseModel):
    seq: int
    status: str
    at: str
    details: dict[str, Any]


class PartOut(BaseModel):
    part_number: int
    connector: str
    smsc_message_id: str | None
    status: str
    error_code: str | None
    submitted_at: str
    receipt_stat: str | None
    receipt_err: str | None
    receipt_at: str | None


class MessageOut(BaseModel):
    id: str = Field(description="SM followed by 32 hex digits.")
    account_sid: str
    direction: Literal["outbound", "inbound"]
    from_: str = Field(alias="from")
    to: str
    body: str | None = Field(description="null once redacted.")
    status: str
    encoding: str
    segments: int
    price: str | None = Field(
        description='A decimal as text ("0.0075"), when known; null until then.'
    )
    price_unit: str | None = Field(description="ISO 4217 currency of price, e.g. USD.")
    send_at: str | None
    expires_at: str | None
    status_callback: str | None
    metadata: dict[str, Any]
    error_code: str | None
    error_message: str | None
    created_at: str
    updated_at: str
    sent_at: str | None
    done_at: str | None
    redacted_at: str | None
    events: list[EventOut] | None = Field(
        default=None, description="The status timeline (GET /v1/messages/{id} only)."
    )
    parts: list[PartOut] | None = Field(
        default=None, description="Segments as submitted (GET /v1/messages/{id} only)."
    )


class MessagePage(BaseModel):
    items: list[MessageOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class PreviewOut(BaseModel):
    encoding: str
    segments: int
    characters: int
    units: int
    unit: str
    per_segment: int
    remaining: int = Field(description="Units still free in the last segment.")
    non_gsm_characters: list[str]
    replacements: list[dict[str, str]]
    locking_shift: str | None
    single_shift: str | None
    data_coding: int
    body: str | None = Field(
        default=None, description="The rendered text, when a template was given."
    )


class NumberOut(BaseModel):
    id: str
    account_sid: str
    number: str
    kind: Literal["e164", "short_code", "alphanumeric"]
    inbound_webhook_url: str | None
    inbound_webhook_method: str
    status_callback_url: str | None
    created_at: str
    updated_at: str


class KeyOut(BaseModel):
    id: str
    account_sid: str
    name: str
    created_at: str
    revoked_at: str | None
    last_used_at: str | None
    secret: str | None = Field(default=None, description="Shown once, when the key is created.")
    token: str | None = Field(
        default=None, description="`id:secret`, for `Authorization: Bearer`; shown once."
    )


class NumberList(BaseModel):
    items: list[NumberOut]


class KeyList(BaseModel):
    items: list[KeyOut]


class AccountOut(BaseModel):
    sid: str
    parent_sid: str | None
    name: str
    status: str
    created_at: str
    updated_at: str
    auth_token: str | None = Field(default=None, description="Shown once, at creation.")
    key: KeyOut | None = Field(default=None, description="A first API key, at creation.")


class AccountList(BaseModel):
    items: list[AccountOut]


# -- records to JSON (datetimes are left to orjson) ----------------------------------------------


def message_json(message: Message) -> JSON:
    return {
        "id": message.id,
        "account_sid": message.account_id,
        "direction": message.direction.value,
        "from": message.from_addr,
        "to": message.to_addr,
        "body": message.body,
        "status": message.status.value,
        "encoding": message.encoding,
        "segments": message.segments,
        "price": message.price,
        "price_unit": message.price_unit,
        "send_at": message.send_at,
        "expires_at": message.expires_at,
        "status_callback": message.status_callback,
        "metadata": dict(message.metadata),
        "error_code": message.error_code,
        "error_message": message.error_message,
        "created_at": message.created_at,
        "updated_at": message.updated_at,
        "sent_at": message.sent_at,
        "done_at": message.done_at,
        "redacted_at": message.redacted_at,
    }


def event_json(event: MessageEvent) -> JSON:
    return {
        "seq": event.seq,
        "status": event.status.value,
        "at": event.at,
        "details": event.details,
    }


def part_json(part: MessagePart) -> JSON:
    return {
        "part_number": part.part_number,
        "connector": part.connector,
        "smsc_message_id": part.smsc_message_id,
        "status": part.status.value,
        "error_code": part.error_code,
        "submitted_at": part.submitted_at,
        "receipt_stat": part.receipt_stat,
        "receipt_err": part.receipt_err,
        "receipt_at": part.receipt_at,
    }


def detail_json(detail: MessageDetail) -> JSON:
    data = message_json(detail.message)
    data["events"] = [event_json(e) for e in detail.events]
    data["parts"] = [part_json(p) for p in detail.parts]
    return data


def preview_json(analysis: TextAnalysis) -> JSON:
    return analysis.to_dict()


def number_json(number: Number) -> JSON:
    return {
        "id": number.id,
        "account_sid": number.account_id,
        "number": number.value,
        "kind": number.kind.value,
        "inbound_webhook_url": number.inbound_webhook_url,
        "inbound_webhook_method": number.inbound_webhook_method,
        "status_callback_url": number.status_callback_url,
        "created_at": number.created_at,
        "updated_at": number.updated_at,
    }


def key_json(key: ApiKey, new: NewKey | None = None) -> JSON:
    data: JSON = {
        "id": key.id,
        "account_sid": key.account_id,
        "name": key.name,
        "created_at": key.created_at,
        "revoked_at": key.revoked_at,
        "last_used_at": key.last_used_at,
    }
    if new is not None:
        data["secret"] = new.secret
        data["token"] = new.token
    return data


def account_json(account: Account) -> JSON:
    return {
        "sid": account.id,
        "parent_sid": account.parent_id,
        "name": account.name,
        "status": account.status.value,
        "created_at": account.created_at,
        "updated_at": account.updated_at,
    }


# -- the send route's input, checked by hand --------------------------------------------------
# ``MessageIn.model_validate`` costs more than the rest of the route's own work; this does the
# same checks (the same first error, in the model's field order, then unknown fields) for a
# fraction of it. tests/unit/api checks that both agree on any input.

_MESSAGE_FIELDS: Final = frozenset(
    {
        "to",
        "from",
        "body",
        "status_callback",
        "validity_period",
        "send_at",
        "encoding",
        "smart_encoding",
        "metadata",
        "template",
        "template_version",
        "locale",
        "variables",
    }
)
_ENCODINGS: Final = ("auto", "gsm7", "ucs2")


def _wrong(field: str, kind: str, message: str) -> ValidationError:
    return validation_error([{"type": kind, "loc": (field,), "msg": message}])


def _text(data: Mapping[str, Any], field: str, *, required: bool = False) -> str | None:
    if field not in data:
        if required:
            raise _wrong(field, "missing", "Field required")
        return None
    value = data[field]
    if type(value) is str:
        return value
    if value is None and not required:
        return None
    raise _wrong(field, "string_type", "Input should be a valid string")


def message_in(data: Mapping[str, Any]) -> MessageIn:
    """``data`` checked as ``MessageIn.model_validate`` would, without pydantic's cost."""
    to = _text(data, "to", required=True)
    from_ = _text(data, "from")
    body = _text(data, "body")
    if body == "":
        raise _wrong("body", "string_too_short", "String should have at least 1 character")
    status_callback = _text(data, "status_callback")
    validity_period = data.get("validity_period")
    if validity_period is not None and type(validity_period) is not int:
        raise _wrong("validity_period", "int_type", "Input should be a valid integer")
    send_at = _text(data, "send_at")
    encoding = data.get("encoding", "auto")
    if type(encoding) is not str or encoding not in _ENCODINGS:
        raise _wrong("encoding", "literal_error", "Input should be 'auto', 'gsm7' or 'ucs2'")
    smart_encoding = data.get("smart_encoding", False)
    if type(smart_encoding) is not bool:
        raise _wrong("smart_encoding", "bool_type", "Input should be a valid boolean")
    metadata = data.get("metadata")
    if metadata is not None and type(metadata) is not dict:
        raise _wrong("metadata", "dict_type", "Input should be a valid dictionary")
    template = _text(data, "template")
    template_version = data.get("template_version")
    if template_version is not None and type(template_version) is not int:
        raise _wrong("template_version", "int_type", "Input should be a valid integer")
    locale = _text(data, "locale")
    variables = data.get("variables")
    if variables is not None and type(variables) is not dict:
        raise _wrong("variables", "dict_type", "Input should be a valid dictionary")
    for key in data:
        if key not in _MESSAGE_FIELDS:
            raise _wrong(key, "extra_forbidden", "Extra inputs are not permitted")
    assert to is not None
    return MessageIn.model_construct(
        to=to,
        from_=from_,
        body=body,
        status_callback=status_callback,
        validity_period=validity_period,
        send_at=send_at,
        encoding=encoding,
        smart_encoding=smart_encoding,
        metadata=metadata,
        template=template,
        template_version=template_version,
        locale=locale,
        variables=variables,
    )
