"""Group commit: concurrent writes share one transaction, each caller still gets its own answer.

A commit costs about the same for one row as for a hundred: SQLite takes one lock and syncs one
WAL append, PostgreSQL flushes its log once. So writers do not commit alone. A call hands its work
to :class:`GroupCommitter` and awaits; a worker takes everything waiting, runs it in one
transaction, commits, and only then resolves each caller. A failed commit fails every caller of
that transaction; when the failure may belong to one bad item, the batch is retried one job at a
time so only the guilty job fails.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Final, Generic, Protocol, TypeVar

import sqlalchemy.exc
from sqlalchemy.ext.asyncio import AsyncConnection

from marconi.errors import Conflict, MarconiError, StoreError

__all__ = ["AFTER_COMMIT", "BatchOp", "GroupCommitter", "after_commit"]

log = logging.getLogger(__name__)

AFTER_COMMIT: Final = "marconi.after_commit"

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")
ItemT_contra = TypeVar("ItemT_contra", contravariant=True)
ResultT_co = TypeVar("ResultT_co", covariant=True)


class BatchOp(Protocol[ItemT_contra, ResultT_co]):
    """One kind of write. ``run`` gets the items of every job of this kind in the batch, in
    order, and returns one result per item, or a :class:`MarconiError` for an item it refused
    without writing anything for it. Raising aborts the whole transaction."""

    async def __call__(
        self, conn: AsyncConnection, items: Sequence[ItemT_contra]
    ) -> Sequence[ResultT_co | MarconiError]: ...


@dataclass(slots=True)
class _Job(Generic[ItemT, ResultT]):
    op: BatchOp[ItemT, ResultT]
    item: ItemT
    future: asyncio.Future[ResultT]


class GroupCommitter:
    """Runs submitted writes in shared transactions on up to ``workers`` connections at once."""

    def __init__(
        self,
        *,
        begin: Callable[[], AbstractAsyncContextManager[AsyncConnection]],
        workers: int = 1,
        max_batch: int = 512,
    ) -> None:
        self._begin = begin
        self._max_batch = max_batch
        self._pending: collections.deque[_Job[Any, Any]] = collections.deque()
        self._wake = asyncio.Event()
        self._closing = False
        self._workers = [
            asyncio.create_task(self._work(), name="store-writer") for _ in range(workers)
        ]
        self.transactions = 0  # commits so far, for metrics and tests
        self.jobs = 0

    async def submit(self, op: BatchOp[ItemT, ResultT], item: ItemT) -> ResultT:
        if self._closing:
            raise StoreError("the store is closed")
        future: asyncio.Future[ResultT] = asyncio.get_running_loop().create_future()
        self._pending.append(_Job(op, item, future))
        self._wake.set()
        return await future

    async def aclose(self) -> None:
        """Finish what was submitted, then stop."""
        self._closing = True
        self._wake.set()
        await asyncio.gather(*self._workers, return_exceptions=True)

    async def _work(self) -> None:
        while True:
            while not self._pending:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
            jobs: list[_Job[Any, Any]] = []
            while self._pending and len(jobs) < self._max_batch:
                jobs.append(self._pending.popleft())
            if self._pending:
                self._wake.set()  # let another worker start on the rest
            await self._flush(jobs)

    async def _flush(self, jobs: list[_Job[Any, Any]]) -> None:
        try:
            results = await self._run(jobs)
        except Exception as exc:  # any failure must reach the callers, never kill the worker
            if len(jobs) > 1 and not _is_outage(exc):
                log.debug("batch of %d failed (%s); retrying one by one", len(jobs), exc)
                for job in jobs:
                    await self._flush([job])
                return
            error = exc if isinstance(exc, MarconiError) else _store_error(exc)
            for job in jobs:
                if not job.future.done():
                    job.future.set_exception(error)
            return
        self.transactions += 1
        self.jobs += len(jobs)
        for job, result in zip(jobs, results, strict=True):
            if job.future.done():
                continue
            if isinstance(result, BaseException):
                job.future.set_exception(result)
            else:
                job.future.set_result(result)

    async def _run(self, jobs: list[_Job[Any, Any]]) -> list[Any]:
        groups: dict[BatchOp[Any, Any], list[int]] = {}
        for i, job in enumerate(jobs):
            groups.setdefault(job.op, []).append(i)
        results: list[Any] = [None] * len(jobs)
        hooks: list[Callable[[], None]] = []
        async with self._begin() as conn:
            conn.info[AFTER_COMMIT] = hooks
            try:
                for op, indexes in groups.items():
                    out = await op(conn, [jobs[i].item for i in indexes])
                    if len(out) != len(indexes):
                        raise RuntimeError(
                            f"{op!r} returned {len(out)} results for {len(indexes)} items"
                        )
                    for i, result in zip(indexes, out, strict=True):
                        results[i] = result
            finally:
                del conn.info[AFTER_COMMIT]
        for hook in hooks:
            hook()
        return results


def after_commit(conn: AsyncConnection, hook: Callable[[], None]) -> None:
    """Run ``hook`` once the transaction ``conn`` is in has committed (never if it fails)."""
    hooks: list[Callable[[], None]] = conn.info[AFTER_COMMIT]
    if hook not in hooks:
        hooks.append(hook)


def _is_outage(exc: BaseException) -> bool:
    """Failures of the database itself, not of one item: retrying job by job cannot help."""
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(
        exc,
        OSError | TimeoutError | sqlalchemy.exc.InterfaceError | sqlalchemy.exc.TimeoutError,
    )


def _store_error(exc: BaseException) -> StoreError:
    error: StoreError
    if isinstance(exc, sqlalchemy.exc.IntegrityError):
        error = Conflict(f"the write conflicts with stored data: {exc.orig}")
    else:
        error = StoreError(f"the database failed the write: {type(exc).__name__}: {exc}")
    error.__cause__ = exc
    return error
