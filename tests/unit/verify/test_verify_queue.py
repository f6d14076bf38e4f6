"""One batch of starts in flight: those arriving meanwhile go together in the next."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from marconi.errors import NotFound
from marconi.store.verify_queue import OneBatch


class FakeWriter:
    """Writes batches of numbers when told to, answering each with its double."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.release = asyncio.Event()
        self.fail: Exception | None = None

    async def __call__(self, items: list[int]) -> Sequence[int | BaseException]:
        self.batches.append(items)
        await self.release.wait()
        if self.fail is not None:
            raise self.fail
        return [NotFound(f"no {n}") if n < 0 else n * 2 for n in items]


async def test_starts_arriving_during_a_write_go_together_in_the_next() -> None:
    writer = FakeWriter()
    queue: OneBatch[int, int] = OneBatch(writer)
    first = asyncio.create_task(queue.submit(1))
    await asyncio.sleep(0)
    later = [asyncio.create_task(queue.submit(n)) for n in (2, 3, 4)]
    await asyncio.sleep(0)
    assert writer.batches == [[1]]  # one in flight, the others wait
    writer.release.set()
    assert await asyncio.gather(first, *later) == [2, 4, 6, 8]
    assert writer.batches == [[1], [2, 3, 4]]


async def test_a_refused_start_fails_alone() -> None:
    writer = FakeWriter()
    writer.release.set()
    queue: OneBatch[int, int] = OneBatch(writer)
    results = await asyncio.gather(*(queue.submit(n) for n in (1, -1, 3)), return_exceptions=True)
    assert results[0] == 2
    assert results[2] == 6
    assert isinstance(results[1], NotFound)


async def test_a_failed_write_fails_its_batch_and_the_next_one_runs() -> None:
    writer = FakeWriter()
    writer.fail = RuntimeError("database down")
    writer.release.set()
    queue: OneBatch[int, int] = OneBatch(writer)
    with pytest.raises(RuntimeError):
        await queue.submit(1)
    writer.fail = None
    assert await queue.submit(2) == 4


async def test_a_cancelled_start_leaves_the_others_of_its_batch_answered() -> None:
    writer = FakeWriter()
    queue: OneBatch[int, int] = OneBatch(writer)
    leader = asyncio.create_task(queue.submit(1))
    await asyncio.sleep(0)
    follower = asyncio.create_task(queue.submit(2))
    await asyncio.sleep(0)
    second_leader = asyncio.create_task(queue.submit(3))
    await asyncio.sleep(0)
    leader.cancel()
    writer.release.set()
    assert await follower == 4
    assert await second_leader == 6
    assert writer.batches[0] == [1]
