"""Accounts, Keys and IncomingPhoneNumbers through the official twilio client; the rate limit
as 20429; and the CLI printing what a Twilio client needs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from tests.integration.api.conftest import StartApi
from tests.integration.twilio.conftest import TwilioAccount
from twilio.base.exceptions import TwilioException, TwilioRestException

from marconi.api import ApiOptions
from marconi.cli.main import main


async def test_subaccounts_are_created_and_sign_in(account: TwilioAccount) -> None:
    client = account.client()
    sub = await asyncio.to_thread(client.api.v2010.accounts.create, friendly_name="shop")
    assert sub.sid.startswith("AC")
    assert sub.owner_account_sid == account.sid
    assert sub.friendly_name == "shop"
    assert sub.status == "active"
    assert sub.auth_token
    own = account.client(sub.sid, sub.auth_token, sub.sid)
    fetched = await asyncio.to_thread(own.api.v2010.accounts(sub.sid).fetch)
    assert fetched.auth_token == sub.auth_token
    listed = await asyncio.to_thread(client.api.v2010.accounts.list)
    assert {a.sid for a in listed} == {account.sid, sub.sid}
    # the parent acts on its sub-account's resources; the sub-account not on its parent's
    assert await asyncio.to_thread(client.api.v2010.accounts(sub.sid).messages.list) == []
    with pytest.raises(TwilioException, match="20404"):  # lists raise the base exception
        await asyncio.to_thread(own.api.v2010.accounts(account.sid).messages.list)


async def test_keys_are_sk_sids_that_sign_in(account: TwilioAccount) -> None:
    client = account.client()
    key = await asyncio.to_thread(client.new_keys.create, friendly_name="ci")
    assert key.sid.startswith("SK")
    assert key.secret
    keys = await asyncio.to_thread(client.keys.list)
    assert key.sid in [k.sid for k in keys]
    assert (await asyncio.to_thread(client.keys(key.sid).fetch)).friendly_name == "ci"
    with_key = account.client(key.sid, key.secret)
    sent = await asyncio.to_thread(
        with_key.messages.create, to="+14155550199", from_=account.sender, body="x"
    )
    assert sent.account_sid == account.sid
    # a key may not read the auth token nor mint keys
    for call in (with_key.api.v2010.accounts(account.sid).fetch, with_key.new_keys.create):
        with pytest.raises(TwilioRestException) as raised:
            await asyncio.to_thread(call)
        assert raised.value.code == 20003
    assert await asyncio.to_thread(client.keys(key.sid).delete) is True
    with pytest.raises(TwilioRestException) as raised:
        await asyncio.to_thread(
            with_key.messages.create, to="+14155550199", from_=account.sender, body="x"
        )
    assert raised.value.code == 20003


async def test_incoming_phone_numbers(account: TwilioAccount) -> None:
    client = account.client()
    numbers = client.incoming_phone_numbers
    number = await asyncio.to_thread(
        numbers.create,
        phone_number="+14155550142",
        sms_url="https://app.example.com/sms",
        sms_method="GET",
        status_callback="https://app.example.com/status",
    )
    assert number.sid.startswith("PN")
    assert number.phone_number == "+14155550142"
    assert number.sms_url == "https://app.example.com/sms"
    assert number.sms_method == "GET"
    assert number.status_callback == "https://app.example.com/status"
    assert number.capabilities["sms"] is True
    stored = await account.api.services.numbers.get_number(account.sid, number.sid)
    assert stored.inbound_webhook_url == "https://app.example.com/sms#twilio"
    updated = await asyncio.to_thread(numbers(number.sid).update, sms_url="")
    assert updated.sms_url == ""
    assert updated.status_callback == "https://app.example.com/status"
    found = await asyncio.to_thread(numbers.list, phone_number="+14155550142")
    assert [n.sid for n in found] == [number.sid]
    assert len(await asyncio.to_thread(numbers.list)) == 2  # with the fixture's sender
    with pytest.raises(TwilioRestException) as raised:
        await asyncio.to_thread(numbers.create, phone_number="+14155550142")
    assert raised.value.status == 409
    assert await asyncio.to_thread(numbers(number.sid).delete) is True
    with pytest.raises(TwilioRestException) as raised:
        await asyncio.to_thread(numbers(number.sid).fetch)
    assert raised.value.code == 20404


async def test_the_rate_limit_is_20429(start_api: StartApi) -> None:
    api = await start_api(ApiOptions(rate_limit=0.01, rate_burst=1))
    admin = await api.services.accounts.admin_account()
    new, _ = await api.services.accounts.create_subaccount(admin.id, name="busy")
    account = TwilioAccount(api=api, sid=new.account.id, auth_token=new.auth_token, sender="")
    client = account.client()
    fetch = client.messages("SM" + "0" * 32).fetch
    with pytest.raises(TwilioRestException) as raised:
        await asyncio.to_thread(fetch)
    assert raised.value.code == 20404
    with pytest.raises(TwilioRestException) as raised:
        await asyncio.to_thread(fetch)
    assert (raised.value.code, raised.value.status) == (20429, 429)


def test_cli_prints_what_a_twilio_client_needs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(*argv: str) -> dict[str, object]:
        assert main([*argv, "--data-dir", str(tmp_path / "data")]) == 0
        data: dict[str, object] = json.loads(capsys.readouterr().out)
        return data

    created = run("accounts", "create", "--name", "app", "--json")
    sid = str(created["sid"])
    shown = run("accounts", "show", sid, "--json")
    assert shown["sid"] == sid
    assert shown["auth_token"] == created["auth_token"]
    key = run("keys", "create", "--account", sid, "--json")
    assert key["account_sid"] == sid
    rotated = run("accounts", "rotate-token", sid, "--json")
    assert rotated["auth_token"] != created["auth_token"]
    assert run("accounts", "show", sid, "--json")["auth_token"] == rotated["auth_token"]
