"""Reading what arrives: one short_message decoded by its data_coding and esm_class, and the parts
of concatenated messages put back together.

Parts belong together when they share source, destination, reference and total, whether the
reference came in a UDH (8- or 16-bit) or in SAR TLVs. They may arrive in any order; a part seen
twice counts once (an SMSC resends a deliver_sm whose response it missed, even after the message
is complete). A message whose parts stop coming is handed back by :meth:`Reassembler.expire` with
the parts that did arrive. Time comes from the caller (``now``); nothing here reads a clock.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from marconi.errors import EncodingError
from marconi.text.dcs import PYTHON_CODECS, Alphabet, DataCoding, MessageClass
from marconi.text.gsm7 import SeptetCharset
from marconi.text.national import decoding_charset
from marconi.text.packing import fill_bits, unpack_septets
from marconi.text.segment import SarInfo
from marconi.text.ucs2 import decode_ucs2
from marconi.text.udh import UDHI, PortAddressing, UserDataHeader

_NO_TEXT: Final = frozenset(
    {
        Alphabet.BINARY,
        Alphabet.JIS,
        Alphabet.PICTOGRAM,
        Alphabet.EXTENDED_KANJI,
        Alphabet.RESERVED,
    }
)


@dataclass(frozen=True, slots=True)
class DecodedMessage:
    """One short_message, read."""

    text: str | None
    """None for binary data, compressed text, or an alphabet Marconi has no decoder for."""
    payload: bytes
    """After the UDH: septets one per octet for GSM-7 (unpacked if it came packed), else octets."""
    udh: UserDataHeader | None
    coding: DataCoding
    alphabet: Alphabet
    """``coding.alphabet`` with SMSC_DEFAULT resolved to what the SMSC uses."""
    charset: SeptetCharset | None
    """The 7-bit tables used, for GSM-7."""

    @property
    def encoding(self) -> str:
        return self.charset.name if self.charset is not None else str(self.alphabet)


def _decode_payload(
    payload: bytes,
    alphabet: Alphabet,
    charset: SeptetCharset | None,
    *,
    compressed: bool,
    errors: str,
) -> str | None:
    if compressed or alphabet in _NO_TEXT:
        return None
    if charset is not None:
        return charset.decode(payload, errors=errors)
    if alphabet is Alphabet.UCS2:
        return decode_ucs2(payload, errors=errors)
    codec = PYTHON_CODECS.get(alphabet)
    if codec is None:
        return None
    try:
        return codecs.decode(payload, codec, errors)
    except UnicodeDecodeError as exc:
        raise EncodingError(f"invalid {alphabet} data at octet {exc.start}") from exc


def decode_short_message(
    short_message: bytes,
    *,
    data_coding: int,
    esm_class: int = 0,
    smsc_default: Alphabet = Alphabet.GSM7,
    packed: bool = False,
    errors: str = "strict",
) -> DecodedMessage:
    """Read a short_message as received in a deliver_sm or submit_sm.

    ``smsc_default`` is what data_coding 0x00 means on this link (GSM-7 nearly everywhere,
    sometimes Latin-1 or IA5). ``packed`` says whether GSM-7 arrives packed. With
    ``errors="replace"`` undecodable units become U+FFFD instead of raising EncodingError; a
    malformed UDH always raises.
    """
    coding = DataCoding.parse(data_coding)
    alphabet = smsc_default if coding.alphabet is Alphabet.SMSC_DEFAULT else coding.alphabet
    udh: UserDataHeader | None = None
    payload = short_message
    header_octets = 0
    if esm_class & UDHI:
        udh, payload = UserDataHeader.parse(short_message)
        header_octets = len(short_message) - len(payload)
    charset = None
    if alphabet is Alphabet.GSM7:
        if packed:
            payload = unpack_septets(payload, fill_bits=fill_bits(header_octets), cr_padding=True)
        charset = decoding_charset(
            udh.locking_shift if udh is not None else None,
            udh.single_shift if udh is not None else None,
        )
    text = _decode_payload(payload, alphabet, charset, compressed=coding.compressed, errors=errors)
    return DecodedMessage(
        text=text, payload=payload, udh=udh, coding=coding, alphabet=alphabet, charset=charset
    )


@dataclass(frozen=True, slots=True)
class ReceivedPart:
    """A short_message as it came, with the fields that say how to read it."""

    source: str
    destination: str
    short_message: bytes
    data_coding: int = 0
    esm_class: int = 0
    sar: SarInfo | None = None
    """SAR TLV values, when the message was split that way."""


@dataclass(frozen=True, slots=True)
class ReassembledMessage:
    source: str
    destination: str
    text: str | None
    payload: bytes
    """The parts' payloads joined, UDHs stripped."""
    encoding: str
    alphabet: Alphabet
    message_class: MessageClass | None
    reference: int | None
    """None for a message that came in one part."""
    parts: tuple[ReceivedPart, ...]
    """In sequence order."""
    ports: PortAddressing | None = None


@dataclass(frozen=True, slots=True)
class IncompleteMessage:
    """A concatenated message whose missing parts did not arrive in time."""

    source: str
    destination: str
    reference: int
    total: int
    parts: tuple[ReceivedPart, ...]
    """The parts that arrived, in sequence order."""
    missing: tuple[int, ...]
    """Sequence numbers (1-based) that never came."""
    text: str | None
    """The text of the parts that arrived, joined in order (gaps not marked)."""


_Key = tuple[str, str, int, int]


@dataclass(slots=True)
class _Pending:
    last_seen: float
    parts: dict[int, tuple[ReceivedPart, DecodedMessage]] = field(default_factory=dict)


@dataclass(slots=True)
class _Completed:
    until: float
    short_messages: dict[int, bytes]


