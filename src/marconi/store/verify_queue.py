"""One batch of verification starts in flight per process; the starts arriving meanwhile wait
and go together in the next.

Every start of a service locks the service's row, so two batches written at once on two of
PostgreSQL's writer connections would only wait for each other, each smaller than one would be.
The first start to find no batch in flight writes the waiting ones; it answers them all.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["OneBatch"]

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")

Write = Callable[[list[ItemT]], Awaitable[Sequence[ResultT | BaseException]]]


class OneBatch(Generic[ItemT, ResultT]):
    def __init__(self, write: Write[ItemT, ResultT]) -> None:
        self._write = write
        self._waiting: list[tuple[ItemT, asyncio.Future[ResultT]]] = []
        self._busy = False
        self._written = asyncio.Event()
        self._task: asyncio.Future[Sequence[ResultT | BaseException]] | None = None

    async def submit(self, item: ItemT) -> ResultT:
        future: asyncio.Future[ResultT] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        while not future.done():
            if self._busy:
                await self._written.wait()
            else:
                await self._flush()
        return future.result()

    async def _flush(self) -> None:
        self._busy = True
        batch, self._waiting = self._waiting, []
        task = self._task = asyncio.ensure_future(self._write([item for item, _ in batch]))
        task.add_done_callback(functools.partial(self._settle, batch))
        # A start cancelled here leaves its batch running: the others' answers come from it.
        await asyncio.wait([task])

    def _settle(
        self,
        batch: list[tuple[ItemT, asyncio.Future[ResultT]]],
        task: asyncio.Future[Sequence[ResultT | BaseException]],
    ) -> None:
        self._busy = False
        written, self._written = self._written, asyncio.Event()
        written.set()
        if task.cancelled():
            for _, future in batch:
                future.cancel()
            return
        failure = task.exception()
        if failure is not None:
            for _, future in batch:
                if not future.done():
                    future.set_exception(failure)
            return
        for (_, future), result in zip(batch, task.result(), strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
