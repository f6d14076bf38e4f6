"""Verify v2 with the official ``twilio`` client pointed at a real server (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from tests.integration.api.conftest import pg_schema, sqlite_template, start_api
from tests.integration.twilio.conftest import TwilioAccount, account
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

__all__ = ["account", "pg_schema", "sqlite_template", "start_api"]


def verify_client(acct: TwilioAccount) -> Client:
    client = acct.client()
    client.verify.base_url = acct.api.url
    return client


async def code_sent_to(acct: TwilioAccount, to: str) -> str:
    page = await acct.api.services.messages.list_messages(acct.sid, to=to, limit=1)
    body = page.items[0].body
    assert body is not None
    found = re.search(r"\d{4,10}", body)
    assert found is not None
    return found.group(0)


async def test_send_and_check_with_the_twilio_client(account: TwilioAccount) -> None:
    client = verify_client(account)
    v2 = client.verify.v2
    service = await asyncio.to_thread(v2.services.create, friendly_name="Acme", code_length=7)
    assert service.sid.startswith("VA")
    assert service.code_length == 7
    fetched = await asyncio.to_thread(v2.services(service.sid).fetch)
    assert fetched.friendly_name == "Acme"

    to = "+447700900123"
    verification = await asyncio.to_thread(
        v2.services(service.sid).verifications.create, to=to, channel="sms"
    )
    assert (verification.status, verification.to, verification.channel) == ("pending", to, "sms")
    code = await code_sent_to(account, to)
    assert len(code) == 7

    wrong = str((int(code) + 1) % 10**7).zfill(7)
    bad = await asyncio.to_thread(
        v2.services(service.sid).verification_checks.create, to=to, code=wrong
    )
    assert (bad.status, bad.valid) == ("pending", False)
    good = await asyncio.to_thread(
        v2.services(service.sid).verification_checks.create,
        verification_sid=verification.sid,
        code=code,
    )
    assert (good.status, good.valid) == ("approved", True)
    with pytest.raises(TwilioRestException) as closed:
        await asyncio.to_thread(
            v2.services(service.sid).verification_checks.create, to=to, code=code
        )
    assert (closed.value.status, closed.value.code) == (404, 20404)
    again = await asyncio.to_thread(v2.services(service.sid).verifications(verification.sid).fetch)
    assert again.status == "approved"


async def test_cancel_and_refusals_in_twilios_codes(account: TwilioAccount) -> None:
    client = verify_client(account)
    v2 = client.verify.v2
    service = await asyncio.to_thread(v2.services.create, friendly_name="Acme")
    verifications = v2.services(service.sid).verifications
    first = await asyncio.to_thread(verifications.create, to="+447700900123", channel="sms")
    canceled = await asyncio.to_thread(verifications(first.sid).update, status="canceled")
    assert canceled.status == "canceled"

    for _ in range(5):  # max_sends: 5 codes to one number an hour, resends included
        await asyncio.to_thread(verifications.create, to="+447700901124", channel="sms")
    with pytest.raises(TwilioRestException) as too_many:
        await asyncio.to_thread(verifications.create, to="+447700901124", channel="sms")
    assert (too_many.value.status, too_many.value.code) == (429, 60203)

    # The guard's other limits are set through the native API; this face enforces them.
    async with httpx.AsyncClient(
        base_url=account.api.url, auth=(account.sid, account.auth_token)
    ) as native:
        changed = await native.patch(
            f"/v1/verify/services/{service.sid}",
            json={"prefix_limit": 1, "allowed_countries": ["GB"]},
        )
        assert changed.status_code == 200, changed.text
    with pytest.raises(TwilioRestException) as pumping:
        await asyncio.to_thread(verifications.create, to="+447700900999", channel="sms")
    assert (pumping.value.status, pumping.value.code) == (403, 60410)
    with pytest.raises(TwilioRestException) as abroad:
        await asyncio.to_thread(verifications.create, to="+15550100123", channel="sms")
    assert (abroad.value.status, abroad.value.code) == (403, 60605)

    with pytest.raises(TwilioRestException) as voice:
        await asyncio.to_thread(verifications.create, to="+447700902125", channel="call")
    assert (voice.value.status, voice.value.code) == (400, 60200)
    with pytest.raises(TwilioRestException) as bad_to:
        await asyncio.to_thread(verifications.create, to="12", channel="sms")
    assert bad_to.value.code == 60200
    with pytest.raises(TwilioRestException) as bad_length:
        await asyncio.to_thread(v2.services.create, friendly_name="x", code_length=3)
    assert bad_length.value.code == 60200


async def test_another_account_sees_nothing(account: TwilioAccount) -> None:
    v2 = verify_client(account).verify.v2
    service = await asyncio.to_thread(v2.services.create, friendly_name="Acme")
    first = await asyncio.to_thread(
        v2.services(service.sid).verifications.create, to="+447700900123", channel="sms"
    )
    admin = await account.api.services.accounts.admin_account()
    other, _ = await account.api.services.accounts.create_subaccount(admin.id, name="other")
    stranger = TwilioAccount(
        api=account.api, sid=other.account.id, auth_token=other.auth_token, sender=account.sender
    )
    theirs = verify_client(stranger).verify.v2.services(service.sid)
    for call, kwargs in (
        (theirs.fetch, {}),
        (theirs.verifications(first.sid).fetch, {}),
        (theirs.verifications.create, {"to": "+447700900123", "channel": "sms"}),
        (theirs.verification_checks.create, {"verification_sid": first.sid, "code": "123456"}),
    ):
        with pytest.raises(TwilioRestException) as hidden:
            await asyncio.to_thread(call, **kwargs)
        assert (hidden.value.status, hidden.value.code) == (404, 20404)
    listed = await asyncio.to_thread(verify_client(stranger).verify.v2.services.list)
    assert listed == []
