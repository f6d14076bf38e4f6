"""The native ``/v1`` routes. Each handler authenticates, reads and validates its input, calls one
service and writes JSON; errors travel as exceptions to the problem+json handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from marconi.api import schema as s
from marconi.api.body import parse_model, read_json
from marconi.api.respond import json_body as _body
from marconi.api.respond import json_response as _json
from marconi.api.templates import preview_text
from marconi.errors import ValidationError
from marconi.services import Principal, SendRequest, Services
from marconi.services.message import parse_time
from marconi.store.model import Direction, Message, MessageStatus, Unset

__all__ = ["accept_message", "v1_router"]

Authenticate = Callable[[Request], Awaitable[Principal]]

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": s.Problem, "description": description}
    for status, description in (
        (400, "Malformed JSON or UTF-8."),
        (401, "Missing, unknown, wrong or revoked credentials."),
        (413, "The body is too large."),
        (415, "The body is not JSON."),
        (422, "A field is missing, unknown or invalid."),
        (429, "Rate limit exceeded; see Retry-After."),
        (503, "The database cannot be reached; retry."),
    )
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": s.Problem, "description": "No such resource in this account."}
}
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": s.Problem, "description": "The resource's state refuses the request."}
}


def _statuses(value: str | None) -> frozenset[MessageStatus]:
    if not value:
        return frozenset()
    result = set()
    for name in value.split(","):
        try:
            result.add(MessageStatus(name.strip()))
        except ValueError:
            raise ValidationError(
                f"status {name.strip()!r} is not one of "
                f"{', '.join(m.value for m in MessageStatus)}",
                code="invalid_value",
                field="status",
            ) from None
    return frozenset(result)


async def accept_message(
    services: Services, principal: Principal, data: dict[str, Any], idempotency_key: str | None
) -> Message:
    """``POST /v1/messages`` once the caller is known and the body parsed."""
    payload = s.message_in(data)
    return await services.messages.send(
        principal.account_id,
        SendRequest(
            to=payload.to,
            from_=payload.from_,
            body=payload.body or "",
            template=payload.template,
            template_version=payload.template_version,
            locale=payload.locale,
            variables=payload.variables,
            status_callback=payload.status_callback,
            validity_period=payload.validity_period,
            send_at=None
            if payload.send_at is None
            else parse_time(payload.send_at, field="send_at"),
            encoding=payload.encoding,
            smart_encoding=payload.smart_encoding,
            metadata=payload.metadata or {},
            idempotency_key=idempotency_key,
        ),
    )


def v1_router(services: Services, authenticate: Authenticate, *, max_body_bytes: int) -> APIRouter:
    router = APIRouter(prefix="/v1")
    messages = services.messages

    async def body_of(request: Request) -> dict[str, Any]:
        return await read_json(request, max_bytes=max_body_bytes)

    # -- messages --------------------------------------------------------------------------------

    @router.post(
        "/messages",
        tags=["messages"],
        summary="Send a message",
        description=(
            "Validates, encodes and stores the message as `queued` (or `scheduled` with "
            "`send_at`) and answers at once; it is sent afterwards. With an `Idempotency-Key` "
            "header, a retry returns the first message instead of sending again; the same key "
            "with a different request is refused with 409 `idempotency_key_reused`."
        ),
        status_code=201,
        response_model=s.MessageOut,
        responses={**_ERRORS, **_CONFLICT},
        openapi_extra={
            **_body(s.MessageIn),
            "parameters": [
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 255},
                    "description": "Any unique string of yours, kept for the account.",
                }
            ],
        },
    )
    async def send_message(request: Request) -> Response:
        principal = await authenticate(request)
        message = await accept_message(
            services,
            principal,
            await body_of(request),
            request.headers.get("idempotency-key"),
        )
        return _json(s.message_json(message), 201)

    @router.post(
        "/messages/preview",
        tags=["messages"],
        summary="Measure a text without sending it",
        description=(
            "Encoding, segments, characters and room left in the last segment. With `template` "
            "and `variables` instead of `body`, the template is rendered and measured, and the "
            "rendered text is returned as `body`."
        ),
        response_model=s.PreviewOut,
        responses=_ERRORS,
        openapi_extra=_body(s.PreviewIn),
    )
    async def preview_message(request: Request) -> Response:
        principal = await authenticate(request)
        payload = parse_model(s.PreviewIn, await body_of(request))
        text = await preview_text(services, principal.account_id, payload)
        analysis = messages.preview(
            text, encoding=payload.encoding, smart_encoding=payload.smart_encoding
        )
        data = s.preview_json(analysis)
        if payload.template is not None:
            data["body"] = text
        return _json(data)

    @router.get(
        "/messages",
        tags=["messages"],
        summary="List messages, newest first",
        response_model=s.MessagePage,
        responses=_ERRORS,
    )
    async def list_messages(
        request: Request,
        to: str | None = Query(None, description="Destination number."),
        from_: str | None = Query(None, alias="from", description="Sender."),
        status: str | None = Query(None, description="One status or several, comma-separated."),
        direction: Literal["outbound", "inbound"] | None = Query(None),
        date_created_after: str | None = Query(None, description="RFC 3339, inclusive."),
        date_created_before: str | None = Query(None, description="RFC 3339, exclusive."),
        limit: int = Query(50, ge=1, le=500),
        cursor: str | None = Query(None, description="next_cursor of the previous page."),
    ) -> Response:
        principal = await authenticate(request)
        page = await messages.list_messages(
            principal.account_id,
            to=to,
            from_=from_,
            statuses=_statuses(status),
            direction=None if direction is None else Direction(direction),
            created_after=(
                None
                if date_created_after is None
                else parse_time(date_created_after, field="date_created_after")
            ),
            created_before=(
                None
                if date_created_before is None
                else parse_time(date_created_before, field="date_created_before")
            ),
            limit=limit,
            cursor=cursor,
        )
        return _json(
            {"items": [s.message_json(m) for m in page.items], "next_cursor": page.next_cursor}
        )

    @router.get(
        "/messages/{message_id}",
        tags=["messages"],
        summary="A message with its status timeline and parts",
        response_model=s.MessageOut,
        responses={**_ERRORS, **_NOT_FOUND},
    )
    async def get_message(request: Request, message_id: str) -> Response:
        principal = await authenticate(request)
        detail = await messages.get_detail(principal.account_id, message_id)
        return _json(s.detail_json(detail))

    @router.post(
        "/messages/{message_id}/cancel",
        tags=["messages"],
        summary="Cancel a scheduled or queued message",
        response_model=s.MessageOut,
        responses={**_ERRORS, **_NOT_FOUND, **_CONFLICT},
    )
    async def cancel_message(request: Request, message_id: str) -> Response:
        principal = await authenticate(request)
        message = await messages.cancel(principal.account_id, message_id)
        return _json(s.message_json(message))

    @router.post(
        "/messages/{message_id}/redact",
        tags=["messages"],
        summary="Erase a message's body",
        description="Allowed once the message is sent, canceled or otherwise final.",
        response_model=s.MessageOut,
        responses={**_ERRORS, **_NOT_FOUND, **_CONFLICT},
    )
    async def redact_message(request: Request, message_id: str) -> Response:
        principal = await authenticate(request)
        message = await messages.redact(principal.account_id, message_id)
        return _json(s.message_json(message))

    # -- numbers ---------------------------------------------------------------------------------

    numbers = services.numbers

    @router.get(
        "/numbers",
        tags=["numbers"],
        summary="The account's senders",
        response_model=s.NumberList,
        responses=_ERRORS,
    )
    async def list_numbers(request: Request) -> Response:
        principal = await authenticate(request)
        items = await numbers.list_numbers(principal.account_id)
        return _json({"items": [s.number_json(n) for n in items]})

    @router.post(
        "/numbers",
        tags=["numbers"],
        summary="Add a sender (number, short code or alphanumeric ID)",
        status_code=201,
        response_model=s.NumberOut,
        responses={**_ERRORS, **_CONFLICT},
        openapi_extra=_body(s.NumberIn),
    )
    async def add_number(request: Request) -> Response:
        principal = await authenticate(request)
        payload = parse_model(s.NumberIn, await body_of(request))
        number = await numbers.add_number(
            principal.account_id,
            payload.number,
            inbound_webhook_url=payload.inbound_webhook_url,
            inbound_webhook_method=payload.inbound_webhook_method,
            status_callback_url=payload.status_callback_url,
        )
        return _json(s.number_json(number), 201)

    @router.get(
        "/numbers/{number_id}",
        tags=["numbers"],
        summary="One sender",
        response_model=s.NumberOut,
        responses={**_ERRORS, **_NOT_FOUND},
    )
    async def get_number(request: Request, number_id: str) -> Response:
        principal = await authenticate(request)
        return _json(s.number_json(await numbers.get_number(principal.account_id, number_id)))

    @router.patch(
        "/numbers/{number_id}",
        tags=["numbers"],
        summary="Change a sender's webhooks",
        description="Fields left out stay as they are; null clears a URL.",
        response_model=s.NumberOut,
        responses={**_ERRORS, **_NOT_FOUND},
        openapi_extra=_body(s.NumberPatch),
    )
    async def update_number(request: Request, number_id: str) -> Response:
        principal = await authenticate(request)
        payload = parse_model(s.NumberPatch, await body_of(request))
        given = payload.model_fields_set
        method = payload.inbound_webhook_method
        number = await numbers.update_number(
            principal.account_id,
            number_id,
            inbound_webhook_url=(
                payload.inbound_webhook_url if "inbound_webhook_url" in given else Unset.UNSET
            ),
            inbound_webhook_method=method if method is not None else Unset.UNSET,
            status_callback_url=(
                payload.status_callback_url if "status_callback_url" in given else Unset.UNSET
            ),
        )
        return _json(s.number_json(number))

    @router.delete(
        "/numbers/{number_id}",
        tags=["numbers"],
        summary="Remove a sender",
        status_code=204,
        responses={**_ERRORS, **_NOT_FOUND},
    )
    async def remove_number(request: Request, number_id: str) -> Response:
        principal = await authenticate(request)
        await numbers.remove_number(principal.account_id, number_id)
        return Response(status_code=204)

    # -- keys ------------------------------------------------------------------------------------

    keys = services.keys

    @router.get(
        "/keys",
        tags=["keys"],
        summary="The account's API keys (without secrets)",
        response_model=s.KeyList,
        responses=_ERRORS,
    )
    async def list_keys(request: Request) -> Response:
        principal = await authenticate(request)
        items = await keys.list_keys(principal.account_id)
        return _json({"items": [s.key_json(k) for k in items]})

    @router.post(
        "/keys",
        tags=["keys"],
        summary="Create an API key; its secret is shown only in this response",
        status_code=201,
        response_model=s.KeyOut,
        responses=_ERRORS,
        openapi_extra=_body(s.KeyIn),
    )
    async def create_key(request: Request) -> Response:
        principal = await authenticate(request)
        payload = parse_model(s.KeyIn, await body_of(request))
        new = await keys.create_key(principal.account_id, name=payload.name)
        return _json(s.key_json(new.key, new), 201)

    @router.get(
        "/keys/{key_id}",
        tags=["keys"],
        summary="One API key",
        response_model=s.KeyOut,
        responses={**_ERRORS, **_NOT_FOUND},
    )
    async def get_key(request: Request, key_id: str) -> Response:
        principal = await authenticate(request)
        return _json(s.key_json(await keys.get_key(principal.account_id, key_id)))

    @router.delete(
        "/keys/{key_id}",
        tags=["keys"],
        summary="Revoke an API key (at once on this node, within a second on others)",
        response_model=s.KeyOut,
        responses={**_ERRORS, **_NOT_FOUND},
    )
    async def revoke_key(request: Request, key_id: str) -> Response:
        principal = await authenticate(request)
        return _json(s.key_json(await keys.revoke_key(principal.account_id, key_id)))

    # -- accounts --------------------------------------------------------------------------------

    accounts = services.accounts

    @router.get(
        "/accounts",
        tags=["accounts"],
        summary="The caller's sub-accounts",
        response_model=s.AccountList,
        responses=_ERRORS,
    )
    async def list_accounts(request: Request) -> Response:
        principal = await authenticate(request)
        items = await accounts.list_subaccounts(principal.account_id)
        return _json({"items": [s.account_json(a) for a in items]})

    @router.post(
        "/accounts",
        tags=["accounts"],
        summary="Create a sub-account, with its auth token and a first API key (shown once)",
        status_code=201,
        response_model=s.AccountOut,
        responses=_ERRORS,
        openapi_extra=_body(s.AccountIn),
    )
    async def create_account(request: Request) -> Response:
        principal = await authenticate(request)
        payload = parse_model(s.AccountIn, await body_of(request))
        new, key = await accounts.create_subaccount(
            principal.account_id, name=payload.name, with_key=True
        )
        data = s.account_json(new.account)
        data["auth_token"] = new.auth_token
        data["key"] = None if key is None else s.key_json(key.key, key)
        return _json(data, 201)

    @router.get(
        "/accounts/{account_id}",
        tags=["accounts"],
        summary="The caller's account or one of its sub-accounts",
        response_model=s.AccountOut,
        responses={**_ERRORS, **_NOT_FOUND},
    )
    async def get_account(request: Request, account_id: str) -> Response:
        principal = await authenticate(request)
        return _json(s.account_json(await accounts.get_account(principal.account_id, account_id)))

    return router
