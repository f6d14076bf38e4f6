"""Twilio's Verify v2 (``verify.twilio.com/v2/Services``), served at ``/v2/Services`` over the same
:class:`~marconi.verify.VerificationService` as the native ``/v1/verify``, so a client whose
verify domain points at Marconi works unchanged.

Services, Verifications (SMS only) and VerificationCheck; parameters we do not implement are
accepted and ignored. Refusals come in Twilio's envelope with Verify's codes: 60200 invalid
parameter, 60202 max check attempts, 60203 max send attempts, 60410 fraud guard, 60605 country
not allowed; a check of a verification that is no longer pending is 20404, as on Twilio.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from marconi.errors import ValidationError
from marconi.store.verify_model import BlockReason, Verification, VerificationStatus, VerifyService
from marconi.twilio.auth import TwilioAuth
from marconi.twilio.errors import TwilioError
from marconi.twilio.form import Form, read_form
from marconi.twilio.paging import PageRequest, meta_envelope
from marconi.twilio.response import json_response
from marconi.twilio.route import TwilioRoute
from marconi.verify import (
    ServiceSettings,
    VerificationBlocked,
    VerificationClosed,
    VerificationService,
)

__all__ = ["verify_v2_router"]

PREFIX: Final = "/v2/Services"
_INVALID: Final = 60200
_BLOCKED: Final = {
    BlockReason.COUNTRY_NOT_ALLOWED: (403, 60605),
    BlockReason.DESTINATION_LIMIT: (429, 60203),
    BlockReason.PREFIX_LIMIT: (403, 60410),
    BlockReason.COUNTRY_LIMIT: (403, 60410),
}


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def service_json(service: VerifyService) -> dict[str, object]:
    url = f"{PREFIX}/{service.id}"
    return {
        "sid": service.id,
        "account_sid": service.account_id,
        "friendly_name": service.name,
        "code_length": service.code_length,
        "lookup_enabled": False,
        "psd2_enabled": False,
        "skip_sms_to_landlines": False,
        "dtmf_input_required": False,
        "tts_name": None,
        "do_not_share_warning_enabled": False,
        "custom_code_enabled": False,
        "push": {},
        "totp": {},
        "default_template_sid": None,
        "whatsapp": {},
        "verify_event_subscription_enabled": False,
        "date_created": _iso(service.created_at),
        "date_updated": _iso(service.updated_at),
        "url": url,
        "links": {
            "verifications": f"{url}/Verifications",
            "verification_checks": f"{url}/VerificationCheck",
        },
    }


def _status(verification: Verification) -> str:
    return verification.status.value


def verification_json(verification: Verification) -> dict[str, object]:
    return {
        "sid": verification.id,
        "service_sid": verification.service_id,
        "account_sid": verification.account_id,
        "to": verification.to_addr,
        "channel": "sms",
        "status": _status(verification),
        "valid": verification.status is VerificationStatus.APPROVED,
        "lookup": {},
        "amount": None,
        "payee": None,
        "send_code_attempts": [
            {
                "attempt_sid": verification.message_id,
                "channel": "sms",
                "time": _iso(verification.updated_at),
            }
        ],
        "date_created": _iso(verification.created_at),
        "date_updated": _iso(verification.updated_at),
        "sna": None,
        "url": f"{PREFIX}/{verification.service_id}/Verifications/{verification.id}",
    }


def check_json(verification: Verification, valid: bool) -> dict[str, object]:
    return {
        "sid": verification.id,
        "service_sid": verification.service_id,
        "account_sid": verification.account_id,
        "to": verification.to_addr,
        "channel": "sms",
        "status": _status(verification),
        "valid": valid,
        "amount": None,
        "payee": None,
        "date_created": _iso(verification.created_at),
        "date_updated": _iso(verification.updated_at),
        "sna_attempts_error_codes": [],
    }


def _settings(form: Form) -> ServiceSettings:
    return ServiceSettings(
        name=form.text("FriendlyName"),
        code_length=form.integer("CodeLength", low=0, high=100),
    )


def _invalid(exc: ValidationError) -> TwilioError:
    return TwilioError(400, _INVALID, f"Invalid parameter {exc.field or ''}: {exc.message}")


def verify_v2_router(
    verify: VerificationService, auth: TwilioAuth, *, max_body_bytes: int
) -> APIRouter:
    router = APIRouter(prefix=PREFIX, route_class=TwilioRoute, tags=["twilio verify"])

    @router.post("", status_code=201, summary="Create a verify service")
    async def create_service(request: Request) -> Response:
        principal = await auth(request)
        form = await read_form(request, max_bytes=max_body_bytes)
        try:
            service = await verify.create_service(principal.account_id, _settings(form))
        except ValidationError as exc:
            raise _invalid(exc) from None
        return json_response(service_json(service), 201)

    @router.get("", summary="The account's verify services")
    async def list_services(request: Request) -> Response:
        principal = await auth(request)
        paging = PageRequest.of(Form.from_query(request.url.query))
        items = [service_json(s) for s in await verify.list_services(principal.account_id)]
        return json_response(meta_envelope("services", items, url=PREFIX, request=paging))

    @router.get("/{service_sid}", summary="Fetch a verify service")
    async def fetch_service(request: Request, service_sid: str) -> Response:
        principal = await auth(request)
        return json_response(
            service_json(await verify.get_service(principal.account_id, service_sid))
        )

    @router.post("/{service_sid}", summary="Update a verify service")
    async def update_service(request: Request, service_sid: str) -> Response:
        principal = await auth(request)
        form = await read_form(request, max_bytes=max_body_bytes)
        try:
            service = await verify.update_service(
                principal.account_id, service_sid, _settings(form)
            )
        except ValidationError as exc:
            raise _invalid(exc) from None
        return json_response(service_json(service))

    @router.post("/{service_sid}/Verifications", status_code=201, summary="Send a code")
    async def start(request: Request, service_sid: str) -> Response:
        principal = await auth(request)
        form = await read_form(request, max_bytes=max_body_bytes)
        to = form.text("To")
        if to is None:
            raise TwilioError(400, _INVALID, "Invalid parameter: To")
        channel = (form.text("Channel") or "").lower()
        if channel != "sms":
            raise TwilioError(400, _INVALID, "Invalid parameter: Channel (only sms is offered)")
        try:
            started = await verify.start(principal.account_id, service_sid, to)
        except VerificationBlocked as exc:
            status, code = _BLOCKED[exc.reason]
            raise TwilioError(status, code, str(exc)) from None
        except ValidationError as exc:
            if exc.field == "to":
                raise TwilioError(400, _INVALID, f"Invalid parameter `To`: {to}") from None
            raise
        return json_response(verification_json(started.verification), 201)

    @router.get("/{service_sid}/Verifications/{sid}", summary="Fetch a verification")
    async def fetch(request: Request, service_sid: str, sid: str) -> Response:
        principal = await auth(request)
        found = await verify.get(principal.account_id, service_sid, sid)
        return json_response(verification_json(found))

    @router.post("/{service_sid}/Verifications/{sid}", summary="Cancel a verification")
    async def update(request: Request, service_sid: str, sid: str) -> Response:
        principal = await auth(request)
        form = await read_form(request, max_bytes=max_body_bytes)
        if form.text("Status") != "canceled":
            raise TwilioError(400, _INVALID, "Invalid parameter: Status (only canceled)")
        try:
            canceled = await verify.cancel(principal.account_id, service_sid, sid)
        except VerificationClosed:
            raise TwilioError(404, 20404, "The requested resource was not found") from None
        return json_response(verification_json(canceled))

    @router.post("/{service_sid}/VerificationCheck", summary="Check a code")
    async def check(request: Request, service_sid: str) -> Response:
        principal = await auth(request)
        form = await read_form(request, max_bytes=max_body_bytes)
        code = form.text("Code")
        if code is None:
            raise TwilioError(400, _INVALID, "Invalid parameter: Code")
        sid, to = form.text("VerificationSid"), form.text("To")
        if sid is None and to is None:
            raise TwilioError(400, _INVALID, "Either a 'To' or 'VerificationSid' must be specified")
        try:
            result = await verify.check(
                principal.account_id, service_sid, code, verification_id=sid, to=to
            )
        except VerificationClosed as exc:
            if exc.verification.status is VerificationStatus.MAX_ATTEMPTS_REACHED:
                raise TwilioError(429, 60202, "Max check attempts reached") from None
            raise TwilioError(404, 20404, "The requested resource was not found") from None
        except ValidationError as exc:
            raise _invalid(exc) from None
        return json_response(check_json(result.verification, result.valid))

    return router
