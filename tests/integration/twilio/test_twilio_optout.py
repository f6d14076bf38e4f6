"""The official twilio client against an opted-out destination: error 21610, nothing sent, on
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from tests.integration.twilio.conftest import TwilioAccount
from twilio.base.exceptions import TwilioRestException

TO = "+14155550177"


async def test_an_opted_out_destination_is_21610_until_the_opt_out_is_removed(
    account: TwilioAccount,
) -> None:
    optouts = account.api.services.optouts
    await optouts.add(account.sid, TO, from_=account.sender)
    client = account.client()
    with pytest.raises(TwilioRestException) as raised:
        await asyncio.to_thread(client.messages.create, to=TO, from_=account.sender, body="sale")
    assert (raised.value.code, raised.value.status) == (21610, 400)
    listed = await asyncio.to_thread(client.messages.list, to=TO)
    assert listed == []  # nothing was stored, nothing will be sent
    await optouts.remove(account.sid, TO, from_=account.sender)
    sent = await asyncio.to_thread(client.messages.create, to=TO, from_=account.sender, body="hi")
    assert sent.status == "queued"
