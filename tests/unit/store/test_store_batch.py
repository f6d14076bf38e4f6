"""Group commit, driven by fake transactions: no database, no sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, cast

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from marconi.errors import Conflict, MarconiError, StoreError
from marconi.store.batch import GroupCommitter, after_commit


class FakeDatabase:
    """Records each transaction's items; commits fail when told to."""

    def __init__(self) -> None:
        self.committed: list[list[int]] = []
        self.fail_commit_with: int | None = None  # a commit holding this item fails
        self.down = False
        self._open: list[int] | None = None
        self.info: dict[str, object] = {}  # as AsyncConnection.info
        self.hooked: list[int] = []  # items whose after-commit hook ran

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        if self.down:
            raise ConnectionRefusedError("database is down")
        self._open = []
        yield cast(AsyncConnection, self)
        await asyncio.sleep(0)  # the commit takes a moment, so more work queues up
        items, self._open = self._open, None
        if self.fail_commit_with is not None and self.fail_commit_with in items:
            raise RuntimeError("constraint failed")
        self.committed.append(items)

    async def double(self, conn: AsyncConnection, items: Sequence[int]) -> list[int | MarconiError]:
        assert conn is cast(AsyncConnection, self)
        assert self._open is not None
        out: list[int | MarconiError] = []
        for item in items:
            after_commit(conn, lambda item=item: self.hooked.append(item))
            if item < 0:
                out.append(Conflict(f"refused {item}"))
            else:
                self._open.append(item)
                out.append(item * 2)
        return out


@pytest.fixture
async def db() -> AsyncIterator[tuple[FakeDatabase, GroupCommitter]]:
    fake = FakeDatabase()
    committer = GroupCommitter(begin=fake.begin)
    yield fake, committer
    await committer.aclose()


async def test_concurrent_calls_share_transactions(db: tuple[FakeDatabase, GroupCommitter]) -> None:
    fake, committer = db
    results = await asyncio.gather(*(committer.submit(fake.double, i) for i in range(100)))
    assert results == [i * 2 for i in range(100)]
    assert sorted(i for t in fake.committed for i in t) == list(range(100))
    assert len(fake.committed) < 10
    assert committer.transactions == len(fake.committed)


async def test_a_refused_item_fails_alone(db: tuple[FakeDatabase, GroupCommitter]) -> None:
    fake, committer = db
    results = await asyncio.gather(
        *(committer.submit(fake.double, i) for i in (1, -1, 2)), return_exceptions=True
    )
    assert results[0] == 2
    assert isinstance(results[1], Conflict)
    assert results[2] == 4


async def test_a_failed_commit_is_retried_one_by_one(
    db: tuple[FakeDatabase, GroupCommitter],
) -> None:
    fake, committer = db
    fake.fail_commit_with = 13
    results = await asyncio.gather(
        *(committer.submit(fake.double, i) for i in range(10, 17)), return_exceptions=True
    )
    failed = [r for r in results if isinstance(r, BaseException)]
    assert len(failed) == 1
    assert isinstance(failed[0], StoreError)
    assert "constraint failed" in str(failed[0])
    assert sorted(i for t in fake.committed for i in t) == [10, 11, 12, 14, 15, 16]


async def test_an_outage_fails_every_caller_at_once(
    db: tuple[FakeDatabase, GroupCommitter],
) -> None:
    fake, committer = db
    fake.down = True
    results = await asyncio.gather(
        *(committer.submit(fake.double, i) for i in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, StoreError) for r in results)
    fake.down = False
    assert await committer.submit(fake.double, 7) == 14  # and it recovers by itself


async def test_close_finishes_submitted_work_then_refuses() -> None:
    fake = FakeDatabase()
    committer = GroupCommitter(begin=fake.begin)
    pending = [asyncio.ensure_future(committer.submit(fake.double, i)) for i in range(5)]
    await asyncio.sleep(0)
    await committer.aclose()
    assert [p.result() for p in pending] == [0, 2, 4, 6, 8]
    with pytest.raises(StoreError, match="closed"):
        await committer.submit(fake.double, 1)


async def test_several_workers_run_transactions_at_once() -> None:
    fake = FakeDatabase()
    in_flight = 0
    most = 0

    @asynccontextmanager
    async def slow_begin() -> AsyncIterator[Any]:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        try:
            async with fake.begin() as conn:
                yield conn
                await asyncio.sleep(0.01)
        finally:
            in_flight -= 1

    committer = GroupCommitter(begin=slow_begin, workers=3, max_batch=2)
    await asyncio.gather(*(committer.submit(fake.double, i) for i in range(12)))
    await committer.aclose()
    assert most == 3


async def test_after_commit_hooks_run_only_for_committed_work(
    db: tuple[FakeDatabase, GroupCommitter],
) -> None:
    fake, committer = db
    fake.fail_commit_with = 13
    await asyncio.gather(
        *(committer.submit(fake.double, i) for i in (11, 12, 13)), return_exceptions=True
    )
    committed = sorted(i for t in fake.committed for i in t)
    assert committed == [11, 12]
    assert sorted(fake.hooked) == [11, 12]
