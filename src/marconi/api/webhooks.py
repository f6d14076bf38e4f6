"""``/v1/webhooks``: the account's webhook deliveries with their tries, replay, and the signing
secret receivers verify with."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import orjson
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from marconi.api.body import parse_model, read_json
from marconi.api.respond import json_response
from marconi.services import Principal, Services
from marconi.services.webhooks import WebhookService, parse_status
from marconi.store.model import JsonValue, WebhookAttempt, WebhookDelivery
from marconi.webhooks.secret import DEFAULT_GRACE, SigningSecret, secret_repository_for

__all__ = ["webhooks_router"]

Authenticate = Callable[[Request], Awaitable[Principal]]


class AttemptOut(BaseModel):
    number: int
    at: str
    status_code: int | None
    error: str | None = Field(description="What went wrong, with the start of the response body.")
    duration_ms: int | None


class DeliveryOut(BaseModel):
    id: str = Field(description="Also the `webhook-id` header of every try.")
    account_sid: str
    message_id: str | None
    url: str
    event_type: str = Field(examples=["message.status", "message.received"])
    sequence: int
    status: str = Field(examples=["pending", "delivered", "dead"])
    attempts: int
    next_attempt_at: str | None
    last_error: str | None
    payload: Any = Field(description="The JSON body as sent.")
    created_at: str
    updated_at: str
    delivered_at: str | None


class DeliveryDetailOut(DeliveryOut):
    attempt_log: list[AttemptOut] = Field(description="Every try, oldest first.")


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None


class SecretOut(BaseModel):
    secret: str = Field(description="`whsec_` and base64: verify `webhook-signature` with it.")
    previous_secret_valid_until: str | None = Field(
        description="Until then webhooks also carry a signature made with the previous secret."
    )
    created_at: str
    rotated_at: str | None


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    grace_period: int = Field(
        default=int(DEFAULT_GRACE.total_seconds()),
        ge=0,
        le=7 * 24 * 3600,
        description="Seconds the previous secret keeps signing beside the new one.",
    )


def _payload(text: str) -> JsonValue:
    try:
        value: JsonValue = orjson.loads(text)
    except orjson.JSONDecodeError:
        return text
    return value


def delivery_json(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "account_sid": delivery.account_id,
        "message_id": delivery.message_id,
        "url": delivery.url,
        "event_type": delivery.event_type,
        "sequence": delivery.sequence,
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at,
        "last_error": delivery.last_error,
        "payload": _payload(delivery.payload),
        "created_at": delivery.created_at,
        "updated_at": delivery.updated_at,
        "delivered_at": delivery.delivered_at,
    }


def attempt_json(attempt: WebhookAttempt) -> dict[str, Any]:
    return {
        "number": attempt.number,
        "at": attempt.at,
        "status_code": attempt.status_code,
        "error": attempt.error,
        "duration_ms": attempt.duration_ms,
    }


def secret_json(secret: SigningSecret) -> dict[str, Any]:
    return {
        "secret": secret.secret,
        "previous_secret_valid_until": secret.previous_until,
        "created_at": secret.created_at,
        "rotated_at": secret.rotated_at,
    }


def _json(data: Any, status: int = 200) -> Response:
    return json_response(data, status, no_store=True)


def webhooks_router(
    services: Services,
    authenticate: Authenticate,
    *,
    max_body_bytes: int = 64 * 1024,
    service: WebhookService | None = None,
) -> APIRouter:
    router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
    webhooks = service or WebhookService(
        outbox=services.store, secrets=secret_repository_for(services.store)
    )
    problems: dict[int | str, dict[str, Any]] = {
        401: {"description": "Missing, unknown, wrong or revoked credentials."},
        422: {"description": "A parameter is invalid."},
        503: {"description": "The database cannot be reached; retry."},
    }
    not_found: dict[int | str, dict[str, Any]] = {
        404: {"description": "No such delivery in this account."}
    }

    @router.get(
        "/deliveries",
        summary="Webhook deliveries, newest first",
        response_model=DeliveryPage,
        responses=problems,
    )
    async def list_deliveries(
        request: Request,
        status: str | None = Query(None, description="pending, delivered or dead."),
        message_id: str | None = Query(None, description="Only this message's webhooks."),
        limit: int = Query(50, ge=1, le=500),
        cursor: str | None = Query(None, description="next_cursor of the previous page."),
    ) -> Response:
        principal = await authenticate(request)
        page = await webhooks.list_deliveries(
            principal.account_id,
            status=parse_status(status),
            message_id=message_id,
            limit=limit,
            cursor=cursor,
        )
        return _json(
            {"items": [delivery_json(d) for d in page.items], "next_cursor": page.next_cursor}
        )

    @router.get(
        "/deliveries/{delivery_id}",
        summary="One webhook delivery with every try",
        response_model=DeliveryDetailOut,
        responses={**problems, **not_found},
    )
    async def get_delivery(request: Request, delivery_id: str) -> Response:
        principal = await authenticate(request)
        detail = await webhooks.get_delivery(principal.account_id, delivery_id)
        data = delivery_json(detail.delivery)
        data["attempt_log"] = [attempt_json(a) for a in detail.attempts]
        return _json(data)

    @router.post(
        "/deliveries/{delivery_id}/replay",
        summary="Send a delivered or dead webhook again, now",
        response_model=DeliveryOut,
        responses={
            **problems,
            **not_found,
            409: {"description": "The delivery is still pending."},
        },
    )
    async def replay_delivery(request: Request, delivery_id: str) -> Response:
        principal = await authenticate(request)
        return _json(delivery_json(await webhooks.replay(principal.account_id, delivery_id)))

    @router.get(
        "/secret",
        summary="The secret webhooks to this account are signed with",
        response_model=SecretOut,
        responses=problems,
    )
    async def get_secret(request: Request) -> Response:
        principal = await authenticate(request)
        return _json(secret_json(await webhooks.signing_secret(principal.account_id)))

    @router.post(
        "/secret/rotate",
        summary="Make a new signing secret; the old one keeps signing for the grace period",
        response_model=SecretOut,
        responses=problems,
    )
    async def rotate_secret(request: Request) -> Response:
        principal = await authenticate(request)
        data: dict[str, Any] = {}
        if int(request.headers.get("content-length") or 0) > 0:
            data = await read_json(request, max_bytes=max_body_bytes)
        payload = parse_model(RotateIn, data)
        rotated = await webhooks.rotate_secret(
            principal.account_id, grace=timedelta(seconds=payload.grace_period)
        )
        return _json(secret_json(rotated))

    return router
