"""ReadBatcher: concurrent reads share one fetch, every caller gets its own answer or the error."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from marconi.store.read_batch import ReadBatcher


class FakeTable:
    def __init__(self, rows: Mapping[str, int], *, fail: bool = False) -> None:
        self.rows = dict(rows)
        self.fail = fail
        self.fetches: list[list[str]] = []

    async def fetch(self, keys: Sequence[str]) -> dict[str, int]:
        self.fetches.append(list(keys))
        await asyncio.sleep(0.01)  # a read takes a while: others arrive meanwhile
        if self.fail:
            raise OSError("the database went away")
        return {k: self.rows[k] for k in keys if k in self.rows}


async def test_concurrent_gets_share_one_fetch_and_missing_keys_read_as_default() -> None:
    table = FakeTable({"a": 1, "b": 2})
    reader = ReadBatcher(table.fetch, default=0)
    got = await asyncio.gather(*(reader.get(k) for k in ["a", "b", "c", "a"]))
    assert got == [1, 2, 0, 1]
    assert table.fetches == [["a", "b", "c"]]


async def test_keys_that_arrive_during_a_fetch_go_in_the_next_and_batches_are_bounded() -> None:
    table = FakeTable({str(n): n for n in range(10)})
    reader = ReadBatcher(table.fetch, default=-1, max_batch=4)
    first = asyncio.gather(*(reader.get(str(n)) for n in range(6)))
    await asyncio.sleep(0.005)
    later = asyncio.gather(*(reader.get(str(n)) for n in range(6, 9)))
    assert await first == list(range(6))
    assert await later == [6, 7, 8]
    assert [len(f) for f in table.fetches] == [4, 4, 1]
    assert sorted(k for f in table.fetches for k in f) == sorted(str(n) for n in range(9))


async def test_a_failed_fetch_fails_its_callers_only() -> None:
    table = FakeTable({"a": 1}, fail=True)
    reader = ReadBatcher(table.fetch, default=0)
    results = await asyncio.gather(reader.get("a"), reader.get("b"), return_exceptions=True)
    assert all(isinstance(r, OSError) for r in results)
    table.fail = False
    assert await reader.get("a") == 1  # the next batch reads again
