"""Accounts, API keys and numbers: the contract, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from tests.integration.store.conftest import T0
from tests.integration.store.factory import account, later

from marconi.errors import Conflict, NotFound
from marconi.store.model import NumberKind, Unset
from marconi.store.sql import SqlStore


async def test_account_round_trip_and_subaccounts(store: SqlStore) -> None:
    parent = await account(store, "parent", auth_token_hash="h1")
    child = await account(store, "child", parent_id=parent.id)
    await account(store, "other")

    assert await store.get_account(parent.id) == parent
    assert parent.created_at == T0
    assert [a.id for a in await store.list_subaccounts(parent.id)] == [child.id]
    assert await store.count_accounts() == 3
    updated = await store.set_auth_token_hash(parent.id, "h2", now=later(1))
    assert updated.auth_token_hash == "h2"
    assert (await store.get_account(parent.id)).updated_at == later(1)


async def test_account_errors(store: SqlStore) -> None:
    with pytest.raises(NotFound):
        await store.get_account("AC" + "0" * 32)
    with pytest.raises(NotFound):
        await account(store, "orphan", parent_id="AC" + "1" * 32)
    first = await account(store, "one")
    with pytest.raises(Conflict):
        await account(store, "again", account_id=first.id)


async def test_api_keys_are_per_account(store: SqlStore) -> None:
    a = await account(store, "a")
    b = await account(store, "b")
    key = await store.create_api_key(account_id=a.id, secret_hash="s", now=T0, name="ci")
    assert key.active
    assert await store.get_api_key(key.id) == key
    assert [k.id for k in await store.list_api_keys(a.id)] == [key.id]
    assert await store.list_api_keys(b.id) == []

    with pytest.raises(NotFound):
        await store.revoke_api_key(b.id, key.id, now=later(1))
    assert (await store.get_api_key(key.id)).active

    revoked = await store.revoke_api_key(a.id, key.id, now=later(2))
    assert revoked.revoked_at == later(2)
    again = await store.revoke_api_key(a.id, key.id, now=later(3))
    assert again.revoked_at == later(2)  # the first revocation time stays


async def test_touch_api_key_coalesces_and_never_goes_back(store: SqlStore) -> None:
    a = await account(store)
    key = await store.create_api_key(account_id=a.id, secret_hash="s", now=T0)
    await asyncio.gather(*(store.touch_api_key(key.id, now=later(s)) for s in (5, 9, 1, 7)))
    assert (await store.get_api_key(key.id)).last_used_at == later(9)
    await store.touch_api_key(key.id, now=later(2))
    assert (await store.get_api_key(key.id)).last_used_at == later(9)


async def test_numbers_are_unique_and_per_account(store: SqlStore) -> None:
    a = await account(store, "a")
    b = await account(store, "b")
    number = await store.create_number(
        account_id=a.id,
        value="+447700900001",
        kind=NumberKind.E164,
        now=T0,
        inbound_webhook_url="http://127.0.0.1:9/in",
    )
    assert await store.get_number(a.id, number.id) == number
    assert await store.find_number("+447700900001") == number
    assert await store.find_number("+447700900002") is None
    with pytest.raises(Conflict):
        await store.create_number(
            account_id=b.id, value="+447700900001", kind=NumberKind.E164, now=T0
        )

    with pytest.raises(NotFound):
        await store.get_number(b.id, number.id)
    with pytest.raises(NotFound):
        await store.update_number(b.id, number.id, now=later(1), inbound_webhook_url=None)
    with pytest.raises(NotFound):
        await store.delete_number(b.id, number.id)
    assert await store.list_numbers(b.id) == []

    changed = await store.update_number(
        a.id, number.id, now=later(1), status_callback_url="http://127.0.0.1:9/status"
    )
    assert changed.inbound_webhook_url == "http://127.0.0.1:9/in"  # untouched
    assert changed.status_callback_url == "http://127.0.0.1:9/status"
    cleared = await store.update_number(
        a.id,
        number.id,
        now=later(2),
        inbound_webhook_url=None,
        inbound_webhook_method=Unset.UNSET,
    )
    assert cleared.inbound_webhook_url is None
    assert cleared.updated_at == later(2)

    await store.delete_number(a.id, number.id)
    assert await store.list_numbers(a.id) == []
    with pytest.raises(NotFound):
        await store.get_number(a.id, number.id)


async def test_writes_for_unknown_accounts_and_keys_are_not_found(store: SqlStore) -> None:
    nobody = "AC" + "2" * 32
    with pytest.raises(NotFound):
        await store.set_auth_token_hash(nobody, "h", now=T0)
    with pytest.raises(NotFound):
        await store.create_api_key(account_id=nobody, secret_hash="s", now=T0)
    with pytest.raises(NotFound):
        await store.get_api_key("SK" + "3" * 32)
    assert await store.count_accounts() == 0


async def test_analyze_refreshes_statistics_on_either_database(store: SqlStore) -> None:
    a = await account(store)
    await store.analyze()
    # the writer's connection is free again: a write right after goes through
    async with asyncio.timeout(5):
        await store.create_number(
            account_id=a.id, value="ACME", kind=NumberKind.ALPHANUMERIC, now=T0
        )
    assert (await store.find_number("ACME")) is not None
