"""What the simulator remembers about each accepted message, and for how long.

A :class:`MessageRecord` is created per accepted message with its fate already decided and the
time it becomes final (``done_at``). Its state is computed on demand, never by a timer: before
``done_at`` it is en route, after it the decided fate. So answering ``query_sm`` costs no work on
the submit path. The record keeps the request PDU itself rather than copies of its fields: the
addresses, flags and octets are read from it only when a receipt or a handset needs them.

:class:`MessageBook` keeps the most recent messages for ``query_sm`` and ``cancel_sm`` in two
generations of at most ``capacity / 2`` each: when the young one is full it becomes the old one and
the previous old one is dropped whole. Adding is one dict store; memory is flat however many
messages go through, and at least the last ``capacity / 2`` messages are always found.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final, Protocol

from marconi.simulator.rule import ENROUTE, Fate, Outcome
from marconi.smpp import Tlvs

__all__ = [
    "RECEIPT_ALWAYS",
    "RECEIPT_NONE",
    "RECEIPT_ON_FAILURE",
    "Destination",
    "MessageBook",
    "MessageRecord",
    "Submitted",
]

# Receipt requests of registered_delivery bits 0-1 (SMPP 3.4 section 5.2.17).
RECEIPT_NONE: Final = 0
RECEIPT_ALWAYS: Final = 1
RECEIPT_ON_FAILURE: Final = 2

_DELETED: Final = Outcome(Fate.DELETED)


class Submitted(Protocol):
    """The request a message came in (submit_sm, data_sm or submit_multi)."""

    @property
    def source_addr_ton(self) -> int: ...
    @property
    def source_addr_npi(self) -> int: ...
    @property
    def source_addr(self) -> str: ...
    @property
    def esm_class(self) -> int: ...
    @property
    def data_coding(self) -> int: ...
    @property
    def tlvs(self) -> Tlvs: ...


class Destination(Protocol):
    """Where one message goes: the request itself, or one address of a submit_multi."""

    @property
    def dest_addr_ton(self) -> int: ...
    @property
    def dest_addr_npi(self) -> int: ...
    @property
    def destination_addr(self) -> str: ...


class MessageRecord:
    """One accepted message. Mutable only through :meth:`cancel` and :meth:`replace`."""

    __slots__ = (
        "body",
        "destination",
        "done_at",
        "message",
        "message_id",
        "outcome",
        "receipt",
        "submitted_at",
        "system_id",
    )

    def __init__(
        self,
        message_id: str,
        system_id: str,
        message: Submitted,
        destination: Destination,
        body: bytes,
        submitted_at: float,
        done_at: float,
        outcome: Outcome,
        receipt: int = RECEIPT_NONE,
    ) -> None:
        self.message_id = message_id
        self.system_id = system_id
        self.message = message
        self.destination = destination
        # short_message, or message_payload when short_message is empty; UDH included
        self.body = body
        self.submitted_at = submitted_at
        self.done_at = done_at
        self.outcome = outcome
        self.receipt = receipt

    def __repr__(self) -> str:
        return (
            f"MessageRecord(message_id={self.message_id!r}, destination_addr="
            f"{self.destination_addr!r}, outcome={self.outcome!r}, done_at={self.done_at!r})"
        )

    @property
    def source_addr(self) -> str:
        return self.message.source_addr

    @property
    def destination_addr(self) -> str:
        return self.destination.destination_addr

    @property
    def data_coding(self) -> int:
        return self.message.data_coding

    @property
    def esm_class(self) -> int:
        return self.message.esm_class

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

    def replace(self, body: bytes, now: float) -> bool:
        """Replace the text of a message still en route (``replace_sm``)."""
        if now >= self.done_at:
            return False
        self.body = body
        return True


class MessageBook:
    """Recent records by message id; see the module documentation for the bound."""

    __slots__ = ("_half", "_old", "_young", "capacity")

    def __init__(self, *, capacity: int = 100_000) -> None:
        if capacity < 2:
            raise ValueError("capacity must be at least 2")
        self.capacity = capacity
        self._half = capacity // 2
        self._young: dict[str, MessageRecord] = {}
        self._old: dict[str, MessageRecord] = {}

    def __len__(self) -> int:
        return len(self._young) + len(self._old)

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._young or message_id in self._old

    def __iter__(self) -> Iterator[MessageRecord]:
        """Every record kept, oldest first."""
        yield from list(self._old.values())
        yield from list(self._young.values())

    def add(self, record: MessageRecord) -> None:
        young = self._young
        young[record.message_id] = record
        if len(young) >= self._half:
            self._old = young
            self._young = {}

    def get(self, message_id: str) -> MessageRecord | None:
        record = self._young.get(message_id)
        if record is None:
            return self._old.get(message_id)
        return record
