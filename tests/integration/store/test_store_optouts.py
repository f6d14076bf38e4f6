"""Opt-outs and keyword settings: the contract, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from tests.integration.store.conftest import T0
from tests.integration.store.factory import account, later

from marconi.errors import ValidationError
from marconi.store import open_store
from marconi.store.optout import optout_repository_for
from marconi.store.sql import SqlStore

TO = "+14155550100"
OTHER = "+14155550199"


async def test_a_sender_scoped_opt_out_stops_that_sender_only(store: SqlStore) -> None:
    repo = optout_repository_for(store)
    acme = await account(store, "acme")
    assert not await repo.has_opt_outs(acme.id)
    got = await repo.add_opt_out(
        acme.id, TO, from_addr="+15550001", source="keyword", keyword="STOP", now=T0
    )
    assert got.from_addr == "+15550001"
    assert got.keyword == "STOP"
    assert got.created_at == T0
    assert await repo.has_opt_outs(acme.id)
    assert await repo.is_opted_out(acme.id, TO, "+15550001")
    assert not await repo.is_opted_out(acme.id, TO, "+15550002")
    assert not await repo.is_opted_out(acme.id, OTHER, "+15550001")


async def test_an_account_wide_opt_out_stops_every_sender_of_that_account_only(
    store: SqlStore,
) -> None:
    repo = optout_repository_for(store)
    acme = await account(store, "acme")
    other = await account(store, "other")
    await repo.add_opt_out(acme.id, TO, from_addr=None, source="api", keyword=None, now=T0)
    assert await repo.is_opted_out(acme.id, TO, "+15550001")
    assert await repo.is_opted_out(acme.id, TO, "Marconi")
    assert not await repo.is_opted_out(other.id, TO, "+15550001")
    assert not await repo.has_opt_outs(other.id)


async def test_adding_again_keeps_the_first_and_removing_names_the_scopes(
    store: SqlStore,
) -> None:
    repo = optout_repository_for(store)
    acme = await account(store, "acme")
    first = await repo.add_opt_out(
        acme.id, TO, from_addr=None, source="keyword", keyword="STOPALL", now=T0
    )
    again = await repo.add_opt_out(
        acme.id, TO, from_addr=None, source="api", keyword=None, now=later(5)
    )
    assert again == first
    await repo.add_opt_out(acme.id, TO, from_addr="+15550001", source="api", keyword=None, now=T0)
    assert await repo.remove_opt_outs(acme.id, TO, from_addrs=("+15550009",)) == 0
    assert await repo.remove_opt_outs(acme.id, TO, from_addrs=(None, "+15550001")) == 2
    assert not await repo.is_opted_out(acme.id, TO, "+15550001")
    assert not await repo.has_opt_outs(acme.id)


async def test_list_pages_in_destination_order(store: SqlStore) -> None:
    repo = optout_repository_for(store)
    acme = await account(store, "acme")
    other = await account(store, "other")
    numbers = [f"+1415555{n:04d}" for n in range(7)]
    for number in reversed(numbers):
        await repo.add_opt_out(acme.id, number, from_addr=None, source="api", keyword=None, now=T0)
    await repo.add_opt_out(
        acme.id, numbers[0], from_addr="+15550001", source="api", keyword=None, now=T0
    )
    await repo.add_opt_out(other.id, OTHER, from_addr=None, source="api", keyword=None, now=T0)
    seen: list[tuple[str, str | None]] = []
    cursor = None
    while True:
        page = await repo.list_opt_outs(acme.id, limit=3, cursor=cursor)
        seen += [(o.to_addr, o.from_addr) for o in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [(numbers[0], None), (numbers[0], "+15550001")] + [
        (n, None) for n in numbers[1:]
    ]
    only = await repo.list_opt_outs(acme.id, to_addr=numbers[0])
    assert len(only.items) == 2
    with pytest.raises(ValidationError) as err:
        await repo.list_opt_outs(acme.id, cursor="!!not-ours")
    assert err.value.code == "invalid_cursor"


async def test_keyword_settings_are_stored_per_account(store: SqlStore) -> None:
    repo = optout_repository_for(store)
    acme = await account(store, "acme")
    other = await account(store, "other")
    assert await repo.get_keyword_settings(acme.id) is None
    await repo.put_keyword_settings(acme.id, {"enabled": False, "languages": []}, now=T0)
    await repo.put_keyword_settings(acme.id, {"enabled": True, "languages": []}, now=later(1))
    assert await repo.get_keyword_settings(acme.id) == {"enabled": True, "languages": []}
    assert await repo.get_keyword_settings(other.id) is None


async def test_concurrent_checks_answer_each_its_own(store: SqlStore) -> None:
    repo = optout_repository_for(store)
    acme = await account(store, "acme")
    other = await account(store, "other")
    stopped = [f"+1415555{n:04d}" for n in range(0, 40, 2)]
    for number in stopped:
        await repo.add_opt_out(
            acme.id, number, from_addr="+15550001", source="api", keyword=None, now=T0
        )
    await repo.add_opt_out(other.id, OTHER, from_addr=None, source="api", keyword=None, now=T0)
    asks = [(acme.id, f"+1415555{n:04d}", "+15550001") for n in range(40)]
    asks += [(acme.id, f"+1415555{n:04d}", "+15550002") for n in range(40)]
    asks += [(other.id, OTHER, "x"), (acme.id, OTHER, "x")]
    got = await asyncio.gather(*(repo.is_opted_out(*ask) for ask in asks))
    expected = [ask[1] in stopped and ask[2] == "+15550001" for ask in asks[:80]] + [True, False]
    assert got == expected


async def test_the_send_path_reads_use_the_primary_key(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'plans.db'}")
    repo = optout_repository_for(store)
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, params))

    event.listen(store._read_engine.sync_engine, "before_cursor_execute", capture)
    try:
        acme = await account(store, "acme")
        await repo.add_opt_out(acme.id, TO, from_addr=None, source="api", keyword=None, now=T0)
        await repo.has_opt_outs(acme.id)
        await asyncio.gather(*(repo.is_opted_out(acme.id, n, "x") for n in (TO, OTHER)))
        async with store._read_engine.connect() as conn:
            plans = [
                str(row[3])
                for statement, params in seen
                for row in await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
            ]
    finally:
        event.remove(store._read_engine.sync_engine, "before_cursor_execute", capture)
        await store.aclose()
    assert len(seen) == 2
    assert all("USING PRIMARY KEY" in plan for plan in plans), plans