def _join(
    decoded: list[DecodedMessage],
) -> tuple[str | None, bytes]:
    payload = b"".join(message.payload for message in decoded)
    first = decoded[0]
    same = all(
        message.alphabet is first.alphabet
        and message.charset is first.charset
        and message.coding.compressed == first.coding.compressed
        for message in decoded
    )
    if same:
        # Joined before decoding, so that an escape or surrogate pair a sender split across two
        # parts still reads right.
        text = _decode_payload(
            payload,
            first.alphabet,
            first.charset,
            compressed=first.coding.compressed,
            errors="replace",
        )
        return text, payload
    texts = [message.text for message in decoded]
    if any(text is None for text in texts):
        return None, payload
    return "".join(text for text in texts if text is not None), payload


class Reassembler:
    """Collects the parts of concatenated messages until each message is whole.

    ``timeout`` is the seconds a message may wait since its latest part; ``max_pending`` caps the
    messages waiting at once (the oldest is given up first, and reported by the next
    :meth:`expire`). Text is decoded leniently: units that do not decode become U+FFFD.
    """

    def __init__(
        self,
        *,
        timeout: float = 300.0,
        smsc_default: Alphabet = Alphabet.GSM7,
        packed: bool = False,
        max_pending: int = 10_000,
    ) -> None:
        if timeout <= 0 or max_pending < 1:
            raise ValueError("timeout and max_pending must be positive")
        self._timeout = timeout
        self._smsc_default = smsc_default
        self._packed = packed
        self._max_pending = max_pending
        self._pending: dict[_Key, _Pending] = {}
        self._completed: dict[_Key, _Completed] = {}
        self._evicted: list[IncompleteMessage] = []

    @property
    def pending(self) -> int:
        """Messages waiting for parts."""
        return len(self._pending)

    def add(self, part: ReceivedPart, *, now: float) -> ReassembledMessage | None:
        """Take one received part; the whole message once its last part is in, else None.

        Raises EncodingError when the part's UDH is malformed.
        """
        decoded = decode_short_message(
            part.short_message,
            data_coding=part.data_coding,
            esm_class=part.esm_class,
            smsc_default=self._smsc_default,
            packed=self._packed,
            errors="replace",
        )
        concatenation = decoded.udh.concatenation if decoded.udh is not None else None
        if concatenation is not None:
            reference, total, sequence = (
                concatenation.reference,
                concatenation.total,
                concatenation.sequence,
            )
        elif (
            part.sar is not None and 1 <= part.sar.sar_segment_seqnum <= part.sar.sar_total_segments
        ):
            reference = part.sar.sar_msg_ref_num
            total = part.sar.sar_total_segments
            sequence = part.sar.sar_segment_seqnum
        else:
            return self._message(part.source, part.destination, None, [(part, decoded)])
        if total == 1:
            return self._message(part.source, part.destination, reference, [(part, decoded)])

        key = (part.source, part.destination, reference, total)
        completed = self._completed.get(key)
        if completed is not None and completed.short_messages.get(sequence) == part.short_message:
            return None
        pending = self._pending.get(key)
        if pending is None:
            if len(self._pending) >= self._max_pending:
                oldest = next(iter(self._pending))
                self._evicted.append(self._incomplete(oldest, self._pending.pop(oldest)))
            pending = self._pending[key] = _Pending(last_seen=now)
        if sequence in pending.parts:
            return None
        pending.parts[sequence] = (part, decoded)
        pending.last_seen = now
        if len(pending.parts) < total:
            return None
        del self._pending[key]
        ordered = [pending.parts[index] for index in range(1, total + 1)]
        self._completed[key] = _Completed(
            until=now + self._timeout,
            short_messages={index: item[0].short_message for index, item in enumerate(ordered, 1)},
        )
        return self._message(part.source, part.destination, reference, ordered)

    def expire(self, now: float) -> list[IncompleteMessage]:
        """Give up on messages whose latest part is ``timeout`` seconds old or older."""
        expired = self._evicted
        self._evicted = []
        for key in [
            key for key, item in self._pending.items() if item.last_seen + self._timeout <= now
        ]:
            expired.append(self._incomplete(key, self._pending.pop(key)))
        for key in [key for key, item in self._completed.items() if item.until <= now]:
            del self._completed[key]
        return expired

    def _message(
        self,
        source: str,
        destination: str,
        reference: int | None,
        items: list[tuple[ReceivedPart, DecodedMessage]],
    ) -> ReassembledMessage:
        decoded = [message for _, message in items]
        text, payload = _join(decoded)
        first = decoded[0]
        return ReassembledMessage(
            source=source,
            destination=destination,
            text=text,
            payload=payload,
            encoding=first.encoding,
            alphabet=first.alphabet,
            message_class=first.coding.message_class,
            reference=reference,
            parts=tuple(part for part, _ in items),
            ports=first.udh.ports if first.udh is not None else None,
        )

    @staticmethod
    def _incomplete(key: _Key, pending: _Pending) -> IncompleteMessage:
        source, destination, reference, total = key
        sequences = sorted(pending.parts)
        decoded = [pending.parts[index][1] for index in sequences]
        text, _ = _join(decoded) if decoded else (None, b"")
        return IncompleteMessage(
            source=source,
            destination=destination,
            reference=reference,
            total=total,
            parts=tuple(pending.parts[index][0] for index in sequences),
            missing=tuple(index for index in range(1, total + 1) if index not in pending.parts),
            text=text,
        )


def reassemble(parts: Iterable[ReceivedPart], *, now: float = 0.0) -> list[ReassembledMessage]:
    """Every message completed by ``parts`` (a convenience over :class:`Reassembler`)."""
    reassembler = Reassembler()
    done = []
    for part in parts:
        message = reassembler.add(part, now=now)
        if message is not None:
            done.append(message)
    return done
