"""What an SMS can carry: GSM 03.38 alphabets and national shift tables, UCS-2, smart encoding,
segmentation, UDH, 7-bit packing, data_coding values, cost, and reassembly of received parts.

Pure functions and value objects, no I/O; imports nothing of Marconi but :mod:`marconi.errors`.

>>> analyze("Hello €").units
8
>>> message = encode_message("@café", reference=1)
>>> message.parts[0].short_message, message.data_coding
(b'\\x00caf\\x05', 0)
"""

from __future__ import annotations

from marconi.text.cost import TextAnalysis, analyze
from marconi.text.dcs import FLASH, Alphabet, DataCoding, MessageClass, data_coding_for
from marconi.text.grapheme import count_characters
from marconi.text.gsm7 import (
    GSM7,
    SeptetCharset,
    decode_gsm7,
    encode_gsm7,
    gsm7_length,
    is_gsm7,
)
from marconi.text.national import NationalLanguage, national_charset
from marconi.text.packing import fill_bits, pack_septets, unpack_septets
from marconi.text.reassembly import (
    DecodedMessage,
    IncompleteMessage,
    ReassembledMessage,
    Reassembler,
    ReceivedPart,
    decode_short_message,
)
from marconi.text.segment import (
    Concatenation,
    EncodedMessage,
    EncodingMode,
    MessagePart,
    SarInfo,
    encode_binary,
    encode_message,
)
from marconi.text.smart import smarten
from marconi.text.ucs2 import decode_ucs2, encode_ucs2, utf16_length
from marconi.text.udh import (
    UDHI,
    ConcatenationInfo,
    InformationElement,
    PortAddressing,
    UserDataHeader,
)

__all__ = [
    "FLASH",
    "GSM7",
    "UDHI",
    "Alphabet",
    "Concatenation",
    "ConcatenationInfo",
    "DataCoding",
    "DecodedMessage",
    "EncodedMessage",
    "EncodingMode",
    "IncompleteMessage",
    "InformationElement",
    "MessageClass",
    "MessagePart",
    "NationalLanguage",
    "PortAddressing",
    "ReassembledMessage",
    "Reassembler",
    "ReceivedPart",
    "SarInfo",
    "SeptetCharset",
    "TextAnalysis",
    "UserDataHeader",
    "analyze",
    "count_characters",
    "data_coding_for",
    "decode_gsm7",
    "decode_short_message",
    "decode_ucs2",
    "encode_binary",
    "encode_gsm7",
    "encode_message",
    "encode_ucs2",
    "fill_bits",
    "gsm7_length",
    "is_gsm7",
    "national_charset",
    "pack_septets",
    "smarten",
    "unpack_septets",
    "utf16_length",
]
