"""The native ``/v1/verify`` routes: verify services, verifications, checks and the fraud
guard's blocks. Handlers authenticate, parse, call :class:`VerificationService` and write JSON;
errors travel as exceptions to the problem+json handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from marconi.api import verify_schema as vs
from marconi.api.body import parse_model, read_json
from marconi.api.problem import ApiError
from marconi.api.respond import json_body as _body
from marconi.api.respond import json_response as _json
from marconi.api.schema import Problem
from marconi.services import Principal
from marconi.store.verify_model import BlockReason
from marconi.verify import VerificationBlocked, VerificationService

__all__ = ["refusal", "verify_router"]

Authenticate = Callable[[Request], Awaitable[Principal]]


def _responses(*pairs: tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": Problem, "description": text} for status, text in pairs}


_ERRORS: Final = _responses(
    (400, "Malformed JSON or UTF-8."),
    (401, "Missing, unknown, wrong or revoked credentials."),
    (404, "No such service or verification in this account."),
    (415, "The body is not JSON."),
    (422, "A field is missing, unknown or invalid."),
    (503, "The database cannot be reached; retry."),
)
_BLOCKED: Final = _responses(
    (403, "The destination's country is not allowed (code country_not_allowed)."),
    (
        429,
        "A velocity limit refused it (destination_limit, prefix_limit or country_limit); "
        "the block is listed under /blocks.",
    ),
)
_CLOSED: Final = _responses(
    (409, "The verification is no longer pending (code verification_<status>)."),
)


def refusal(exc: VerificationBlocked) -> ApiError:
    status = 403 if exc.reason is BlockReason.COUNTRY_NOT_ALLOWED else 429
    return ApiError(
        status, f"{exc.block.detail} (block {exc.block.id})", code=exc.reason.value, field="to"
    )


def verify_router(
    verify: VerificationService, authenticate: Authenticate, *, max_body_bytes: int
) -> APIRouter:
    router = APIRouter(prefix="/v1/verify", tags=["verify"])

    async def body_of(request: Request) -> dict[str, Any]:
        return await read_json(request, max_bytes=max_body_bytes)

    # -- services --------------------------------------------------------------------------------

    @router.post(
        "/services",
        summary="Create a verify service",
        status_code=201,
        response_model=vs.ServiceOut,
        responses=_ERRORS,
        openapi_extra=_body(vs.ServiceIn),
    )
    async def create_service(request: Request) -> Response:
        principal = await authenticate(request)
        payload = parse_model(vs.ServiceIn, await body_of(request))
        service = await verify.create_service(principal.account_id, vs.settings_of(payload))
        return _json(vs.service_json(service), 201)

    @router.get(
        "/services",
        summary="The account's verify services",
        response_model=vs.ServiceList,
        responses=_ERRORS,
    )
    async def list_services(request: Request) -> Response:
        principal = await authenticate(request)
        items = await verify.list_services(principal.account_id)
        return _json({"items": [vs.service_json(s) for s in items]})

    @router.get(
        "/services/{service_id}",
        summary="One verify service",
        response_model=vs.ServiceOut,
        responses=_ERRORS,
    )
    async def get_service(request: Request, service_id: str) -> Response:
        principal = await authenticate(request)
        return _json(vs.service_json(await verify.get_service(principal.account_id, service_id)))

    @router.patch(
        "/services/{service_id}",
        summary="Change a verify service's settings",
        description="Fields left out stay as they are. A new locale without a template takes "
        "that locale's default template.",
        response_model=vs.ServiceOut,
        responses=_ERRORS,
        openapi_extra=_body(vs.ServicePatch),
    )
    async def update_service(request: Request, service_id: str) -> Response:
        principal = await authenticate(request)
        payload = parse_model(vs.ServicePatch, await body_of(request))
        service = await verify.update_service(
            principal.account_id, service_id, vs.settings_of(payload)
        )
        return _json(vs.service_json(service))

    @router.get(
        "/services/{service_id}/blocks",
        summary="Requests the fraud guard refused, newest first",
        response_model=vs.BlockList,
        responses=_ERRORS,
    )
    async def list_blocks(
        request: Request, service_id: str, limit: int = Query(100, ge=1, le=500)
    ) -> Response:
        principal = await authenticate(request)
        items = await verify.list_blocks(principal.account_id, service_id, limit=limit)
        return _json({"items": [vs.block_json(b) for b in items]})

    # -- verifications ---------------------------------------------------------------------------

    @router.post(
        "/services/{service_id}/verifications",
        summary="Send a code (or the valid one again)",
        description="Draws a code and sends it in the priority class, ahead of ordinary "
        "messages. While the number has a pending, unexpired verification the same code is "
        "sent again (`resent: true`); every send counts against the velocity limits.",
        status_code=201,
        response_model=vs.VerificationOut,
        responses={**_ERRORS, **_BLOCKED, **_CLOSED},
        openapi_extra=_body(vs.StartIn),
    )
    async def start(request: Request, service_id: str) -> Response:
        principal = await authenticate(request)
        payload = parse_model(vs.StartIn, await body_of(request))
        try:
            started = await verify.start(principal.account_id, service_id, payload.to)
        except VerificationBlocked as exc:
            raise refusal(exc) from None
        return _json(vs.verification_json(started.verification, resent=started.resent), 201)

    @router.get(
        "/services/{service_id}/verifications/{verification_id}",
        summary="One verification",
        response_model=vs.VerificationOut,
        responses=_ERRORS,
    )
    async def get_verification(request: Request, service_id: str, verification_id: str) -> Response:
        principal = await authenticate(request)
        found = await verify.get(principal.account_id, service_id, verification_id)
        return _json(vs.verification_json(found))

    @router.post(
        "/services/{service_id}/verifications/{verification_id}/check",
        summary="Check a code",
        description="Counts an attempt. `valid` tells whether the code was right; a wrong code "
        "leaves the verification pending until its attempts run out.",
        response_model=vs.CheckOut,
        responses={**_ERRORS, **_CLOSED},
        openapi_extra=_body(vs.CheckIn),
    )
    async def check(request: Request, service_id: str, verification_id: str) -> Response:
        principal = await authenticate(request)
        payload = parse_model(vs.CheckIn, await body_of(request))
        result = await verify.check(
            principal.account_id, service_id, payload.code, verification_id=verification_id
        )
        return _json(
            {"valid": result.valid, "verification": vs.verification_json(result.verification)}
        )

    @router.post(
        "/services/{service_id}/check",
        summary="Check a code by number",
        description="As the check of a verification, for the number's newest verification.",
        response_model=vs.CheckOut,
        responses={**_ERRORS, **_CLOSED},
        openapi_extra=_body(vs.CheckIn),
    )
    async def check_by_number(request: Request, service_id: str) -> Response:
        principal = await authenticate(request)
        payload = parse_model(vs.CheckIn, await body_of(request))
        result = await verify.check(principal.account_id, service_id, payload.code, to=payload.to)
        return _json(
            {"valid": result.valid, "verification": vs.verification_json(result.verification)}
        )

    @router.post(
        "/services/{service_id}/verifications/{verification_id}/cancel",
        summary="Cancel a pending verification",
        response_model=vs.VerificationOut,
        responses={**_ERRORS, **_CLOSED},
    )
    async def cancel(request: Request, service_id: str, verification_id: str) -> Response:
        principal = await authenticate(request)
        canceled = await verify.cancel(principal.account_id, service_id, verification_id)
        return _json(vs.verification_json(canceled))

    return router
