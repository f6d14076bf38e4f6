"""``/2010-04-01/Accounts/{account_sid}/Messages``: send, list, fetch, redact, cancel.

The same MessageService as ``/v1/messages``: a message sent here is the same row, with the same
``SM`` id, as one sent natively. ``StatusCallback`` URLs given here are marked so their
callbacks go out in Twilio's form (see :mod:`marconi.twilio.webhook`).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time, timedelta

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from marconi.errors import NotFound, ValidationError
from marconi.services import SendRequest, Services
from marconi.services.message import VALIDITY_MAX
from marconi.services.messaging_service import MessagingServices
from marconi.services.number import check_url
from marconi.store import ids
from marconi.store.model import Direction, Message, MessageStatus
from marconi.twilio.auth import TwilioAuth
from marconi.twilio.errors import TwilioError
from marconi.twilio.form import Form, parse_datetime, read_form
from marconi.twilio.magic import check_magic
from marconi.twilio.paging import PageRequest, page_envelope
from marconi.twilio.response import json_response
from marconi.twilio.shape import PREFIX, message_json
from marconi.twilio.webhook import mark

__all__ = ["messages_routes"]

IDEMPOTENCY_HEADER = "i-twilio-idempotency-token"


def _day_or_time(value: str, field: str) -> tuple[datetime, bool]:
    """A ``YYYY-MM-DD`` day (True) or a date-time (False), as Twilio's DateSent filters take."""
    text = value.strip()
    if len(text) == 10:
        try:
            day = datetime.strptime(text, "%Y-%m-%d").date()
        except ValueError:
            pass
        else:
            return datetime.combine(day, time(), tzinfo=UTC), True
    return parse_datetime(text, field=field), False


def _date_filters(query: Form) -> tuple[datetime | None, datetime | None]:
    """``DateSent``, ``DateSent<`` and ``DateSent>`` as [after, before) bounds on creation."""
    after: datetime | None = None
    before: datetime | None = None
    exact = query.text("DateSent")
    if exact is not None:  # a day, whatever the time given with it (clients send midnight)
        start, _ = _day_or_time(exact, "DateSent")
        after = datetime.combine(start.astimezone(UTC).date(), time(), tzinfo=UTC)
        before = after + timedelta(days=1)
    upper = query.text("DateSent<")
    if upper is not None:
        end, is_day = _day_or_time(upper, "DateSent<")
        before = end + timedelta(days=1) if is_day else end  # a day is inclusive
    lower = query.text("DateSent>")
    if lower is not None:
        after, _ = _day_or_time(lower, "DateSent>")
    return after, before


def _send_request(form: Form, idempotency_key: str | None) -> SendRequest:
    to = form.text("To")
    from_ = form.text("From")
    if to is None:
        raise TwilioError(400, 21604, "A 'To' phone number is required.")
    if from_ is None and form.text("MessagingServiceSid") is None:
        raise TwilioError(400, 21603, "A 'From' phone number is required.")
    body = form.get("Body") or ""
    if not body.strip():
        detail = " (media messages are not supported)" if "MediaUrl" in form else ""
        raise TwilioError(400, 21602, f"Message body is required{detail}.")
    send_at = form.time("SendAt")
    schedule_type = form.text("ScheduleType")
    if (send_at is None) != (schedule_type is None) or schedule_type not in (None, "fixed"):
        raise TwilioError(
            400, 35111, "SendAt and ScheduleType=fixed go together to schedule a message."
        )
    callback = form.text("StatusCallback")
    if callback is not None:
        callback = mark(check_url(callback, field="StatusCallback"))
    return SendRequest(
        to=to,
        from_=from_,
        body=body,
        status_callback=callback,
        validity_period=form.integer("ValidityPeriod", low=1, high=VALIDITY_MAX),
        send_at=send_at,
        smart_encoding=form.boolean("SmartEncoded"),
        idempotency_key=idempotency_key,
    )


async def _through_service(
    pools: MessagingServices | None, account_sid: str, service_sid: str, send: SendRequest
) -> SendRequest:
    """``send`` from the service's pool (unless it names a From), with the service's status
    callback and validity period where it gives none, marked with the service's SID."""
    if pools is None:
        raise TwilioError(400, 21705, "Messaging services need a SQL store.")
    try:
        if send.from_ is None:
            service, sender = await pools.pick_sender(account_sid, service_sid, send.to)
        else:
            service, sender = await pools.get(account_sid, service_sid), send.from_
    except NotFound:
        raise TwilioError(
            400, 21705, f"The Messaging Service Sid {service_sid} is invalid."
        ) from None
    return dataclasses.replace(
        send,
        from_=sender,
        status_callback=send.status_callback or service.status_callback,
        validity_period=send.validity_period or service.validity_period,
        metadata={**send.metadata, "messaging_service_sid": service.id},
    )


