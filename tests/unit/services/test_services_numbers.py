from __future__ import annotations

import asyncio

import pytest

from marconi.errors import Conflict, NotFound, ValidationError
from marconi.services import SendRequest, Services
from marconi.store.model import NumberKind, Unset
from marconi.store.sql import SqlStore


async def test_add_update_and_remove_a_number(services: Services) -> None:
    admin = await services.accounts.admin_account()
    number = await services.numbers.add_number(
        admin.id,
        "+1 415 555 0100",
        inbound_webhook_url="http://127.0.0.1:9000/in",
        inbound_webhook_method="get",
    )
    assert (number.value, number.kind) == ("+14155550100", NumberKind.E164)
    assert number.inbound_webhook_method == "GET"
    updated = await services.numbers.update_number(
        admin.id, number.id, inbound_webhook_url=None, status_callback_url="https://x.test/s"
    )
    assert updated.inbound_webhook_url is None
    assert updated.status_callback_url == "https://x.test/s"
    assert updated.inbound_webhook_method == "GET"
    assert (await services.numbers.find_by_value(admin.id, "+14155550100")) == updated
    await services.numbers.remove_number(admin.id, number.id)
    with pytest.raises(NotFound):
        await services.numbers.get_number(admin.id, number.id)


async def test_a_sender_belongs_to_one_account(services: Services) -> None:
    admin = await services.accounts.admin_account()
    sub, _ = await services.accounts.create_subaccount(admin.id)
    await services.numbers.add_number(admin.id, "12345")
    with pytest.raises(Conflict):
        await services.numbers.add_number(sub.account.id, "12345")


async def test_other_accounts_numbers_are_not_found(services: Services) -> None:
    admin = await services.accounts.admin_account()
    sub, _ = await services.accounts.create_subaccount(admin.id)
    theirs = await services.numbers.add_number(sub.account.id, "+14155550199")
    with pytest.raises(NotFound):
        await services.numbers.get_number(admin.id, theirs.id)
    with pytest.raises(NotFound):
        await services.numbers.update_number(admin.id, theirs.id, inbound_webhook_url=None)
    with pytest.raises(NotFound):
        await services.numbers.remove_number(admin.id, theirs.id)
    assert await services.numbers.get_number(sub.account.id, theirs.id) == theirs


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"inbound_webhook_url": "ftp://x"}, "invalid_url", "inbound_webhook_url"),
        ({"inbound_webhook_url": "http://"}, "invalid_url", "inbound_webhook_url"),
        ({"status_callback_url": "/relative"}, "invalid_url", "status_callback_url"),
        ({"inbound_webhook_method": "PUT"}, "invalid_value", "inbound_webhook_method"),
    ],
)
async def test_bad_webhooks_are_refused(
    services: Services, kwargs: dict[str, str], code: str, field: str
) -> None:
    admin = await services.accounts.admin_account()
    with pytest.raises(ValidationError) as caught:
        await services.numbers.add_number(admin.id, "+14155550123", **kwargs)
    assert (caught.value.code, caught.value.field) == (code, field)


async def test_unset_fields_are_left_alone(services: Services) -> None:
    admin = await services.accounts.admin_account()
    number = await services.numbers.add_number(
        admin.id, "Shop", status_callback_url="https://x.test/s"
    )
    same = await services.numbers.update_number(
        admin.id, number.id, inbound_webhook_method=Unset.UNSET
    )
    assert same.status_callback_url == "https://x.test/s"


async def test_a_sender_added_during_a_read_can_be_used_at_once(
    services: Services, store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await services.accounts.admin_account()
    gate = asyncio.Event()
    original = store.list_numbers

    async def slow(account_id: str):  # type: ignore[no-untyped-def]
        found = await original(account_id)
        await gate.wait()
        return found

    monkeypatch.setattr(store, "list_numbers", slow)
    early = asyncio.create_task(
        services.messages.send(admin.id, SendRequest(to="+14155550100", body="x"))
    )
    await asyncio.sleep(0.05)
    monkeypatch.setattr(store, "list_numbers", original)
    await services.numbers.add_number(admin.id, "NewShop")
    gate.set()
    await early
    sent = await services.messages.send(
        admin.id, SendRequest(to="+14155550100", body="x", from_="NewShop")
    )
    assert sent.from_addr == "NewShop"
