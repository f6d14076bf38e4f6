"""Point reads that arrive together answered by one query.

A read through SQLAlchemy costs far more in connection handling than in the lookup itself, so a
hot path that reads one row per request (the send path's opt-out check) would be bound by that
overhead. :class:`ReadBatcher` gathers the keys asked for while a query runs and looks them all up
in the next one: the group commit's idea, for reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Generic, TypeVar

__all__ = ["ReadBatcher"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ReadBatcher(Generic[K, V]):
    """``fetch(keys)`` returns the values found; a key it leaves out reads as ``default``."""

    def __init__(
        self,
        fetch: Callable[[Sequence[K]], Awaitable[Mapping[K, V]]],
        *,
        default: V,
        max_batch: int = 500,
    ) -> None:
        self._fetch = fetch
        self._default = default
        self._max_batch = max_batch
        self._waiting: dict[K, list[asyncio.Future[V]]] = {}
        self._task: asyncio.Task[None] | None = None

    async def get(self, key: K) -> V:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[V] = loop.create_future()
        self._waiting.setdefault(key, []).append(future)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run(), name="read-batch")
        return await future

    async def _run(self) -> None:
        await asyncio.sleep(0)  # let the requests that arrived with this one join it
        while self._waiting:
            keys = list(self._waiting)[: self._max_batch]
            futures = {key: self._waiting.pop(key) for key in keys}
            try:
                found = await self._fetch(keys)
            except Exception as exc:  # every caller of the batch gets the failure
                for waiting in futures.values():
                    for future in waiting:
                        if not future.done():
                            future.set_exception(exc)
                continue
            for key, waiting in futures.items():
                value = found.get(key, self._default)
                for future in waiting:
                    if not future.done():
                        future.set_result(value)
