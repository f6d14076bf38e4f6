"""The official twilio client against a real server: send, fetch, list across pages, redact,
cancel, and errors raised as TwilioRestException with Twilio's codes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
import pytest
from tests.integration.twilio.conftest import TwilioAccount
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

TO = "+14155550199"


async def test_create_then_fetch_in_twilio_shape(account: TwilioAccount) -> None:
    client = account.client()
    sent = await asyncio.to_thread(
        client.messages.create, to=TO, from_=account.sender, body="Hello from Marconi"
    )
    assert sent.sid.startswith("SM")
    assert len(sent.sid) == 34
    assert sent.account_sid == account.sid
    assert sent.status == "queued"
    assert sent.direction == "outbound-api"
    assert sent.num_segments == "1"
    assert sent.num_media == "0"
    assert sent.api_version == "2010-04-01"
    assert sent.uri == f"/2010-04-01/Accounts/{account.sid}/Messages/{sent.sid}.json"
    assert sent.date_created is not None
    assert sent.date_created.tzinfo is not None
    fetched = await asyncio.to_thread(client.messages(sent.sid).fetch)
    assert (fetched.to, fetched.from_, fetched.body) == (TO, account.sender, "Hello from Marconi")
    # the same row as the native API's, under the same id
    native = await account.api.services.messages.get_message(account.sid, sent.sid)
    assert native.body == "Hello from Marconi"


async def test_raw_shape_has_strings_and_rfc2822_dates(account: TwilioAccount) -> None:
    async with httpx.AsyncClient(
        base_url=account.api.url, auth=(account.sid, account.auth_token)
    ) as http:
        response = await http.post(
            f"/2010-04-01/Accounts/{account.sid}/Messages.json",
            data={"To": TO, "From": account.sender, "Body": "x" * 200, "Unknown": "ignored"},
        )
    assert response.status_code == 201
    data = response.json()
    assert data["num_segments"] == "2"
    assert data["date_created"].endswith("+0000")
    assert parsedate_to_datetime(data["date_created"]).tzinfo is not None
    assert data["date_sent"] is None
    assert data["error_code"] is None
    assert set(data["subresource_uris"]) == {"media", "feedback"}


async def test_list_pages_through_every_message(account: TwilioAccount) -> None:
    client = account.client()
    sids = []
    for n in range(5):
        message = await asyncio.to_thread(
            client.messages.create, to=TO, from_=account.sender, body=f"n{n}"
        )
        sids.append(message.sid)
    await asyncio.to_thread(
        client.messages.create, to="+14155550177", from_=account.sender, body="other"
    )
    listed = await asyncio.to_thread(client.messages.list, to=TO, page_size=2)
    assert [m.sid for m in listed] == sids[::-1]  # newest first, over three pages
    page = await asyncio.to_thread(client.messages.page, page_size=2)
    first = [m.sid for m in page]
    assert len(first) == 2
    assert page.next_page_url is not None
    second = await asyncio.to_thread(page.next_page)
    assert second is not None
    assert {m.sid for m in second}.isdisjoint(first)
    today = datetime.now(UTC).date()
    assert len(await asyncio.to_thread(client.messages.list, date_sent=today)) == 6
    later = datetime.now(UTC) + timedelta(days=2)
    assert await asyncio.to_thread(client.messages.list, date_sent_after=later) == []


async def test_cancel_a_scheduled_message_then_redact_it(account: TwilioAccount) -> None:
    client = account.client()
    scheduled = await asyncio.to_thread(
        client.messages.create,
        to=TO,
        from_=account.sender,
        body="later",
        send_at=datetime.now(UTC) + timedelta(hours=1),
        schedule_type="fixed",
    )
    assert scheduled.status == "scheduled"
    canceled = await asyncio.to_thread(client.messages(scheduled.sid).update, status="canceled")
    assert canceled.status == "canceled"
    redacted = await asyncio.to_thread(client.messages(scheduled.sid).update, body="")
    assert redacted.body == ""
    assert (
        await account.api.services.messages.get_message(account.sid, scheduled.sid)
    ).body is None
    assert await asyncio.to_thread(client.messages(scheduled.sid).delete) is True


async def test_errors_carry_twilio_codes(account: TwilioAccount) -> None:
    client = account.client()

    async def code_of(call: object, **kwargs: object) -> tuple[int, int]:
        with pytest.raises(TwilioRestException) as raised:
            await asyncio.to_thread(call, **kwargs)  # type: ignore[arg-type]
        return raised.value.code, raised.value.status

    create = client.messages.create
    assert await code_of(create, to="not a number", from_=account.sender, body="x") == (21211, 400)
    assert await code_of(create, to=TO, from_="+14155550111", body="x") == (21606, 400)
    assert await code_of(create, to=TO, from_=account.sender, body="") == (21602, 400)
    assert await code_of(create, to=TO, from_=account.sender, body="x" * 1601) == (21617, 400)
    assert await code_of(
        create, to=TO, from_=account.sender, body="x", status_callback="ftp://nope"
    ) == (21609, 400)
    assert await code_of(client.messages("SM" + "0" * 32).fetch) == (20404, 404)
    queued = await asyncio.to_thread(create, to=TO, from_=account.sender, body="x")
    assert await code_of(client.messages(queued.sid).update, body="") == (20009, 400)
    wrong = Client(
        account.sid, "wrong-token", account.sid, http_client=account.client().http_client
    )
    wrong.api.base_url = account.api.url
    assert await code_of(wrong.messages.create, to=TO, from_=account.sender, body="x") == (
        20003,
        401,
    )


async def test_test_credential_magic_numbers(account: TwilioAccount) -> None:
    client = account.client()
    create = client.messages.create
    for to, code in [
        ("+15005550001", 21211),
        ("+15005550002", 21612),
        ("+15005550003", 21408),
        ("+15005550004", 21610),
        ("+15005550009", 21614),
    ]:
        with pytest.raises(TwilioRestException) as raised:
            await asyncio.to_thread(create, to=to, from_="+15005550006", body="x")
        assert raised.value.code == code
    for from_, code in [("+15005550001", 21212), ("+15005550007", 21606), ("+15005550008", 21611)]:
        with pytest.raises(TwilioRestException) as raised:
            await asyncio.to_thread(create, to=TO, from_=from_, body="x")
        assert raised.value.code == code
    ok = await asyncio.to_thread(create, to=TO, from_="+15005550006", body="x")
    assert ok.status == "queued"
    assert ok.sid.startswith("SM")


async def test_another_accounts_messages_are_not_found(account: TwilioAccount) -> None:
    client = account.client()
    mine = await asyncio.to_thread(client.messages.create, to=TO, from_=account.sender, body="x")
    admin = await account.api.services.accounts.admin_account()
    other, _ = await account.api.services.accounts.create_subaccount(admin.id, name="other")
    stranger = Client(
        other.account.id,
        other.auth_token,
        other.account.id,
        http_client=account.client().http_client,
    )
    stranger.api.base_url = account.api.url
    with pytest.raises(TwilioRestException) as raised:
        await asyncio.to_thread(stranger.messages(mine.sid).fetch)
    assert raised.value.code == 20404
    # nor may it act under the first account's SID with its own token
    with pytest.raises(TwilioRestException) as raised:
        await asyncio.to_thread(stranger.api.v2010.accounts(account.sid).messages(mine.sid).fetch)
    assert raised.value.code == 20404
    assert await asyncio.to_thread(stranger.messages.list) == []


async def test_an_api_key_signs_in_like_the_auth_token(account: TwilioAccount) -> None:
    key = await account.api.services.keys.create_key(account.sid, name="sdk")
    client = account.client(key.key.id, key.secret)
    sent = await asyncio.to_thread(client.messages.create, to=TO, from_=account.sender, body="k")
    assert sent.account_sid == account.sid
    await account.api.services.keys.revoke_key(account.sid, key.key.id)
    with pytest.raises(TwilioRestException) as raised:
        await asyncio.to_thread(client.messages(sent.sid).fetch)
    assert raised.value.code == 20003


async def test_an_opted_out_destination_is_21610(account: TwilioAccount) -> None:
    await account.api.services.optouts.add(account.sid, TO)
    client = account.client()
    with pytest.raises(TwilioRestException) as raised:
        await asyncio.to_thread(client.messages.create, to=TO, from_=account.sender, body="x")
    assert (raised.value.code, raised.value.status) == (21610, 400)
    other = await asyncio.to_thread(
        client.messages.create, to="+14155550177", from_=account.sender, body="x"
    )
    assert other.status == "queued"


async def test_unknown_resources_answer_twilios_404(account: TwilioAccount) -> None:
    async with httpx.AsyncClient(
        base_url=account.api.url, auth=(account.sid, account.auth_token)
    ) as http:
        for method, path in [
            ("GET", f"/2010-04-01/Accounts/{account.sid}/Calls.json"),
            ("POST", f"/2010-04-01/Accounts/{account.sid}/Calls.json"),
            ("GET", "/v1/Services/MG0/Alphasenders"),
        ]:
            response = await http.request(method, path)
            assert response.status_code == 404
            assert response.json()["code"] == 20404
        # the native API's own 404 stays problem+json
        native = await http.get("/v1/nothing-here")
        assert native.headers["content-type"] == "application/problem+json"
