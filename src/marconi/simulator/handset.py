"""Virtual handsets: which messages each fake phone received (and sent), within fixed bounds.

Every accepted submit is filed under its destination number. Parts of a concatenated message are
filed under one entry and shown as one message with the reassembled text; the text is decoded only
when someone looks (:meth:`HandsetBook.messages`), so the submit path does no decoding at all.

Memory is bounded twice: each handset keeps its last ``per_handset`` messages, and the book keeps
the ``max_handsets`` most recently active handsets, forgetting the least recently active first.
"""

from __future__ import annotations

import enum
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from marconi.simulator.record import MessageRecord
from marconi.simulator.rule import Fate, normalize_number

__all__ = ["Decoder", "Direction", "HandsetBook", "HandsetMessage"]

Decoder = Callable[[bytes, int, bytes], str]
"""``decoder(body, data_coding, udh) -> text``; may raise ``ValueError`` for undecodable bytes."""


class Direction(enum.StrEnum):
    RECEIVED = "received"  # mobile-terminated: an ESME sent it to this handset
    SENT = "sent"  # mobile-originated: this handset sent it to an ESME


@dataclass(frozen=True, slots=True)
class HandsetMessage:
    """One message as the handset shows it: whole, never as parts."""

    number: str
    direction: Direction
    peer: str
    text: str
    message_ids: tuple[str, ...]
    at: float
    parts: int
    total_parts: int
    fate: Fate | None
    data_coding: int

    @property
    def complete(self) -> bool:
        return self.parts == self.total_parts


class _Part:
    __slots__ = ("body", "data_coding", "record", "udh")

    def __init__(self, record: MessageRecord, body: bytes, data_coding: int, udh: bytes) -> None:
        self.record = record
        self.body = body
        self.data_coding = data_coding
        self.udh = udh


class _Entry:
    __slots__ = ("at", "direction", "fate", "message_ids", "parts", "peer", "text", "total")

    def __init__(self, direction: Direction, peer: str, at: float, total: int) -> None:
        self.direction = direction
        self.peer = peer
        self.at = at
        self.total = total
        self.parts: dict[int, _Part] = {}
        self.text: str | None = None
        self.message_ids: tuple[str, ...] = ()
        self.fate: Fate | None = None


_ConcatKey = tuple[str, int, int]


class _Handset:
    __slots__ = ("entries", "pending")

    def __init__(self, per_handset: int) -> None:
        self.entries: deque[_Entry] = deque(maxlen=per_handset)
        self.pending: OrderedDict[_ConcatKey, _Entry] = OrderedDict()


def _worst(fates: list[Fate | None]) -> Fate | None:
    if not fates or any(f is None for f in fates):
        return None
    for fate in fates:
        if fate is not Fate.DELIVERED:
            return fate
    return Fate.DELIVERED


class HandsetBook:
    """Handsets by number, each with its recent messages."""

    __slots__ = ("_handsets", "decoder", "max_handsets", "per_handset")

    def __init__(
        self, *, decoder: Decoder, max_handsets: int = 1_000, per_handset: int = 50
    ) -> None:
        if max_handsets < 1 or per_handset < 1:
            raise ValueError("handset bounds must be at least 1")
        self.decoder = decoder
        self.max_handsets = max_handsets
        self.per_handset = per_handset
        self._handsets: OrderedDict[str, _Handset] = OrderedDict()

    def __len__(self) -> int:
        return len(self._handsets)

    def numbers(self) -> list[str]:
        """Handset numbers, most recently active first."""
        return list(reversed(self._handsets))

    def clear(self) -> None:
        self._handsets.clear()

    def _handset(self, number: str) -> _Handset:
        handsets = self._handsets
        handset = handsets.get(number)
        if handset is None:
            handset = handsets[number] = _Handset(self.per_handset)
            if len(handsets) > self.max_handsets:
                handsets.popitem(last=False)
        else:
            handsets.move_to_end(number)
        return handset

    def add_received(
        self,
        record: MessageRecord,
        body: bytes,
        *,
        at: float,
        data_coding: int = 0,
        udh: bytes = b"",
        concat: tuple[int, int, int] | None = None,
    ) -> None:
        """File one submitted message (or one part: ``concat`` is ``(reference, total, seq)``)."""
        number = record.destination_addr
        if number[:1] == "+":
            number = number[1:]
        handset = self._handset(number)
        part = _Part(record, body, data_coding, udh)
        if concat is None or concat[1] <= 1:
            entry = _Entry(Direction.RECEIVED, record.source_addr, at, 1)
            entry.parts[1] = part
            handset.entries.append(entry)
            return
        reference, total, seq = concat
        key = (record.source_addr, reference, total)
        pending = handset.pending
        entry_or_none = pending.get(key)
        if entry_or_none is None:
            entry = _Entry(Direction.RECEIVED, record.source_addr, at, total)
            handset.entries.append(entry)
            pending[key] = entry
            if len(pending) > self.per_handset:
                pending.popitem(last=False)
        else:
            entry = entry_or_none
        entry.parts[seq] = part
        if len(entry.parts) >= total:
            pending.pop(key, None)

    def add_sent(
        self,
        number: str,
        *,
        peer: str,
        text: str,
        message_ids: tuple[str, ...],
        at: float,
        fate: Fate | None,
        total_parts: int = 1,
    ) -> None:
        """File a mobile-originated message the handset ``number`` sent to ``peer``."""
        handset = self._handset(normalize_number(number))
        entry = _Entry(Direction.SENT, peer, at, total_parts)
        entry.text = text
        entry.message_ids = message_ids
        entry.fate = fate
        handset.entries.append(entry)

    def messages(self, number: str, *, now: float) -> list[HandsetMessage]:
        """The messages of handset ``number``, oldest first; ``now`` is on the records' clock."""
        key = normalize_number(number)
        handset = self._handsets.get(key)
        if handset is None:
            return []
        return [self._show(key, entry, now) for entry in handset.entries]

    def __iter__(self) -> Iterator[str]:
        return iter(self.numbers())

    def _show(self, number: str, entry: _Entry, now: float) -> HandsetMessage:
        if entry.text is not None:
            return HandsetMessage(
                number=number,
                direction=entry.direction,
                peer=entry.peer,
                text=entry.text,
                message_ids=entry.message_ids,
                at=entry.at,
                parts=entry.total,
                total_parts=entry.total,
                fate=entry.fate,
                data_coding=0,
            )
        parts = [entry.parts[seq] for seq in sorted(entry.parts)]
        first = parts[0]
        body = b"".join(p.body for p in parts)
        try:
            text = self.decoder(body, first.data_coding, first.udh)
        except ValueError:
            text = body.hex()
        return HandsetMessage(
            number=number,
            direction=entry.direction,
            peer=entry.peer,
            text=text,
            message_ids=tuple(p.record.message_id for p in parts),
            at=entry.at,
            parts=len(parts),
            total_parts=entry.total,
            fate=_worst([p.record.fate(now) for p in parts]),
            data_coding=first.data_coding,
        )
