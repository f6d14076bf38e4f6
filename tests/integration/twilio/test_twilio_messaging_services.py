"""Messaging services through the official client: a pool of numbers, sticky senders, the
service's defaults on the messages sent through it, and its inbound URL on its numbers."""

from __future__ import annotations

import asyncio

import pytest
from tests.integration.twilio.conftest import TwilioAccount
from twilio.base.exceptions import TwilioRestException


async def test_send_through_a_messaging_service(account: TwilioAccount) -> None:
    client = account.client()
    services = client.messaging.v1.services
    service = await asyncio.to_thread(
        services.create,
        friendly_name="alerts",
        status_callback="https://app.example.com/status",
        inbound_request_url="https://app.example.com/in",
        sticky_sender=True,
        validity_period=600,
    )
    assert service.sid.startswith("MG")
    assert service.sticky_sender is True
    assert service.inbound_request_url == "https://app.example.com/in"
    numbers = await asyncio.to_thread(client.incoming_phone_numbers.list)
    first = numbers[0]
    second = await asyncio.to_thread(
        client.incoming_phone_numbers.create, phone_number="+14155550101"
    )
    pool = services(service.sid).phone_numbers
    for number in (first, second):
        added = await asyncio.to_thread(pool.create, phone_number_sid=number.sid)
        assert added.service_sid == service.sid
    assert {n.sid for n in await asyncio.to_thread(pool.list)} == {first.sid, second.sid}
    # the service's inbound URL now answers for its numbers
    stored = await account.api.services.numbers.get_number(account.sid, second.sid)
    assert stored.inbound_webhook_url == "https://app.example.com/in#twilio"

    senders = set()
    for to in ("+14155550111", "+14155550112", "+14155550113", "+14155550114"):
        sent = await asyncio.to_thread(
            client.messages.create, to=to, messaging_service_sid=service.sid, body="hi"
        )
        assert sent.messaging_service_sid == service.sid
        assert sent.from_ in {"+14155550100", "+14155550101"}
        again = await asyncio.to_thread(
            client.messages.create, to=to, messaging_service_sid=service.sid, body="again"
        )
        assert again.from_ == sent.from_  # sticky
        senders.add(sent.from_)
        native = await account.api.services.messages.get_message(account.sid, sent.sid)
        assert native.status_callback == "https://app.example.com/status#twilio"
        assert native.expires_at is not None
    assert len(senders) >= 1

    renamed = await asyncio.to_thread(services(service.sid).update, friendly_name="urgent")
    assert renamed.friendly_name == "urgent"
    assert renamed.status_callback == "https://app.example.com/status"
    assert [s.sid for s in await asyncio.to_thread(services.list)] == [service.sid]
    assert await asyncio.to_thread(pool(first.sid).delete) is True
    assert [n.sid for n in await asyncio.to_thread(pool.list)] == [second.sid]
    assert await asyncio.to_thread(services(service.sid).delete) is True
    with pytest.raises(TwilioRestException) as raised:
        await asyncio.to_thread(services(service.sid).fetch)
    assert raised.value.code == 20404


async def test_messaging_service_errors(account: TwilioAccount) -> None:
    client = account.client()
    create = client.messages.create
    with pytest.raises(TwilioRestException) as raised:
        await asyncio.to_thread(
            create, to="+14155550111", messaging_service_sid="MG" + "0" * 32, body="x"
        )
    assert raised.value.code == 21705
    empty = await asyncio.to_thread(client.messaging.v1.services.create, friendly_name="empty")
    with pytest.raises(TwilioRestException) as raised:
        await asyncio.to_thread(
            create, to="+14155550111", messaging_service_sid=empty.sid, body="x"
        )
    assert raised.value.code == 21704
    admin = await account.api.services.accounts.admin_account()
    other, _ = await account.api.services.accounts.create_subaccount(admin.id, name="other")
    stranger = account.client(other.account.id, other.auth_token, other.account.id)
    with pytest.raises(TwilioRestException) as raised:
        await asyncio.to_thread(stranger.messaging.v1.services(empty.sid).fetch)
    assert raised.value.code == 20404
    numbers = await asyncio.to_thread(client.incoming_phone_numbers.list)
    theirs = await asyncio.to_thread(stranger.messaging.v1.services.create, friendly_name="x")
    with pytest.raises(TwilioRestException) as raised:  # not their number
        await asyncio.to_thread(
            stranger.messaging.v1.services(theirs.sid).phone_numbers.create,
            phone_number_sid=numbers[0].sid,
        )
    assert raised.value.code == 20404


async def test_a_removed_number_leaves_the_pool(account: TwilioAccount) -> None:
    client = account.client()
    service = await asyncio.to_thread(client.messaging.v1.services.create, friendly_name="p")
    number = await asyncio.to_thread(
        client.incoming_phone_numbers.create, phone_number="+14155550102"
    )
    pool = client.messaging.v1.services(service.sid).phone_numbers
    await asyncio.to_thread(pool.create, phone_number_sid=number.sid)
    assert await asyncio.to_thread(client.incoming_phone_numbers(number.sid).delete) is True
    assert await asyncio.to_thread(pool.list) == []
    with pytest.raises(TwilioRestException) as raised:
        await asyncio.to_thread(
            client.messages.create, to="+14155550111", messaging_service_sid=service.sid, body="x"
        )
    assert raised.value.code == 21704
