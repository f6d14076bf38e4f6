"""Opt-outs: the send path's check, the list, and inbound keywords acted on before the webhook
(over a real SQLite store)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pytest
from tests.unit.services.conftest import FakeClock

from marconi.errors import NotFound, ValidationError
from marconi.services import SendRequest, Services
from marconi.services.inbound import InboundMessage, InboundService
from marconi.services.optout import OptOutService
from marconi.store.model import Direction, Message, MessageFilter
from marconi.store.optout import optout_repository_for
from marconi.store.sql import SqlStore

TO = "+14155550100"
NUMBER = "+14155550000"
OTHER_NUMBER = "+14155550001"


async def _account(services: Services) -> str:
    admin = (await services.accounts.admin_account()).id
    for value in (NUMBER, OTHER_NUMBER):
        await services.numbers.add_number(
            admin, value, inbound_webhook_url="https://app.example/inbound"
        )
    return admin


async def _outbound(store: SqlStore, account_id: str) -> list[Message]:
    page = await store.list_messages(account_id, filter=MessageFilter(direction=Direction.OUTBOUND))
    return page.items


async def test_an_opted_out_destination_is_refused_and_nothing_is_queued(
    services: Services, store: SqlStore
) -> None:
    admin = await _account(services)
    await services.optouts.add(admin, "+1 415 555 0100", from_=NUMBER)
    with pytest.raises(ValidationError) as err:
        await services.messages.send(admin, SendRequest(to=TO, from_=NUMBER, body="hi"))
    assert (err.value.code, err.value.field) == ("destination_opted_out", "to")
    assert await _outbound(store, admin) == []
    # the opt-out stops that sender only
    sent = await services.messages.send(admin, SendRequest(to=TO, from_=OTHER_NUMBER, body="hi"))
    assert sent.from_addr == OTHER_NUMBER
    await services.optouts.add(admin, TO)  # every sender
    with pytest.raises(ValidationError):
        await services.messages.send(admin, SendRequest(to=TO, from_=OTHER_NUMBER, body="hi"))
    await services.optouts.remove(admin, TO)
    await services.optouts.remove(admin, TO, from_=NUMBER)
    with pytest.raises(NotFound):
        await services.optouts.remove(admin, TO)
    await services.messages.send(admin, SendRequest(to=TO, from_=NUMBER, body="hi again"))
    assert len(await _outbound(store, admin)) == 2


async def test_another_accounts_opt_out_changes_nothing(services: Services) -> None:
    admin = await _account(services)
    new, _ = await services.accounts.create_subaccount(admin, name="sub")
    await services.optouts.add(new.account.id, TO)
    await services.messages.send(admin, SendRequest(to=TO, from_=NUMBER, body="hi"))
    page = await services.optouts.list_opt_outs(admin)
    assert page.items == []


async def test_an_account_without_opt_outs_is_checked_from_memory(
    store: SqlStore, clock: FakeClock
) -> None:
    """Another node's first opt-out for the account counts once the remembered answer is
    ``ttl`` seconds old; this node's counts at once."""
    reads: list[str] = []
    repository = optout_repository_for(store)

    class Counting:
        def __getattr__(self, name: str) -> Any:
            attribute = getattr(repository, name)

            async def call(*args: Any, **kwargs: Any) -> Any:
                reads.append(name)
                return await attribute(*args, **kwargs)

            return call

    admin = (await store.create_account(name="a", now=clock())).id
    here = OptOutService(optouts=Counting(), clock=clock, monotonic_clock=clock.monotonic, ttl=2.0)
    elsewhere = OptOutService(optouts=repository, clock=clock, monotonic_clock=clock.monotonic)
    for _ in range(100):
        await here.check(admin, TO, NUMBER)
    assert reads == ["has_opt_outs"]
    await elsewhere.add(admin, TO)
    await here.check(admin, TO, NUMBER)  # remembered: no opt-outs
    clock.advance(2.0)
    with pytest.raises(ValidationError):
        await here.check(admin, TO, NUMBER)
    reads.clear()
    await here.check(admin, "+14155550111", NUMBER)
    assert reads == ["is_opted_out"]  # one indexed read per send once the account has some


async def _inbound(services: Services, store: SqlStore, *texts: str, to: str = NUMBER) -> None:
    inbound = InboundService(
        messages=store, numbers=store, sender=services.messages, optouts=services.optouts
    )
    for text in texts:
        await inbound.store(
            [
                InboundMessage(
                    connector="sim",
                    source="14155550100",
                    destination=to,
                    text=text,
                    encoding="gsm7",
                    segments=1,
                )
            ]
        )


async def _webhook_keyword(store: SqlStore, account_id: str) -> list[Any]:
    page = await store.list_webhook_deliveries(account_id)
    return [orjson.loads(d.payload)["keyword"] for d in reversed(page.items)]


