"""SMPP ``data_coding`` values: the alphabet of short_message and the message class.

SMPP 3.4 §5.2.19 assigns 0x00-0x0E itself (0x00 is "SMSC default alphabet", GSM-7 for nearly every
SMSC); from 0x10 up SMSCs follow the GSM data coding scheme of 3GPP TS 23.038 §4, which adds the
message class (class 0 is the "flash" SMS shown at once and not stored).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Final

from marconi.errors import EncodingError


class Alphabet(StrEnum):
    SMSC_DEFAULT = "smsc_default"
    GSM7 = "gsm7"
    IA5 = "ia5"
    LATIN1 = "latin1"
    BINARY = "binary"
    UCS2 = "ucs2"
    JIS = "jis"
    CYRILLIC = "cyrillic"
    HEBREW = "hebrew"
    PICTOGRAM = "pictogram"
    ISO_2022_JP = "iso2022jp"
    EXTENDED_KANJI = "extended_kanji"
    KS_C_5601 = "ks_c_5601"
    RESERVED = "reserved"


class MessageClass(IntEnum):
    CLASS_0 = 0
    """Flash SMS: shown at once, not stored."""
    CLASS_1 = 1
    """Mobile equipment specific."""
    CLASS_2 = 2
    """SIM specific."""
    CLASS_3 = 3
    """Terminal equipment specific."""


FLASH: Final = MessageClass.CLASS_0

_SMPP_VALUES: Final[dict[int, Alphabet]] = {
    0x00: Alphabet.SMSC_DEFAULT,
    0x01: Alphabet.IA5,
    0x02: Alphabet.BINARY,
    0x03: Alphabet.LATIN1,
    0x04: Alphabet.BINARY,
    0x05: Alphabet.JIS,
    0x06: Alphabet.CYRILLIC,
    0x07: Alphabet.HEBREW,
    0x08: Alphabet.UCS2,
    0x09: Alphabet.PICTOGRAM,
    0x0A: Alphabet.ISO_2022_JP,
    0x0D: Alphabet.EXTENDED_KANJI,
    0x0E: Alphabet.KS_C_5601,
}

_GSM_ALPHABET_BITS: Final = (Alphabet.GSM7, Alphabet.BINARY, Alphabet.UCS2, Alphabet.GSM7)

PYTHON_CODECS: Final[dict[Alphabet, str]] = {
    Alphabet.IA5: "ascii",
    Alphabet.LATIN1: "latin-1",
    Alphabet.CYRILLIC: "iso8859_5",
    Alphabet.HEBREW: "iso8859_8",
    Alphabet.ISO_2022_JP: "iso2022_jp",
    Alphabet.KS_C_5601: "euc_kr",
}
"""Alphabets that a Python codec decodes (GSM-7 and UCS-2 have their own modules)."""


@dataclass(frozen=True, slots=True)
class DataCoding:
    """What a data_coding value says: alphabet, message class, compression, and for the message
    waiting indication groups whether the handset may discard the text."""

    alphabet: Alphabet
    message_class: MessageClass | None = None
    compressed: bool = False
    message_waiting: bool = False

    @classmethod
    def parse(cls, value: int) -> DataCoding:
        if not 0 <= value <= 0xFF:
            raise EncodingError(f"data_coding is one octet, not {value}")
        if value < 0x10:
            return cls(_SMPP_VALUES.get(value, Alphabet.RESERVED))
        group = value >> 4
        if group <= 0x7:
            # General data coding (00xx) and automatic deletion (01xx) groups.
            message_class = MessageClass(value & 0x03) if value & 0x10 else None
            return cls(
                _GSM_ALPHABET_BITS[(value >> 2) & 0x03],
                message_class=message_class,
                compressed=bool(value & 0x20),
            )
        if group <= 0xB:
            # Reserved groups: 23.038 has receivers assume the default alphabet.
            return cls(Alphabet.GSM7)
        if group <= 0xD:
            return cls(Alphabet.GSM7, message_waiting=True)
        if group == 0xE:
            return cls(Alphabet.UCS2, message_waiting=True)
        alphabet = Alphabet.BINARY if value & 0x04 else Alphabet.GSM7
        return cls(alphabet, message_class=MessageClass(value & 0x03))


_PLAIN_VALUES: Final = {
    Alphabet.GSM7: 0x00,
    Alphabet.SMSC_DEFAULT: 0x00,
    Alphabet.IA5: 0x01,
    Alphabet.LATIN1: 0x03,
    Alphabet.BINARY: 0x04,
    Alphabet.UCS2: 0x08,
}


def data_coding_for(alphabet: Alphabet, message_class: MessageClass | None = None) -> int:
    """The data_coding to send ``alphabet`` with, in ``message_class`` if given.

    Without a class the plain SMPP values are used (0x00 GSM-7, 0x08 UCS-2, 0x04 binary,
    0x03 Latin-1, 0x01 IA5); with one, the GSM groups: 0xF0-0xF3 for GSM-7, 0xF4-0xF7 for binary
    and 0x18-0x1B for UCS-2. Latin-1 and IA5 cannot carry a class.
    """
    if message_class is None:
        if alphabet not in _PLAIN_VALUES:
            raise EncodingError(f"Marconi does not send the {alphabet} alphabet")
        return _PLAIN_VALUES[alphabet]
    if alphabet in (Alphabet.GSM7, Alphabet.SMSC_DEFAULT):
        return 0xF0 | message_class
    if alphabet is Alphabet.BINARY:
        return 0xF4 | message_class
    if alphabet is Alphabet.UCS2:
        return 0x18 | message_class
    raise EncodingError(f"the {alphabet} alphabet cannot carry a message class")