def _test_message(account_sid: str, request: SendRequest) -> Message:
    """The answer to a send from the test number: a queued message that is never stored."""
    now = datetime.now(UTC)
    return Message(
        id=ids.new_id(ids.MESSAGE),
        account_id=account_sid,
        direction=Direction.OUTBOUND,
        from_addr=request.from_ or "",
        to_addr=request.to,
        body=request.body,
        status=MessageStatus.QUEUED,
        encoding="auto",
        segments=1,
        data_coding=None,
        priority=0,
        send_at=None,
        expires_at=None,
        next_attempt_at=None,
        attempts=0,
        connector=None,
        error_code=None,
        error_message=None,
        status_callback=None,
        metadata={},
        event_seq=1,
        created_at=now,
        updated_at=now,
        sent_at=None,
        done_at=None,
        redacted_at=None,
        claimed_by=None,
        claimed_at=None,
        price=None,
        price_unit=None,
    )


def messages_routes(
    router: APIRouter,
    services: Services,
    auth: TwilioAuth,
    *,
    pools: MessagingServices | None,
    max_body_bytes: int,
) -> None:
    messages = services.messages
    base = "/Accounts/{account_sid}/Messages"

    @router.post(f"{base}.json", status_code=201, summary="Send a message")
    async def create_message(request: Request, account_sid: str) -> Response:
        caller = await auth.for_account(request, account_sid)
        form = await read_form(request, max_bytes=max_body_bytes)
        send = _send_request(form, request.headers.get(IDEMPOTENCY_HEADER))
        if check_magic(send.to, send.from_):
            return json_response(message_json(_test_message(caller.account_sid, send)), 201)
        service_sid = form.text("MessagingServiceSid")
        if service_sid is not None:
            send = await _through_service(pools, caller.account_sid, service_sid, send)
        message = await messages.send(caller.account_sid, send)
        return json_response(message_json(message), 201)

    @router.get(f"{base}.json", summary="List messages, newest first")
    async def list_messages(request: Request, account_sid: str) -> Response:
        caller = await auth.for_account(request, account_sid)
        query = Form.from_query(request.url.query)
        paging = PageRequest.of(query)
        after, before = _date_filters(query)
        page = await messages.list_messages(
            caller.account_sid,
            to=query.text("To"),
            from_=query.text("From"),
            created_after=after,
            created_before=before,
            limit=paging.page_size,
            cursor=paging.token,
        )
        filters = {
            name: value
            for name in ("To", "From", "DateSent", "DateSent<", "DateSent>")
            if (value := query.text(name)) is not None
        }
        return json_response(
            page_envelope(
                "messages",
                [message_json(m) for m in page.items],
                path=f"{PREFIX}/Accounts/{caller.account_sid}/Messages.json",
                filters=filters,
                request=paging,
                next_token=page.next_cursor,
            )
        )

    @router.get(f"{base}/{{message_sid}}.json", summary="Fetch a message")
    async def fetch_message(request: Request, account_sid: str, message_sid: str) -> Response:
        caller = await auth.for_account(request, account_sid)
        return json_response(
            message_json(await messages.get_message(caller.account_sid, message_sid))
        )

    @router.post(f"{base}/{{message_sid}}.json", summary="Redact (Body='') or cancel a message")
    async def update_message(request: Request, account_sid: str, message_sid: str) -> Response:
        caller = await auth.for_account(request, account_sid)
        form = await read_form(request, max_bytes=max_body_bytes)
        status = form.text("Status")
        if status is not None:
            if status != "canceled":
                raise ValidationError(
                    f"Status can only be set to canceled, not {status!r}",
                    code="invalid_value",
                    field="Status",
                )
            message = await messages.cancel(caller.account_sid, message_sid)
        elif form.get("Body") == "":
            message = await messages.redact(caller.account_sid, message_sid)
        else:
            raise ValidationError(
                "send Body='' to redact the message or Status=canceled to cancel it",
                code="invalid_value",
                field="Body",
            )
        return json_response(message_json(message))

    @router.delete(f"{base}/{{message_sid}}.json", status_code=204, summary="Erase a message")
    async def delete_message(request: Request, account_sid: str, message_sid: str) -> Response:
        caller = await auth.for_account(request, account_sid)
        await messages.redact(caller.account_sid, message_sid)
        return Response(status_code=204)
