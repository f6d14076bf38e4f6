"""``/2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers``: the account's senders, with
``SmsUrl``/``SmsMethod`` (inbound messages) and ``StatusCallback`` in Twilio's form.

Creating one registers a number the account already holds with its carrier (nothing is bought).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from marconi.services import Services
from marconi.services.number import check_url
from marconi.store.model import Unset
from marconi.twilio.auth import TwilioAuth
from marconi.twilio.errors import TwilioError
from marconi.twilio.form import Form, read_form
from marconi.twilio.paging import PageRequest, page_envelope
from marconi.twilio.response import json_response
from marconi.twilio.shape import PREFIX, number_json
from marconi.twilio.webhook import mark

__all__ = ["numbers_routes"]


def _url(form: Form, name: str) -> str | Unset | None:
    """A marked URL; None to clear it (an empty value); UNSET when the parameter is absent."""
    if name not in form:
        return Unset.UNSET
    value = form.text(name)
    return None if value is None else mark(check_url(value, field=name))


def numbers_routes(
    router: APIRouter, services: Services, auth: TwilioAuth, *, max_body_bytes: int
) -> None:
    numbers = services.numbers
    base = "/Accounts/{account_sid}/IncomingPhoneNumbers"

    @router.get(f"{base}.json", summary="The account's numbers")
    async def list_numbers(request: Request, account_sid: str) -> Response:
        caller = await auth.for_account(request, account_sid)
        query = Form.from_query(request.url.query)
        paging = PageRequest.of(query)
        wanted = query.text("PhoneNumber")
        items = [
            n
            for n in await numbers.list_numbers(caller.account_sid)
            if wanted is None or n.value == wanted
        ]
        return json_response(
            page_envelope(
                "incoming_phone_numbers",
                [number_json(n) for n in items],
                path=f"{PREFIX}/Accounts/{caller.account_sid}/IncomingPhoneNumbers.json",
                filters={} if wanted is None else {"PhoneNumber": wanted},
                request=paging,
                next_token=None,
            )
        )

    @router.post(f"{base}.json", status_code=201, summary="Register a number")
    async def create_number(request: Request, account_sid: str) -> Response:
        caller = await auth.for_account(request, account_sid)
        form = await read_form(request, max_bytes=max_body_bytes)
        value = form.text("PhoneNumber")
        if value is None:
            raise TwilioError(400, 21421, "PhoneNumber is required.")
        sms_url = _url(form, "SmsUrl")
        callback = _url(form, "StatusCallback")
        number = await numbers.add_number(
            caller.account_sid,
            value,
            inbound_webhook_url=None if isinstance(sms_url, Unset) else sms_url,
            inbound_webhook_method=form.text("SmsMethod") or "POST",
            status_callback_url=None if isinstance(callback, Unset) else callback,
        )
        return json_response(number_json(number), 201)

    @router.get(f"{base}/{{number_sid}}.json", summary="Fetch a number")
    async def fetch_number(request: Request, account_sid: str, number_sid: str) -> Response:
        caller = await auth.for_account(request, account_sid)
        return json_response(number_json(await numbers.get_number(caller.account_sid, number_sid)))

    @router.post(f"{base}/{{number_sid}}.json", summary="Change a number's webhooks")
    async def update_number(request: Request, account_sid: str, number_sid: str) -> Response:
        caller = await auth.for_account(request, account_sid)
        form = await read_form(request, max_bytes=max_body_bytes)
        method = form.text("SmsMethod")
        number = await numbers.update_number(
            caller.account_sid,
            number_sid,
            inbound_webhook_url=_url(form, "SmsUrl"),
            inbound_webhook_method=Unset.UNSET if method is None else method,
            status_callback_url=_url(form, "StatusCallback"),
        )
        return json_response(number_json(number))

    @router.delete(f"{base}/{{number_sid}}.json", status_code=204, summary="Remove a number")
    async def delete_number(request: Request, account_sid: str, number_sid: str) -> Response:
        caller = await auth.for_account(request, account_sid)
        await numbers.remove_number(caller.account_sid, number_sid)
        return Response(status_code=204)
