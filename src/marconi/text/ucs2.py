"""UCS-2 as handsets really treat it: UTF-16 big-endian, where a character outside the Basic
Multilingual Plane (most emoji) is a surrogate pair and costs two 16-bit units."""

from __future__ import annotations

from marconi.errors import EncodingError


def utf16_length(text: str) -> int:
    """16-bit units of ``text``: one per character, two for a character beyond U+FFFF."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def encode_ucs2(text: str) -> bytes:
    """UTF-16BE octets of ``text``. A lone surrogate in ``text`` raises EncodingError."""
    try:
        return text.encode("utf-16-be")
    except UnicodeEncodeError as exc:
        raise EncodingError(
            f"lone surrogate U+{ord(text[exc.start]):04X} at index {exc.start} cannot be sent"
        ) from exc


def decode_ucs2(data: bytes, *, errors: str = "strict") -> str:
    """Text from UTF-16BE octets. An odd length or a lone surrogate raises EncodingError, or is
    replaced by U+FFFD with ``errors="replace"``."""
    try:
        return data.decode("utf-16-be", errors)
    except UnicodeDecodeError as exc:
        raise EncodingError(
            f"invalid UCS-2/UTF-16 data at octet {exc.start}: {exc.reason}"
        ) from exc


def is_high_surrogate(unit: int) -> bool:
    return 0xD800 <= unit <= 0xDBFF
