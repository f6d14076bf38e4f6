"""A timer wheel: many due items, one timer.

Items are grouped into buckets of ``resolution`` seconds; a small heap orders the bucket numbers.
Adding an item costs a dict lookup and a list append (a heap push only when its bucket is new), and
the owner arms a single event-loop timer for :meth:`next_due`, then collects every item whose bucket
is due with :meth:`pop_due`. An item never fires early; it may fire up to ``resolution`` late.

Pure: times are plain floats from whatever clock the owner uses.
"""

from __future__ import annotations

import heapq
import math
from typing import Generic, TypeVar

__all__ = ["TimerWheel"]

T = TypeVar("T")


class TimerWheel(Generic[T]):
    __slots__ = ("_buckets", "_heap", "_len", "resolution")

    def __init__(self, *, resolution: float = 0.005) -> None:
        if not resolution > 0:
            raise ValueError("resolution must be positive")
        self.resolution = resolution
        self._buckets: dict[int, list[T]] = {}
        self._heap: list[int] = []
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def add(self, due: float, item: T) -> bool:
        """Schedule ``item`` at ``due``; ``True`` when this made :meth:`next_due` earlier."""
        key = math.ceil(due / self.resolution)
        if key * self.resolution < due:  # the division rounded down by an ulp
            key += 1
        bucket = self._buckets.get(key)
        self._len += 1
        if bucket is not None:
            bucket.append(item)
            return False
        self._buckets[key] = [item]
        heap = self._heap
        heapq.heappush(heap, key)
        return heap[0] == key

    def next_due(self) -> float | None:
        """When the earliest bucket falls due, or ``None`` when empty."""
        if not self._heap:
            return None
        return self._heap[0] * self.resolution

    def pop_due(self, now: float, limit: int | None = None) -> list[T]:
        """Remove and return the items due at ``now``, in due order (at most ``limit``)."""
        out: list[T] = []
        heap = self._heap
        buckets = self._buckets
        resolution = self.resolution
        while heap and heap[0] * resolution <= now:
            key = heap[0]
            bucket = buckets[key]
            if limit is not None and len(out) + len(bucket) > limit:
                take = limit - len(out)
                out.extend(bucket[:take])
                del bucket[:take]
                break
            heapq.heappop(heap)
            del buckets[key]
            out.extend(bucket)
        self._len -= len(out)
        return out

    def clear(self) -> list[T]:
        """Remove and return every item, in due order."""
        out: list[T] = []
        for key in sorted(self._buckets):
            out.extend(self._buckets[key])
        self._buckets.clear()
        self._heap.clear()
        self._len = 0
        return out
