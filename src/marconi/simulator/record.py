"""What the simulator remembers about each accepted message, and for how long.

A :class:`MessageRecord` is created per accepted submit with its fate already decided and the time
it becomes final (``done_at``). Its state is computed on demand, never by a timer: before
``done_at`` it is en route, after it the decided fate. So answering ``query_sm`` costs no work on
the submit path.

:class:`MessageBook` keeps the most recent ``capacity`` records for ``query_sm`` and ``cancel_sm``
and forgets older ones in submit order, so memory stays flat however many messages go through.
"""

from __future__ import annotations

from collections import deque
from typing import Final

from marconi.simulator.rule import ENROUTE, Fate, Outcome

__all__ = ["MessageBook", "MessageRecord"]

# Receipt requests of registered_delivery bits 0-1 (SMPP 3.4 section 5.2.17).
RECEIPT_NONE: Final = 0
RECEIPT_ALWAYS: Final = 1
RECEIPT_ON_FAILURE: Final = 2

_DELETED: Final = Outcome(Fate.DELETED)


class MessageRecord:
    """One accepted message. Mutable only through :meth:`cancel`."""

    __slots__ = (
        "data_coding",
        "dest_addr_npi",
        "dest_addr_ton",
        "destination_addr",
        "done_at",
        "message_id",
        "outcome",
        "receipt",
        "sample",
        "source_addr",
        "source_addr_npi",
        "source_addr_ton",
        "submitted_at",
        "system_id",
    )

    def __init__(
        self,
        *,
        message_id: str,
        system_id: str,
        source_addr: str,
        destination_addr: str,
        submitted_at: float,
        done_at: float,
        outcome: Outcome,
        receipt: int = RECEIPT_NONE,
        source_addr_ton: int = 0,
        source_addr_npi: int = 0,
        dest_addr_ton: int = 0,
        dest_addr_npi: int = 0,
        data_coding: int = 0,
        sample: bytes = b"",
    ) -> None:
        self.message_id = message_id
        self.system_id = system_id
        self.source_addr = source_addr
        self.source_addr_ton = source_addr_ton
        self.source_addr_npi = source_addr_npi
        self.destination_addr = destination_addr
        self.dest_addr_ton = dest_addr_ton
        self.dest_addr_npi = dest_addr_npi
        self.submitted_at = submitted_at
        self.done_at = done_at
        self.outcome = outcome
        self.receipt = receipt
        self.data_coding = data_coding
        # The first octets of the message, for the receipt's ``text:`` field.
        self.sample = sample

    def __repr__(self) -> str:
        return (
            f"MessageRecord(message_id={self.message_id!r}, destination_addr="
            f"{self.destination_addr!r}, outcome={self.outcome!r}, done_at={self.done_at!r})"
        )

    def message_state(self, now: float) -> int:
        """The SMPP ``message_state`` at ``now``: en route until ``done_at``, then final."""
        return ENROUTE if now < self.done_at else self.outcome.fate.message_state

    def fate(self, now: float) -> Fate | None:
        """The final state at ``now``, or ``None`` while en route."""
        return None if now < self.done_at else self.outcome.fate

    def is_final(self, now: float) -> bool:
        return now >= self.done_at

    def wants_receipt(self) -> bool:
        """Whether registered_delivery asks for a receipt of the decided outcome."""
        if self.receipt == RECEIPT_ALWAYS:
            return True
        return self.receipt == RECEIPT_ON_FAILURE and self.outcome.fate is not Fate.DELIVERED

    def cancel(self, now: float) -> bool:
        """Delete a message still en route (``cancel_sm``); ``False`` when it is already final."""
        if now >= self.done_at:
            return False
        self.outcome = _DELETED
        self.done_at = now
        return True


class MessageBook:
    """The last ``capacity`` records by message id, oldest forgotten first."""

    __slots__ = ("_order", "_records", "capacity")

    def __init__(self, *, capacity: int = 100_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._records: dict[str, MessageRecord] = {}
        self._order: deque[str] = deque()

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._records

    def add(self, record: MessageRecord) -> None:
        records = self._records
        order = self._order
        records[record.message_id] = record
        order.append(record.message_id)
        if len(order) > self.capacity:
            records.pop(order.popleft(), None)

    def get(self, message_id: str) -> MessageRecord | None:
        return self._records.get(message_id)
