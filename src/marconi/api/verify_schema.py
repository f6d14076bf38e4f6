"""The shapes of ``/v1/verify``: request models (strict, unknown fields refused), response models
for the OpenAPI document, and the functions that turn records into JSON."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from marconi.store.verify_model import Verification, VerifyBlock, VerifyService
from marconi.verify import ServiceSettings

__all__ = [
    "BlockList",
    "BlockOut",
    "CheckIn",
    "CheckOut",
    "ServiceIn",
    "ServiceList",
    "ServiceOut",
    "ServicePatch",
    "StartIn",
    "VerificationOut",
    "block_json",
    "service_json",
    "settings_of",
    "verification_json",
]

_STRICT = ConfigDict(extra="forbid", strict=True, populate_by_name=False)

JSON = dict[str, Any]


class ServicePatch(BaseModel):
    model_config = _STRICT

    name: str | None = Field(default=None, description="Shown in the default templates.")
    code_length: int | None = Field(default=None, description="4 to 10 digits (default 6).")
    ttl: int | None = Field(default=None, description="Seconds a code stays valid (default 600).")
    max_attempts: int | None = Field(
        default=None, description="Checks allowed per verification (default 5)."
    )
    max_sends: int | None = Field(
        default=None, description="Codes sent to one number per send_window (default 5)."
    )
    send_window: int | None = Field(
        default=None, description="Seconds the velocity limits look back (default 3600)."
    )
    prefix_limit: int | None = Field(
        default=None,
        description="Codes sent per number range (the number without its last 3 digits) per "
        "send_window (default 100).",
    )
    country_limit: int | None = Field(
        default=None, description="Codes sent per country per send_window (default 10000)."
    )
    allowed_countries: list[str] | None = Field(
        default=None, description="ISO 3166 region codes codes may go to; empty: any."
    )
    template: str | None = Field(
        default=None,
        description="The text, with {code} and optionally {name} and {ttl_minutes}. Omitted: "
        "the default of the locale.",
    )
    locale: str | None = Field(default=None, description="en (default), fr, de, es, it, pt, nl.")


class ServiceIn(ServicePatch):
    name: str | None = Field(default=None, description="Required; shown in the default templates.")
    from_: str | None = Field(
        default=None,
        alias="from",
        description="The sender, one of the account's numbers. Omitted: the account's first.",
    )


class ServiceOut(BaseModel):
    id: str
    name: str
    code_length: int
    ttl: int
    max_attempts: int
    max_sends: int
    send_window: int
    prefix_limit: int
    country_limit: int
    allowed_countries: list[str]
    template: str
    locale: str
    from_: str | None = Field(alias="from")
    date_created: str
    date_updated: str


class ServiceList(BaseModel):
    items: list[ServiceOut]


class StartIn(BaseModel):
    model_config = _STRICT

    to: str = Field(description="The phone number to verify, in international form.")


class CheckIn(BaseModel):
    model_config = _STRICT

    code: str = Field(description="The code the user typed.")
    to: str | None = Field(
        default=None,
        description="With POST /v1/verify/services/{id}/check: the number whose newest "
        "verification is checked.",
    )


class VerificationOut(BaseModel):
    id: str
    service_id: str
    to: str
    country: str
    status: str
    attempts: int
    sends: int
    message_id: str | None
    resent: bool | None = None
    date_created: str
    date_updated: str
    expires_at: str


class CheckOut(BaseModel):
    valid: bool
    verification: VerificationOut


class BlockOut(BaseModel):
    id: str
    service_id: str
    to: str
    country: str
    reason: str
    detail: str
    date_created: str


class BlockList(BaseModel):
    items: list[BlockOut]


def settings_of(payload: ServicePatch) -> ServiceSettings:
    countries = payload.allowed_countries
    return ServiceSettings(
        name=payload.name,
        code_length=payload.code_length,
        ttl=payload.ttl,
        max_attempts=payload.max_attempts,
        max_sends=payload.max_sends,
        send_window=payload.send_window,
        prefix_limit=payload.prefix_limit,
        country_limit=payload.country_limit,
        allowed_countries=None if countries is None else tuple(c.upper() for c in countries),
        template=payload.template,
        locale=payload.locale,
        from_=payload.from_ if isinstance(payload, ServiceIn) else None,
    )


def service_json(service: VerifyService) -> JSON:
    return {
        "id": service.id,
        "name": service.name,
        "code_length": service.code_length,
        "ttl": service.ttl,
        "max_attempts": service.max_attempts,
        "max_sends": service.max_sends,
        "send_window": service.send_window,
        "prefix_limit": service.prefix_limit,
        "country_limit": service.country_limit,
        "allowed_countries": list(service.allowed_countries),
        "template": service.template,
        "locale": service.locale,
        "from": service.from_addr,
        "date_created": service.created_at,
        "date_updated": service.updated_at,
    }


def verification_json(verification: Verification, *, resent: bool | None = None) -> JSON:
    data: JSON = {
        "id": verification.id,
        "service_id": verification.service_id,
        "to": verification.to_addr,
        "country": verification.country,
        "status": verification.status.value,
        "attempts": verification.attempts,
        "sends": verification.sends,
        "message_id": verification.message_id,
        "date_created": verification.created_at,
        "date_updated": verification.updated_at,
        "expires_at": verification.expires_at,
    }
    if resent is not None:
        data["resent"] = resent
    return data


def block_json(block: VerifyBlock) -> JSON:
    return {
        "id": block.id,
        "service_id": block.service_id,
        "to": block.to_addr,
        "country": block.country,
        "reason": block.reason.value,
        "detail": block.detail,
        "date_created": block.created_at,
    }
