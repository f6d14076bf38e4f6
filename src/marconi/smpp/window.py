"""Window accounting: which requests are outstanding, since when. Pure bookkeeping, no I/O.

An SMPP window is the number of requests one side may have sent without a response yet. The window
refuses a new request when full (:class:`~marconi.errors.WindowFull`) rather than queueing it; the
caller decides whether to wait, shed or retry. Entries are kept in sending order, so the ones that
waited longest are found first when timeouts are checked.
"""

from __future__ import annotations

from typing import NamedTuple

from marconi.errors import LocalProtocolError, WindowFull


class Outstanding(NamedTuple):
    """A request waiting for its response."""

    sequence_number: int
    command_id: int
    sent_at: float


class Window:
    """Outstanding requests keyed by sequence number, at most ``size`` of them."""

    __slots__ = ("_pending", "_size")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"window size must be at least 1, not {size}")
        self._size = size
        self._pending: dict[int, tuple[int, float]] = {}

    @property
    def size(self) -> int:
        return self._size

    @property
    def free(self) -> int:
        """Slots left; can be negative after a forced acquire."""
        return self._size - len(self._pending)

    @property
    def full(self) -> bool:
        return len(self._pending) >= self._size

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, sequence_number: object) -> bool:
        return sequence_number in self._pending

    def acquire(
        self, sequence_number: int, command_id: int, now: float, *, force: bool = False
    ) -> None:
        """Record a request as sent; ``force`` ignores the size (for keep-alive probes)."""
        pending = self._pending
        if len(pending) >= self._size and not force:
            raise WindowFull(self._size)
        if sequence_number in pending:
            raise LocalProtocolError(f"sequence_number {sequence_number} is already outstanding")
        pending[sequence_number] = (command_id, now)

    def release(self, sequence_number: int) -> Outstanding | None:
        """Forget a request because its response came; None if it was not outstanding."""
        entry = self._pending.pop(sequence_number, None)
        if entry is None:
            return None
        return Outstanding(sequence_number, entry[0], entry[1])

    def get(self, sequence_number: int) -> Outstanding | None:
        entry = self._pending.get(sequence_number)
        if entry is None:
            return None
        return Outstanding(sequence_number, entry[0], entry[1])

    def expire(self, now: float, timeout: float) -> list[Outstanding]:
        """Remove and return the requests sent ``timeout`` seconds or more before ``now``."""
        limit = now - timeout
        expired: list[Outstanding] = []
        for sequence_number, (command_id, sent_at) in self._pending.items():
            if sent_at > limit:
                break
            expired.append(Outstanding(sequence_number, command_id, sent_at))
        for entry in expired:
            del self._pending[entry.sequence_number]
        return expired

    def oldest(self) -> Outstanding | None:
        """The request that has waited longest, if any."""
        for sequence_number, (command_id, sent_at) in self._pending.items():
            return Outstanding(sequence_number, command_id, sent_at)
        return None

    def clear(self) -> list[Outstanding]:
        """Remove and return every outstanding request (the session ended)."""
        entries = [Outstanding(seq, cid, at) for seq, (cid, at) in self._pending.items()]
        self._pending.clear()
        return entries