async def test_stop_then_send_is_refused_and_start_restores(
    services: Services, store: SqlStore
) -> None:
    admin = await _account(services)
    await _inbound(services, store, " Stop! ")
    with pytest.raises(ValidationError) as err:
        await services.messages.send(admin, SendRequest(to=TO, from_=NUMBER, body="promo"))
    assert err.value.code == "destination_opted_out"
    # STOP stops the number it was sent to, not the account's other numbers
    await services.messages.send(admin, SendRequest(to=TO, from_=OTHER_NUMBER, body="other"))
    (opt_out,) = (await services.optouts.list_opt_outs(admin)).items
    assert (opt_out.from_addr, opt_out.source, opt_out.keyword) == (NUMBER, "keyword", "STOP")
    await _inbound(services, store, "start")
    await services.messages.send(admin, SendRequest(to=TO, from_=NUMBER, body="welcome back"))
    bodies = [(m.from_addr, m.body) for m in reversed(await _outbound(store, admin))]
    assert bodies == [
        (
            NUMBER,
            "You have been unsubscribed and will receive no more messages from this number. "
            "Reply START to subscribe again.",
        ),
        (OTHER_NUMBER, "other"),
        (NUMBER, "You have been subscribed again. Reply STOP to unsubscribe."),
        (NUMBER, "welcome back"),
    ]
    assert await _webhook_keyword(store, admin) == [
        {"action": "opt_out", "keyword": "STOP", "language": "en"},
        {"action": "opt_in", "keyword": "START", "language": "en"},
    ]


async def test_stopall_stops_every_sender_and_start_to_one_lifts_it(
    services: Services, store: SqlStore
) -> None:
    admin = await _account(services)
    await _inbound(services, store, "STOPALL")
    for number in (NUMBER, OTHER_NUMBER):
        with pytest.raises(ValidationError):
            await services.messages.send(admin, SendRequest(to=TO, from_=number, body="x"))
    await _inbound(services, store, "UNSTOP", to=OTHER_NUMBER)
    await services.messages.send(admin, SendRequest(to=TO, from_=NUMBER, body="x"))


async def test_help_replies_and_changes_nothing_and_other_texts_are_not_keywords(
    services: Services, store: SqlStore
) -> None:
    admin = await _account(services)
    await _inbound(services, store, "help", "stop it please")
    assert [m.body for m in await _outbound(store, admin)] == [
        "Reply STOP to unsubscribe, START to subscribe again."
    ]
    assert (await services.optouts.list_opt_outs(admin)).items == []
    assert await _webhook_keyword(store, admin) == [
        {"action": "help", "keyword": "HELP", "language": "en"},
        None,
    ]


async def test_configured_keywords_and_languages_apply(
    services: Services, store: SqlStore, clock: FakeClock
) -> None:
    admin = await _account(services)
    await services.optouts.put_keyword_settings(
        admin,
        {
            "languages": [
                {"language": "es", "opt_out": ["BAJA"], "replies": {"opt_out": "Baja hecha"}},
            ]
        },
    )
    await _inbound(services, store, "baja", "STOP")
    (opt_out,) = (await services.optouts.list_opt_outs(admin)).items
    assert opt_out.keyword == "BAJA"
    assert [m.body for m in await _outbound(store, admin)] == ["Baja hecha"]
    assert (await services.optouts.keyword_settings(admin)).languages[0].language == "es"


async def test_an_opt_out_cancels_what_it_stops_that_is_still_waiting(
    services: Services, store: SqlStore, clock: FakeClock
) -> None:
    admin = await _account(services)
    later = clock() + timedelta(hours=2)
    stopped = await services.messages.send(
        admin, SendRequest(to=TO, from_=NUMBER, body="reminder", send_at=later)
    )
    queued = await services.messages.send(admin, SendRequest(to=TO, from_=NUMBER, body="now"))
    other_sender = await services.messages.send(
        admin, SendRequest(to=TO, from_=OTHER_NUMBER, body="x", send_at=later)
    )
    other_number = await services.messages.send(
        admin, SendRequest(to="+14155550111", from_=NUMBER, body="x", send_at=later)
    )
    await _inbound(services, store, "STOP")
    status = {m.id: m.status.value for m in await _outbound(store, admin)}
    assert status[stopped.id] == "canceled"
    assert status[queued.id] == "canceled"
    assert status[other_sender.id] == "scheduled"
    assert status[other_number.id] == "scheduled"
    await services.optouts.add(admin, TO)  # every sender
    assert (await store.get_message(admin, other_sender.id)).status.value == "canceled"
    assert (await store.get_message(admin, other_number.id)).status.value == "scheduled"


async def test_stored_settings_that_no_longer_validate_fall_back_to_the_defaults(
    services: Services, store: SqlStore, clock: FakeClock
) -> None:
    admin = await _account(services)
    await optout_repository_for(store).put_keyword_settings(
        admin, {"languages": "not a list"}, now=clock()
    )
    match = await services.optouts.match(admin, "STOP")
    assert match is not None
    assert match.language == "en"
