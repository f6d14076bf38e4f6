"""Gathers items handed over one at a time into one store call, and answers each caller.

Used for inbound PDUs: the SMPP hook hands a receipt over and returns a future at once; the
future resolves to the command_status of the deliver_sm_resp once the batch holding it is
committed (``ESME_ROK``), or failed (``ESME_RX_T_APPN``: the SMSC will deliver it again). So
the SMSC is never told a receipt is safe before it is, and a thousand receipts cost one commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Final, Generic, TypeVar

from marconi.smpp import CommandStatus

__all__ = ["Batcher"]

log = logging.getLogger(__name__)

T = TypeVar("T")

_OK: Final = int(CommandStatus.ESME_ROK)
_RETRY: Final = int(CommandStatus.ESME_RX_T_APPN)


class Batcher(Generic[T]):
    """Calls ``flush(items)`` with everything added meanwhile, one call at a time."""

    def __init__(
        self,
        flush: Callable[[Sequence[T]], Awaitable[None]],
        *,
        max_batch: int = 2000,
        name: str = "batch",
    ) -> None:
        self._flush = flush
        self._max_batch = max_batch
        self._name = name
        self._items: list[T] = []
        self._futures: list[asyncio.Future[int]] = []
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        return len(self._items)

    def add(self, item: T) -> asyncio.Future[int]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        self._items.append(item)
        self._futures.append(future)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run(), name=self._name)
        return future

    async def _run(self) -> None:
        # Let the rest of what one read brought in join this batch.
        await asyncio.sleep(0)
        while self._items:
            items = self._items[: self._max_batch]
            futures = self._futures[: self._max_batch]
            del self._items[: self._max_batch]
            del self._futures[: self._max_batch]
            status = _OK
            try:
                await self._flush(items)
            except Exception:
                log.exception(
                    "%s: storing %d items failed; the SMSC will resend", self._name, len(items)
                )
                status = _RETRY
            for future in futures:
                if not future.done():
                    future.set_result(status)

    async def drain(self) -> None:
        """Wait until everything added so far is flushed."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)
