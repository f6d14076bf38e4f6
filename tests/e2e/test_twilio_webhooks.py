"""Webhooks in Twilio's form, end to end: a message sent through the compatible API with the
official client gets its status callbacks as signed form posts, and a number configured with an
SmsUrl gets inbound messages the same way; its TwiML answer is sent back to the handset. Every
request is checked with the twilio package's own RequestValidator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from tests.e2e.harness import Hook, Service, WebhookReceiver, running, settings_for
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    r = WebhookReceiver()
    await r.start()
    yield r
    await r.aclose()


def admin_client(svc: Service) -> tuple[Client, str]:
    boot = svc.runtime.bootstrap
    assert boot is not None
    assert boot.auth_token is not None
    http = TwilioHttpClient(timeout=10)
    http.session.trust_env = False
    client = Client(boot.account.id, boot.auth_token, http_client=http)
    client.api.base_url = svc.url
    return client, boot.auth_token


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - the simulator's handsets offer no event
            await asyncio.sleep(0.02)


def params(hook: Hook) -> dict[str, str]:
    return dict(parse_qsl(hook.body.decode(), keep_blank_values=True))


def assert_signed(hook: Hook, url: str, token: str) -> None:
    assert hook.headers["content-type"] == "application/x-www-form-urlencoded"
    signature = hook.headers["x-twilio-signature"]
    assert RequestValidator(token).validate(url, params(hook), signature)
    assert not RequestValidator("another token").validate(url, params(hook), signature)


async def test_status_callbacks_are_signed_form_posts(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    async with running(settings_for(tmp_path)) as svc:
        client, token = admin_client(svc)
        number = await asyncio.to_thread(
            client.incoming_phone_numbers.create, phone_number="+14155550100"
        )
        callback = f"{receiver.url}/status?tenant=7"
        sent = await asyncio.to_thread(
            client.messages.create,
            to="+14155550123",
            from_=number.phone_number,
            body="Hello from Marconi",
            status_callback=callback,
        )
        hook = await receiver.wait_for(lambda h: params(h).get("MessageStatus") == "delivered")
        assert hook.path == "/status?tenant=7"  # the mark never leaves Marconi
        assert_signed(hook, callback, token)
        got = params(hook)
        assert got["MessageSid"] == got["SmsSid"] == sent.sid
        assert got["AccountSid"] == sent.account_sid
        assert (got["From"], got["To"]) == ("+14155550100", "+14155550123")
        assert got["ApiVersion"] == "2010-04-01"
        # every change has its callback; they may arrive in any order
        sent_hook = await receiver.wait_for(lambda h: params(h).get("MessageStatus") == "sent")
        assert_signed(sent_hook, callback, token)
        fetched = await asyncio.to_thread(client.messages(sent.sid).fetch)
        assert fetched.status == "delivered"
        assert fetched.date_sent is not None


async def test_inbound_message_is_signed_and_a_twiml_reply_reaches_the_handset(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    twiml = b'<?xml version="1.0" encoding="UTF-8"?><Response><Message>pong</Message></Response>'
    receiver.answer = lambda hook: (200, "text/xml", twiml)
    async with running(settings_for(tmp_path)) as svc:
        client, token = admin_client(svc)
        sms_url = f"{receiver.url}/sms"
        number = await asyncio.to_thread(
            client.incoming_phone_numbers.create, phone_number="+447700900777", sms_url=sms_url
        )
        assert number.sms_url == sms_url
        assert number.sms_method == "POST"
        await svc.simulator.inject_mo(
            source="447700900123", destination="447700900777", text="ping"
        )
        hook = await receiver.wait_for(lambda h: h.path == "/sms")
        assert_signed(hook, sms_url, token)
        got = params(hook)
        assert (got["From"], got["To"], got["Body"]) == ("+447700900123", "+447700900777", "ping")
        assert got["MessageSid"].startswith("SM")
        assert got["NumMedia"] == "0"
        await until(lambda: any(m.text == "pong" for m in svc.simulator.handset("447700900123")))
        inbound = await asyncio.to_thread(client.messages(got["MessageSid"]).fetch)
        assert inbound.direction == "inbound"
        assert inbound.status == "received"


async def test_failures_carry_twilio_delivery_codes(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    async with running(settings_for(tmp_path)) as svc:
        client, token = admin_client(svc)
        await asyncio.to_thread(client.incoming_phone_numbers.create, phone_number="+14155550100")
        callback = f"{receiver.url}/status"
        # the simulator's magic numbers: two failing receipts, and a refused submit
        sids = {}
        for to in ("+447700900002", "+447700900004", "+447700900001"):
            sent = await asyncio.to_thread(
                client.messages.create,
                to=to,
                from_="+14155550100",
                body="x",
                status_callback=callback,
            )
            sids[to] = sent.sid

        def final(sid: str, status: str) -> Callable[[Hook], bool]:
            return lambda h: params(h)["MessageSid"] == sid and params(h)["MessageStatus"] == status

        undelivered = await receiver.wait_for(final(sids["+447700900002"], "undelivered"))
        assert_signed(undelivered, callback, token)
        assert params(undelivered)["ErrorCode"] == "30005"  # err:001, unknown subscriber
        barred = await receiver.wait_for(final(sids["+447700900004"], "failed"))
        assert params(barred)["ErrorCode"] == "30004"  # REJECTD err:013, call barred
        refused = await receiver.wait_for(final(sids["+447700900001"], "failed"))
        assert params(refused)["ErrorCode"] == "30005"
        fetched = await asyncio.to_thread(client.messages(sids["+447700900001"]).fetch)
        assert fetched.status == "failed"
        assert fetched.error_code == 30005
