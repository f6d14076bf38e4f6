"""Virtual handsets: which messages each fake phone received (and sent), within a fixed bound.

Filing a message costs one append: the book is a ring of the last ``capacity`` messages (and
message parts) of all handsets together, holding the message records as they are. All the work
happens when someone looks: :meth:`HandsetBook.messages` picks one number's messages out of the
ring, joins the parts of concatenated messages (by UDH or SAR TLVs, in order, whatever order they
came in) and decodes the text (GSM-7 with national tables, UCS-2, Latin-1...). At most
``per_handset`` messages are shown per handset, the most recent ones.

So the memory bound is global: a handset that receives a flood pushes quieter handsets' older
messages out of the ring. For a developer's inbox and for tests that look right after sending, the
recent past is what matters; the bound keeps the simulator's memory flat under load.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from marconi.errors import MarconiError
from marconi.simulator.record import MessageRecord
from marconi.simulator.rule import Fate, normalize_number
from marconi.smpp import Tag
from marconi.text.reassembly import decode_short_message
from marconi.text.udh import UDHI, UserDataHeader

__all__ = ["Direction", "HandsetBook", "HandsetMessage"]


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
    """Wall-clock time (seconds since the epoch) of its first part."""
    parts: int
    total_parts: int
    fate: Fate | None
    """The final state (the worst of its parts), or ``None`` while any part is en route."""
    data_coding: int

    @property
    def complete(self) -> bool:
        return self.parts == self.total_parts


@dataclass(frozen=True, slots=True)
class _Sent:
    number: str
    peer: str
    text: str
    message_ids: tuple[str, ...]
    at: float
    fate: Fate | None


class _Parts:
    __slots__ = ("parts", "total")

    def __init__(self, total: int) -> None:
        self.total = total
        self.parts: dict[int, MessageRecord] = {}


def _concat_key(record: MessageRecord) -> tuple[int, int, int] | None:
    """``(reference, total, sequence)`` of a part, from its UDH or its SAR TLVs."""
    message = record.message
    if message.esm_class & UDHI and record.body:
        try:
            header, _ = UserDataHeader.parse(record.body)
        except MarconiError:
            return None
        info = header.concatenation
        if info is not None and info.total > 1:
            return info.reference, info.total, info.sequence
        return None
    tlvs = message.tlvs
    if tlvs and Tag.SAR_MSG_REF_NUM in tlvs:
        total = tlvs.get_int(Tag.SAR_TOTAL_SEGMENTS) or 1
        seq = tlvs.get_int(Tag.SAR_SEGMENT_SEQNUM) or 1
        if total > 1 and 1 <= seq <= total:
            return tlvs.get_int(Tag.SAR_MSG_REF_NUM) or 0, total, seq
    return None


def _payload(record: MessageRecord) -> tuple[bytes, bytes]:
    """``(udh, payload)`` of a record's body."""
    body = record.body
    if record.message.esm_class & UDHI and body:
        try:
            _, payload = UserDataHeader.parse(body)
        except MarconiError:
            return b"", body
        return body[: len(body) - len(payload)], payload
    return b"", body


def _decode(parts: list[MessageRecord]) -> str:
    """The text of a message's parts, joined before decoding (so that an escape or a surrogate
    pair split across parts still reads right); undecodable data is shown in hex."""
    first = parts[0]
    udh, _ = _payload(first)
    payload = b"".join(_payload(p)[1] for p in parts)
    try:
        decoded = decode_short_message(
            udh + payload,
            data_coding=first.data_coding,
            esm_class=UDHI if udh else 0,
            errors="replace",
        )
    except MarconiError:
        return payload.hex()
    return decoded.text if decoded.text is not None else payload.hex()


def _worst(fates: list[Fate | None]) -> Fate | None:
    if any(f is None for f in fates):
        return None
    for fate in fates:
        if fate is not Fate.DELIVERED:
            return fate
    return Fate.DELIVERED


