"""Choosing the encoding of a text and splitting it into the parts of a message.

A part carries at most 140 octets of user data. Without a UDH that is 160 septets, 70 UCS-2 units
or 140 octets; a UDH takes its octets (and, for septets, the fill bits up to the next septet
boundary) from that room:

==========================  ==========  ===========  =======
UDH of every part            septets     UCS-2 units  octets
==========================  ==========  ===========  =======
none                         160         70           140
concatenation, 8-bit ref     153         67           134
concatenation, 16-bit ref    152         66           133
one shift table              155         68           —
8-bit ref + one shift        149         65           —
8-bit ref + both shifts      146         —            —
==========================  ==========  ===========  =======

A part never ends between ESC and the code it escapes, nor between the two halves of a surrogate
pair; such a part is one unit short and the unit moves to the next part.

Parts concatenated through SAR TLVs (sar_msg_ref_num, sar_total_segments, sar_segment_seqnum)
carry no concatenation element, but they keep the room of an 8-bit-reference element (153
septets, 67 units, 134 octets): an SMSC that turns SAR into a UDH on the radio side needs it, and
the count of parts stays the same as with a UDH.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from marconi.errors import EncodingError
from marconi.text.dcs import Alphabet, MessageClass, data_coding_for
from marconi.text.gsm7 import ESC, GSM7, GSM7_CHARACTERS, SeptetCharset, describe_characters
from marconi.text.national import (
    ALL_LANGUAGES,
    NationalLanguage,
    fitting_combinations,
    national_charset,
)
from marconi.text.packing import fill_bits, pack_septets, septet_capacity
from marconi.text.smart import smarten
from marconi.text.ucs2 import decode_ucs2, encode_ucs2, is_high_surrogate
from marconi.text.udh import UDHI, ConcatenationInfo, PortAddressing, UserDataHeader

USER_DATA_OCTETS: Final = 140
MAX_PARTS: Final = 255


class EncodingMode(StrEnum):
    AUTO = "auto"
    """GSM-7 if every character fits; else a national table if it takes fewer parts than
    UCS-2; else UCS-2."""
    GSM7 = "gsm7"
    """7-bit only: the default alphabet, else the national tables allowed; never UCS-2."""
    UCS2 = "ucs2"
    LATIN1 = "latin1"
    """ISO-8859-1 octets (data_coding 0x03), for SMSCs that want it."""


class Concatenation(StrEnum):
    UDH8 = "udh8"
    """Concatenation element 0x00, 8-bit reference."""
    UDH16 = "udh16"
    """Concatenation element 0x08, 16-bit reference."""
    SAR = "sar"
    """SMPP sar_* TLVs, no concatenation element."""


class Unit(StrEnum):
    SEPTET = "septet"
    UTF16 = "utf16"
    OCTET = "octet"


_CONCATENATION_OCTETS: Final = {
    Concatenation.UDH8: 5,
    Concatenation.UDH16: 6,
    Concatenation.SAR: 5,
}


@dataclass(frozen=True, slots=True)
class Budget:
    """Units a part can hold: ``single`` when the message fits one part, ``multi`` per part of a
    concatenated message."""

    single: int
    multi: int


@functools.cache
def budget(
    unit: Unit,
    *,
    shift_tables: int = 0,
    concatenation: Concatenation = Concatenation.UDH8,
    ports: PortAddressing | None = None,
) -> Budget:
    """Per-part room for ``unit`` with ``shift_tables`` (0, 1 or 2) national shift elements and
    optional application ports in every part."""
    body = 3 * shift_tables
    if ports is not None:
        body += 6 if ports.wide else 4
    single_udh = body + 1 if body else 0
    multi_udh = body + _CONCATENATION_OCTETS[concatenation] + 1
    if unit is Unit.SEPTET:
        return Budget(
            septet_capacity(USER_DATA_OCTETS, single_udh),
            septet_capacity(USER_DATA_OCTETS, multi_udh),
        )
    size = 2 if unit is Unit.UTF16 else 1
    return Budget((USER_DATA_OCTETS - single_udh) // size, (USER_DATA_OCTETS - multi_udh) // size)


def split_points(payload: bytes, unit: Unit, room: Budget) -> tuple[int, ...]:
    """Offsets (in octets of ``payload``) where each part ends; the last is ``len(payload)``.

    ``payload`` is septets one per octet, UTF-16BE octets or plain octets, per ``unit``.
    """
    size = 2 if unit is Unit.UTF16 else 1
    length = len(payload)
    if length <= room.single * size:
        return (length,)
    step = room.multi * size
    if step < 2 * size:
        raise EncodingError("the user data header leaves no room for the message")
    ends = []
    position = 0
    while length - position > step:
        end = position + step
        if unit is Unit.SEPTET:
            if payload[end - 1] == ESC:
                end -= 1
        elif unit is Unit.UTF16 and is_high_surrogate((payload[end - 2] << 8) | payload[end - 1]):
            end -= 2
        ends.append(end)
        position = end
    ends.append(length)
    return tuple(ends)


@dataclass(frozen=True, slots=True)
class TextPlan:
    """The encoding chosen for a text and where its parts end; what both the cost function and
    the encoder start from."""

    text: str
    """The text to send, after smart replacements."""
    alphabet: Alphabet
    charset: SeptetCharset | None
    """The 7-bit tables, for GSM-7."""
    unit: Unit
    payload: bytes
    """Septets one per octet, UTF-16BE or Latin-1 octets."""
    room: Budget
    ends: tuple[int, ...]
    replacements: tuple[tuple[str, str], ...]
    non_gsm_characters: tuple[str, ...]

    @property
    def encoding(self) -> str:
        """``gsm7``, a national table name such as ``turkish-single``, ``ucs2`` or ``latin1``."""
        if self.charset is not None:
            return self.charset.name
        return str(self.alphabet)

    @property
    def segments(self) -> int:
        return len(self.ends)

    @property
    def unit_size(self) -> int:
        return 2 if self.unit is Unit.UTF16 else 1

    @property
    def units(self) -> int:
        return len(self.payload) // self.unit_size

    @property
    def per_segment(self) -> int:
        return self.room.single if len(self.ends) == 1 else self.room.multi

    @property
    def remaining(self) -> int:
        """Units that still fit in the last part."""
        last_start = self.ends[-2] if len(self.ends) > 1 else 0
        return self.per_segment - (self.ends[-1] - last_start) // self.unit_size

    @property
    def locking_shift(self) -> NationalLanguage | None:
        value = self.charset.locking_shift if self.charset is not None else None
        return NationalLanguage(value) if value is not None else None

    @property
    def single_shift(self) -> NationalLanguage | None:
        value = self.charset.single_shift if self.charset is not None else None
        return NationalLanguage(value) if value is not None else None


def _shift_count(charset: SeptetCharset) -> int:
    return (charset.locking_shift is not None) + (charset.single_shift is not None)


def _septet_plan(
    text: str,
    payload: bytes,
    charset: SeptetCharset,
    *,
    concatenation: Concatenation,
    ports: PortAddressing | None,
    replacements: tuple[tuple[str, str], ...] = (),
    non_gsm: tuple[str, ...] = (),
) -> TextPlan:
    room = budget(
        Unit.SEPTET,
        shift_tables=_shift_count(charset),
        concatenation=concatenation,
        ports=ports,
    )
    return TextPlan(
        text=text,
        alphabet=Alphabet.GSM7,
        charset=charset,
        unit=Unit.SEPTET,
        payload=payload,
        room=room,
        ends=split_points(payload, Unit.SEPTET, room),
        replacements=replacements,
        non_gsm_characters=non_gsm,
    )


def _octet_plan(
    text: str,
    payload: bytes,
    alphabet: Alphabet,
    unit: Unit,
    *,
    concatenation: Concatenation,
    ports: PortAddressing | None,
    non_gsm: tuple[str, ...],
) -> TextPlan:
    room = budget(unit, concatenation=concatenation, ports=ports)
    return TextPlan(
        text=text,
        alphabet=alphabet,
        charset=None,
        unit=unit,
        payload=payload,
        room=room,
        ends=split_points(payload, unit, room),
        replacements=(),
        non_gsm_characters=non_gsm,
    )


def _preference(plan: TextPlan) -> tuple[int, int, int, int, int, int]:
    locking, single = plan.locking_shift, plan.single_shift
    mixed = locking is not None and single is not None and locking != single
    return (
        plan.segments,
        _shift_count(plan.charset) if plan.charset is not None else 0,
        # A receiver without the tables still reads most of a single-shift message.
        int(locking is not None),
        int(mixed),
        plan.units,
        (locking or 0) * 16 + (single or 0),
    )


def plan_text(
    text: str,
    *,
    encoding: EncodingMode | str = EncodingMode.AUTO,
    smart_encoding: bool = False,
    national_languages: Iterable[NationalLanguage] = ALL_LANGUAGES,
    concatenation: Concatenation | str = Concatenation.UDH8,
    ports: PortAddressing | None = None,
) -> TextPlan:
    """Choose the encoding of ``text`` and where its parts end.

    Smart replacements are used only when the replaced text is then entirely GSM-7 (default
    alphabet and extension table). National tables come from ``national_languages`` (pass ``()``
    for carriers that do not support them); among those that fit, the fewest parts win, then the
    fewest shift elements, then single shift before locking shift, then one language before a
    mix of two, then the fewest septets.
    """
    mode = EncodingMode(encoding)
    method = Concatenation(concatenation)
    if mode is EncodingMode.UCS2:
        return _octet_plan(
            text,
            encode_ucs2(text),
            Alphabet.UCS2,
            Unit.UTF16,
            concatenation=method,
            ports=ports,
            non_gsm=GSM7.unencodable(text),
        )
    if mode is EncodingMode.LATIN1:
        try:
            payload = text.encode("latin-1")
        except UnicodeEncodeError:
            outside = tuple(char for char in dict.fromkeys(text) if ord(char) > 0xFF)
            raise EncodingError(
                f"cannot encode in Latin-1: {describe_characters(outside)}"
            ) from None
        return _octet_plan(
            text,
            payload,
            Alphabet.LATIN1,
            Unit.OCTET,
            concatenation=method,
            ports=ports,
            non_gsm=GSM7.unencodable(text),
        )

    septets = GSM7.try_encode(text)
    if septets is not None:
        return _septet_plan(text, septets, GSM7, concatenation=method, ports=ports)
    if smart_encoding:
        replaced, applied = smarten(text)
        if applied:
            septets = GSM7.try_encode(replaced)
            if septets is not None:
                return _septet_plan(
                    replaced,
                    septets,
                    GSM7,
                    concatenation=method,
                    ports=ports,
                    replacements=applied,
                )
    distinct = frozenset(text)
    non_gsm = tuple(sorted(distinct - GSM7_CHARACTERS, key=text.index))

    best: TextPlan | None = None
    for locking, single in fitting_combinations(distinct, national_languages):
        charset = national_charset(locking, single)
        septets = charset.try_encode(text)
        if septets is None:  # pragma: no cover - fitting_combinations checked the characters
            continue
        candidate = _septet_plan(
            text, septets, charset, concatenation=method, ports=ports, non_gsm=non_gsm
        )
        if best is None or _preference(candidate) < _preference(best):
            best = candidate

    if mode is EncodingMode.GSM7:
        if best is None:
            raise EncodingError(f"cannot encode in GSM-7: {describe_characters(non_gsm)}")
        return best
    ucs2 = _octet_plan(
        text,
        encode_ucs2(text),
        Alphabet.UCS2,
        Unit.UTF16,
        concatenation=method,
        ports=ports,
        non_gsm=non_gsm,
    )
    if best is not None and best.segments < ucs2.segments:
        return best
    return ucs2


@dataclass(frozen=True, slots=True)
class SarInfo:
    """SMPP 3.4 SAR TLV values of one part."""

    sar_msg_ref_num: int
    sar_total_segments: int
    sar_segment_seqnum: int


@dataclass(frozen=True, slots=True)
class MessagePart:
    """What one submit_sm carries."""

    short_message: bytes
    """UDH (if any) followed by the payload."""
    data_coding: int
    udhi: bool
    """esm_class must have UDHI (0x40) set."""
    sar: SarInfo | None
    units: int
    """Septets, UTF-16 units or octets of payload in this part."""
    text: str | None
    """The text this part carries (None for binary data)."""

    @property
    def esm_class_bits(self) -> int:
        """Bits to OR into esm_class: 0x40 when the part starts with a UDH."""
        return UDHI if self.udhi else 0


@dataclass(frozen=True, slots=True)
class EncodedMessage:
    parts: tuple[MessagePart, ...]
    encoding: str
    """``gsm7``, a national table name, ``ucs2``, ``latin1`` or ``binary``."""
    alphabet: Alphabet
    data_coding: int
    message_class: MessageClass | None
    locking_shift: NationalLanguage | None
    single_shift: NationalLanguage | None
    concatenation: Concatenation | None
    """How the parts are tied together; None for a single part."""
    reference: int | None
    packed: bool
    text: str | None
    """The text as sent (after smart replacements); None for binary data."""
    replacements: tuple[tuple[str, str], ...] = ()

    @property
    def segments(self) -> int:
        return len(self.parts)


def _reference(method: Concatenation, reference: int | None) -> int:
    limit = 0xFF if method is Concatenation.UDH8 else 0xFFFF
    if reference is None:
        return random.randrange(limit + 1)
    if not 0 <= reference <= limit:
        raise EncodingError(f"{method} reference {reference} is out of 0..{limit}")
    return reference


def _assemble(
    plan: TextPlan | None,
    *,
    payload: bytes,
    ends: tuple[int, ...],
    unit: Unit,
    alphabet: Alphabet,
    encoding_name: str,
    data_coding: int,
    message_class: MessageClass | None,
    method: Concatenation,
    reference: int | None,
    ports: PortAddressing | None,
    packed: bool,
) -> EncodedMessage:
    total = len(ends)
    if total > MAX_PARTS:
        raise EncodingError(f"the message needs {total} parts; at most {MAX_PARTS} can be joined")
    charset = plan.charset if plan is not None else None
    single_shift = charset.single_shift if charset is not None else None
    locking_shift = charset.locking_shift if charset is not None else None
    multipart = total > 1
    ref = _reference(method, reference) if multipart else None
    size = 2 if unit is Unit.UTF16 else 1
    parts = []
    start = 0
    for sequence, end in enumerate(ends, start=1):
        chunk = payload[start:end]
        concat = None
        sar = None
        if multipart and ref is not None:
            if method is Concatenation.SAR:
                sar = SarInfo(ref, total, sequence)
            else:
                concat = ConcatenationInfo(
                    reference=ref,
                    total=total,
                    sequence=sequence,
                    wide=method is Concatenation.UDH16,
                )
        header = UserDataHeader.build(
            concatenation=concat,
            ports=ports,
            single_shift=single_shift,
            locking_shift=locking_shift,
        )
        header_octets = header.to_bytes() if header.elements else b""
        if unit is Unit.SEPTET and packed:
            body = pack_septets(chunk, fill_bits=fill_bits(len(header_octets)), cr_padding=True)
        else:
            body = chunk
        if charset is not None:
            part_text: str | None = charset.decode(chunk)
        elif alphabet is Alphabet.UCS2:
            part_text = decode_ucs2(chunk)
        elif alphabet is Alphabet.LATIN1:
            part_text = chunk.decode("latin-1")
        else:
            part_text = None
        parts.append(
            MessagePart(
                short_message=header_octets + body,
                data_coding=data_coding,
                udhi=bool(header_octets),
                sar=sar,
                units=len(chunk) // size,
                text=part_text,
            )
        )
        start = end
    return EncodedMessage(
        parts=tuple(parts),
        encoding=encoding_name,
        alphabet=alphabet,
        data_coding=data_coding,
        message_class=message_class,
        locking_shift=NationalLanguage(locking_shift) if locking_shift is not None else None,
        single_shift=NationalLanguage(single_shift) if single_shift is not None else None,
        concatenation=method if multipart else None,
        reference=ref,
        packed=packed and unit is Unit.SEPTET,
        text=plan.text if plan is not None else None,
        replacements=plan.replacements if plan is not None else (),
    )


def encode_message(
    text: str,
    *,
    encoding: EncodingMode | str = EncodingMode.AUTO,
    smart_encoding: bool = False,
    national_languages: Iterable[NationalLanguage] = ALL_LANGUAGES,
    concatenation: Concatenation | str = Concatenation.UDH8,
    reference: int | None = None,
    message_class: MessageClass | None = None,
    ports: PortAddressing | None = None,
    packed: bool = False,
) -> EncodedMessage:
    """Encode ``text`` into the parts of a message, each ready for a submit_sm.

    ``reference`` ties the parts together (0..255 for ``udh8``, 0..65535 for ``udh16`` and
    ``sar``); without one a random reference is drawn. Pass one that is unique per destination
    for a while — a counter — to keep output deterministic. GSM-7 is one septet per octet unless
    ``packed``, which packs the septets after the UDH with fill bits and CR padding.
    ``message_class`` selects a GSM data coding (``FLASH`` for class 0). Raises EncodingError when
    the text cannot be expressed as asked or needs more than 255 parts.
    """
    method = Concatenation(concatenation)
    plan = plan_text(
        text,
        encoding=encoding,
        smart_encoding=smart_encoding,
        national_languages=national_languages,
        concatenation=method,
        ports=ports,
    )
    return _assemble(
        plan,
        payload=plan.payload,
        ends=plan.ends,
        unit=plan.unit,
        alphabet=plan.alphabet,
        encoding_name=plan.encoding,
        data_coding=data_coding_for(plan.alphabet, message_class),
        message_class=message_class,
        method=method,
        reference=reference,
        ports=ports,
        packed=packed,
    )


def encode_binary(
    data: bytes,
    *,
    ports: PortAddressing | None = None,
    concatenation: Concatenation | str = Concatenation.UDH8,
    reference: int | None = None,
    message_class: MessageClass | None = None,
) -> EncodedMessage:
    """Split 8-bit data (data_coding 0x04, or 0xF4-0xF7 with a class) into parts, with
    application port addressing in every part if ``ports`` is given."""
    method = Concatenation(concatenation)
    room = budget(Unit.OCTET, concatenation=method, ports=ports)
    return _assemble(
        None,
        payload=data,
        ends=split_points(data, Unit.OCTET, room),
        unit=Unit.OCTET,
        alphabet=Alphabet.BINARY,
        encoding_name=str(Alphabet.BINARY),
        data_coding=data_coding_for(Alphabet.BINARY, message_class),
        message_class=message_class,
        method=method,
        reference=reference,
        ports=ports,
        packed=False,
    )
