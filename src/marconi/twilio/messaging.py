"""Twilio's Messaging Services API (``messaging.twilio.com/v1/Services``), served at
``/v1/Services`` so a client whose messaging domain points at Marconi works unchanged.

``MessagingServiceSid`` on ``…/Messages.json`` sends from the service's pool (see
:mod:`marconi.services.messaging_service`). Dates here are ISO 8601, as in Twilio's v1 APIs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from marconi.services.messaging_service import (
    VALIDITY_MAX,
    MessagingServices,
    PoolNumber,
    ServiceSettings,
)
from marconi.services.number import check_url
from marconi.store.messaging_service import MessagingService
from marconi.twilio.auth import TwilioAuth
from marconi.twilio.errors import TwilioError
from marconi.twilio.form import Form, read_form
from marconi.twilio.paging import PageRequest, meta_envelope
from marconi.twilio.response import json_response
from marconi.twilio.route import TwilioRoute
from marconi.twilio.webhook import mark, unmark

__all__ = ["messaging_router"]

PREFIX: Final = "/v1/Services"


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def service_json(service: MessagingService) -> dict[str, object]:
    url = f"{PREFIX}/{service.id}"
    return {
        "sid": service.id,
        "account_sid": service.account_id,
        "friendly_name": service.friendly_name,
        "date_created": _iso(service.created_at),
        "date_updated": _iso(service.updated_at),
        "inbound_request_url": unmark(service.inbound_request_url),
        "inbound_method": service.inbound_method,
        "fallback_url": None,
        "fallback_method": "POST",
        "status_callback": unmark(service.status_callback),
        "sticky_sender": service.sticky_sender,
        "mms_converter": False,
        "smart_encoding": False,
        "scan_message_content": "inherit",
        "fallback_to_long_code": False,
        "area_code_geomatch": False,
        "synchronous_validation": False,
        "validity_period": service.validity_period or VALIDITY_MAX,
        "use_inbound_webhook_on_number": service.use_inbound_webhook_on_number,
        "usecase": "undeclared",
        "us_app_to_person_registered": False,
        "url": url,
        "links": {"phone_numbers": f"{url}/PhoneNumbers"},
    }


def pool_number_json(entry: PoolNumber) -> dict[str, object]:
    number = entry.number
    return {
        "sid": number.id,
        "account_sid": number.account_id,
        "service_sid": entry.service_id,
        "date_created": _iso(entry.joined_at),
        "date_updated": _iso(entry.joined_at),
        "phone_number": number.value,
        "country_code": None,
        "capabilities": ["SMS"],
        "url": f"{PREFIX}/{entry.service_id}/PhoneNumbers/{number.id}",
    }


def _url(form: Form, name: str, current: str | None) -> str | None:
    if name not in form:
        return current
    value = form.text(name)
    return None if value is None else mark(check_url(value, field=name))


def _settings(form: Form, current: MessagingService | None = None) -> ServiceSettings:
    """The settings a create (``current`` None) or an update asks for; what it leaves out
    stays as it was (or takes the default)."""
    was = ServiceSettings() if current is None else _as_settings(current)
    return ServiceSettings(
        friendly_name=form.text("FriendlyName") or was.friendly_name,
        status_callback=_url(form, "StatusCallback", was.status_callback),
        inbound_request_url=_url(form, "InboundRequestUrl", was.inbound_request_url),
        inbound_method=(form.text("InboundMethod") or was.inbound_method).upper(),
        use_inbound_webhook_on_number=form.boolean(
            "UseInboundWebhookOnNumber", was.use_inbound_webhook_on_number
        ),
        sticky_sender=form.boolean("StickySender", was.sticky_sender),
        validity_period=(
            form.integer("ValidityPeriod", low=1, high=VALIDITY_MAX) or was.validity_period
        ),
    )


def _as_settings(service: MessagingService) -> ServiceSettings:
    return ServiceSettings(
        friendly_name=service.friendly_name,
        status_callback=service.status_callback,
        inbound_request_url=service.inbound_request_url,
        inbound_method=service.inbound_method,
        use_inbound_webhook_on_number=service.use_inbound_webhook_on_number,
        sticky_sender=service.sticky_sender,
        validity_period=service.validity_period,
    )


def messaging_router(
    pools: MessagingServices | None, auth: TwilioAuth, *, max_body_bytes: int
) -> APIRouter:
    router = APIRouter(prefix=PREFIX, route_class=TwilioRoute, tags=["twilio"])

    def available() -> MessagingServices:
        if pools is None:
            raise TwilioError(404, 20404, "Messaging services need a SQL store.")
        return pools

    @router.post("", status_code=201, summary="Create a messaging service")
    async def create_service(request: Request) -> Response:
        principal = await auth(request)
        form = await read_form(request, max_bytes=max_body_bytes)
        service = await available().create(principal.account_id, _settings(form))
        return json_response(service_json(service), 201)

    @router.get("", summary="The account's messaging services")
    async def list_services(request: Request) -> Response:
        principal = await auth(request)
        paging = PageRequest.of(Form.from_query(request.url.query))
        items = await available().list_services(principal.account_id)
        body = [service_json(s) for s in items]
        return json_response(meta_envelope("services", body, url=PREFIX, request=paging))

    @router.get("/{service_sid}", summary="Fetch a messaging service")
    async def fetch_service(request: Request, service_sid: str) -> Response:
        principal = await auth(request)
        return json_response(service_json(await available().get(principal.account_id, service_sid)))

    @router.post("/{service_sid}", summary="Update a messaging service")
    async def update_service(request: Request, service_sid: str) -> Response:
        principal = await auth(request)
        form = await read_form(request, max_bytes=max_body_bytes)
        current = await available().get(principal.account_id, service_sid)
        service = await available().update(
            principal.account_id, service_sid, _settings(form, current)
        )
        return json_response(service_json(service))

    @router.delete("/{service_sid}", status_code=204, summary="Delete a messaging service")
    async def delete_service(request: Request, service_sid: str) -> Response:
        principal = await auth(request)
        await available().delete(principal.account_id, service_sid)
        return Response(status_code=204)

    @router.post("/{service_sid}/PhoneNumbers", status_code=201, summary="Add a number to the pool")
    async def add_number(request: Request, service_sid: str) -> Response:
        principal = await auth(request)
        form = await read_form(request, max_bytes=max_body_bytes)
        number_sid = form.text("PhoneNumberSid")
        if number_sid is None:
            raise TwilioError(400, 21421, "PhoneNumberSid is required.")
        entry = await available().add_number(principal.account_id, service_sid, number_sid)
        return json_response(pool_number_json(entry), 201)

    @router.get("/{service_sid}/PhoneNumbers", summary="The pool's numbers")
    async def list_numbers(request: Request, service_sid: str) -> Response:
        principal = await auth(request)
        paging = PageRequest.of(Form.from_query(request.url.query))
        pool = await available().numbers(principal.account_id, service_sid)
        body = [pool_number_json(p) for p in pool]
        url = f"{PREFIX}/{service_sid}/PhoneNumbers"
        return json_response(meta_envelope("phone_numbers", body, url=url, request=paging))

    @router.get("/{service_sid}/PhoneNumbers/{number_sid}", summary="One number of the pool")
    async def fetch_number(request: Request, service_sid: str, number_sid: str) -> Response:
        principal = await auth(request)
        pool = await available().numbers(principal.account_id, service_sid)
        for entry in pool:
            if entry.number.id == number_sid:
                return json_response(pool_number_json(entry))
        raise TwilioError(
            404, 20404, f"number {number_sid} is not in messaging service {service_sid}"
        )

    @router.delete(
        "/{service_sid}/PhoneNumbers/{number_sid}", status_code=204, summary="Remove a number"
    )
    async def remove_number(request: Request, service_sid: str, number_sid: str) -> Response:
        principal = await auth(request)
        await available().remove_number(principal.account_id, service_sid, number_sid)
        return Response(status_code=204)

    return router