class HandsetBook:
    """The recent traffic of every virtual handset; see the module documentation."""

    __slots__ = ("_ring", "clock_offset", "per_handset")

    def __init__(
        self, *, capacity: int = 10_000, per_handset: int = 50, clock_offset: float = 0.0
    ) -> None:
        if capacity < 1 or per_handset < 1:
            raise ValueError("handset bounds must be at least 1")
        self.per_handset = per_handset
        # Records carry times of the simulator's clock; this turns them into wall-clock times.
        self.clock_offset = clock_offset
        self._ring: deque[MessageRecord | _Sent] = deque(maxlen=capacity)

    @property
    def capacity(self) -> int:
        maxlen = self._ring.maxlen
        assert maxlen is not None
        return maxlen

    def __len__(self) -> int:
        """Messages and parts held."""
        return len(self._ring)

    def clear(self) -> None:
        self._ring.clear()

    def add_received(self, record: MessageRecord) -> None:
        """File one submitted message or part under its destination."""
        self._ring.append(record)

    def add_sent(
        self,
        number: str,
        *,
        peer: str,
        text: str,
        message_ids: tuple[str, ...],
        at: float,
        fate: Fate | None,
    ) -> None:
        """File a mobile-originated message that handset ``number`` sent to ``peer``."""
        self._ring.append(_Sent(normalize_number(number), peer, text, message_ids, at, fate))

    def numbers(self) -> list[str]:
        """Handset numbers in the book, most recently active first."""
        seen: dict[str, None] = {}
        for item in reversed(self._ring):
            number = item.number if isinstance(item, _Sent) else item.destination_addr
            seen.setdefault(normalize_number(number), None)
        return list(seen)

    def __iter__(self) -> Iterator[str]:
        return iter(self.numbers())

    def messages(self, number: str, *, now: float) -> list[HandsetMessage]:
        """The last ``per_handset`` messages of handset ``number``, oldest first.

        ``now`` is on the records' clock and decides which parts are still en route.
        """
        key = normalize_number(number)
        shown: list[MessageRecord | _Sent | _Parts] = []
        groups: dict[tuple[str, int, int], _Parts] = {}
        for item in self._ring:
            if isinstance(item, _Sent):
                if item.number == key:
                    shown.append(item)
                continue
            if normalize_number(item.destination_addr) != key:
                continue
            concat = _concat_key(item)
            if concat is None:
                shown.append(item)
                continue
            reference, total, seq = concat
            group_key = (item.source_addr, reference, total)
            group = groups.get(group_key)
            if group is None or len(group.parts) >= total:
                # a complete message is closed: the same reference starts a new one
                group = groups[group_key] = _Parts(total)
                shown.append(group)
            group.parts[seq] = item  # a part sent twice counts once, the latest wins
        return [self._show(key, item, now) for item in shown[-self.per_handset :]]

    def _show(
        self, number: str, item: MessageRecord | _Sent | _Parts, now: float
    ) -> HandsetMessage:
        if isinstance(item, _Sent):
            return HandsetMessage(
                number=number,
                direction=Direction.SENT,
                peer=item.peer,
                text=item.text,
                message_ids=item.message_ids,
                at=item.at,
                parts=len(item.message_ids),
                total_parts=len(item.message_ids),
                fate=item.fate,
                data_coding=0,
            )
        if isinstance(item, MessageRecord):
            parts = [item]
            total = 1
        else:
            parts = [item.parts[seq] for seq in sorted(item.parts)]
            total = item.total
        first = parts[0]
        return HandsetMessage(
            number=number,
            direction=Direction.RECEIVED,
            peer=first.source_addr,
            text=_decode(parts),
            message_ids=tuple(p.message_id for p in parts),
            at=min(p.submitted_at for p in parts) + self.clock_offset,
            parts=len(parts),
            total_parts=total,
            fate=_worst([p.fate(now) for p in parts]),
            data_coding=first.data_coding,
        )
