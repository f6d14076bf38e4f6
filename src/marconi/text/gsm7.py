"""The GSM 7-bit default alphabet (3GPP TS 23.038 §6.2.1) and the engine behind every 7-bit table.

Text is turned into *septets*, one per octet in the result (values 0x00-0x7F); packing them eight
into seven octets is :mod:`marconi.text.packing`'s job. A character of a single shift table (the
extension table of the default alphabet, or a national one) costs two septets: ESC (0x1B) and its
code.

Tables are written as 128 tokens, 16 to a line, in code order (0x00, 0x01, …): a printable ASCII
character stands for itself, four hex digits for a code point, ``SP``/``LF``/``CR``/``FF`` for
space, line feed, carriage return and form feed, ``ESC`` for the escape code 0x1B, and ``--`` for an
unassigned code.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from typing import Final

from marconi.errors import EncodingError

ESC: Final = 0x1B
ESC_CHAR: Final = "\x1b"

# Not a GSM code: marks an unassigned position for codecs.charmap_decode.
_UNDEFINED: Final = "\ufffe"

_NAMED_TOKENS: Final[dict[str, str | None]] = {
    "--": None,
    "ESC": None,
    "SP": " ",
    "LF": "\n",
    "CR": "\r",
    "FF": "\x0c",
}


def parse_table(source: str) -> tuple[str | None, ...]:
    """Read a table in this module's token format into 128 entries (None: unassigned)."""
    tokens = source.split()
    if len(tokens) != 128:
        raise ValueError(f"a GSM table has 128 entries, this one {len(tokens)}")
    entries: list[str | None] = []
    for token in tokens:
        if token in _NAMED_TOKENS:
            entries.append(_NAMED_TOKENS[token])
        elif len(token) == 1:
            entries.append(token)
        elif len(token) == 4:
            entries.append(chr(int(token, 16)))
        else:
            raise ValueError(f"bad token {token!r} in a GSM table")
    return tuple(entries)


DEFAULT_ALPHABET: Final = parse_table(
    """
       @ 00A3    $ 00A5 00E8 00E9 00F9 00EC 00F2 00C7   LF 00D8 00F8   CR 00C5 00E5
    0394    _ 03A6 0393 039B 03A9 03A0 03A8 03A3 0398 039E  ESC 00C6 00E6 00DF 00C9
      SP    !    "    # 00A4    %    &    '    (    )    *    +    ,    -    .    /
       0    1    2    3    4    5    6    7    8    9    :    ;    <    =    >    ?
    00A1    A    B    C    D    E    F    G    H    I    J    K    L    M    N    O
       P    Q    R    S    T    U    V    W    X    Y    Z 00C4 00D6 00D1 00DC 00A7
    00BF    a    b    c    d    e    f    g    h    i    j    k    l    m    n    o
       p    q    r    s    t    u    v    w    x    y    z 00E4 00F6 00F1 00FC 00E0
    """
)
"""§6.2.1. 0x09 is Ç (capital), as the table prints it and as handsets show it."""

DEFAULT_EXTENSION: Final = parse_table(
    """
      --   --   --   --   --   --   --   --   --   --   FF   --   --   --   --   --
      --   --   --   --    ^   --   --   --   --   --   --  ESC   --   --   --   --
      --   --   --   --   --   --   --   --    {    }   --   --   --   --   --    \\
      --   --   --   --   --   --   --   --   --   --   --   --    [    ~    ]   --
       |   --   --   --   --   --   --   --   --   --   --   --   --   --   --   --
      --   --   --   --   --   --   --   --   --   --   --   --   --   --   --   --
      --   --   --   --   -- 20AC   --   --   --   --   --   --   --   --   --   --
      --   --   --   --   --   --   --   --   --   --   --   --   --   --   --   --
    """
)
"""§6.2.1.1, the extension table reached through ESC."""


class SeptetCharset:
    """One locking table (the base) and one single shift table (reached through ESC).

    Everything a message needs is computed once here: a ``str.translate`` table for encoding (a
    character maps to its one or two septets), ``charmap_decode`` tables for decoding, and the set
    of characters it can carry. ``locking_shift`` and ``single_shift`` are the national language
    identifiers (None: the default alphabet / its extension table) that the UDH must announce.
    """

    __slots__ = (
        "_byte_escapes",
        "_byte_table",
        "_decode_base",
        "_decode_shift",
        "_encodable_bytes",
        "_encode_table",
        "_escaped",
        "characters",
        "locking_shift",
        "name",
        "single_shift",
    )

    def __init__(
        self,
        *,
        name: str,
        locking_table: tuple[str | None, ...],
        single_shift_table: tuple[str | None, ...],
        locking_shift: int | None = None,
        single_shift: int | None = None,
    ) -> None:
        self.name = name
        self.locking_shift = locking_shift
        self.single_shift = single_shift
        encode: dict[int, str] = {}
        escaped: set[str] = set()
        for code, char in enumerate(locking_table):
            if char is not None and code != ESC:
                # A table listing a character twice: the lower code wins.
                encode.setdefault(ord(char), chr(code))
        for code, char in enumerate(single_shift_table):
            if char is not None and code != ESC and ord(char) not in encode:
                encode[ord(char)] = ESC_CHAR + chr(code)
                escaped.add(char)
        self.characters: frozenset[str] = frozenset(chr(point) for point in encode)
        self._escaped: frozenset[str] = frozenset(escaped)
        # ASCII characters the charset lacks must not pass through translate() unchanged, or they
        # would look like septets: send them outside ASCII so that isascii() catches them.
        for point in range(128):
            encode.setdefault(point, "\x80")
        self._encode_table = encode
        self._build_byte_path()
        base = [_UNDEFINED] * 256
        for code, char in enumerate(locking_table):
            if char is not None and code != ESC:
                base[code] = char
        self._decode_base = "".join(base)
        # After ESC an unassigned code shows the locking table's character (§6.2.1.1 note).
        shifted = list(base)
        for code, char in enumerate(single_shift_table):
            if char is not None and code != ESC:
                shifted[code] = char
        self._decode_shift = "".join(shifted)

    def _build_byte_path(self) -> None:
        # Text that cp1252 can hold (ASCII, Western European letters, €) is encoded with
        # bytes.translate, far faster than str.translate over a dict. An escaped character first
        # becomes a marker octet (>= 0x80, never a septet), then its ESC pair.
        table = bytearray(range(256))
        encodable = bytearray()
        escapes: list[tuple[bytes, bytes]] = []
        for octet in range(256):
            char = bytes((octet,)).decode("cp1252", errors="ignore")
            if not char or char not in self.characters:
                continue
            encodable.append(octet)
            septets = self._encode_table[ord(char)]
            if len(septets) == 1:
                table[octet] = ord(septets)
            else:
                marker = bytes((0x80 + len(escapes),))
                table[octet] = marker[0]
                escapes.append((marker, septets.encode("ascii")))
        self._byte_table = bytes(table)
        self._encodable_bytes = bytes(encodable)
        self._byte_escapes = tuple(escapes)

    def __repr__(self) -> str:
        return f"SeptetCharset({self.name!r})"

    def try_encode(self, text: str) -> bytes | None:
        """Septets of ``text``, one per octet, or None if a character does not fit."""
        try:
            raw = text.encode("cp1252")
        except UnicodeEncodeError as exc:
            if text[exc.start] not in self.characters:
                return None
            septets = text.translate(self._encode_table)
            return septets.encode("ascii") if septets.isascii() else None
        if raw.translate(None, self._encodable_bytes):
            return None
        encoded = raw.translate(self._byte_table)
        if not encoded.isascii():
            for marker, pair in self._byte_escapes:
                encoded = encoded.replace(marker, pair)
        return encoded

    def can_encode(self, text: str) -> bool:
        return self.try_encode(text) is not None

    def septet_count(self, text: str) -> int | None:
        """Septets ``text`` needs (escaped characters count two), or None if it does not fit."""
        septets = self.try_encode(text)
        return len(septets) if septets is not None else None

    def encode(self, text: str) -> bytes:
        """Septets, one per octet. Raises EncodingError naming the characters that do not fit."""
        septets = self.try_encode(text)
        if septets is None:
            raise EncodingError(
                f"cannot encode in {self.name}: {describe_characters(self.unencodable(text))}"
            )
        return septets

    def unencodable(self, text: str) -> tuple[str, ...]:
        """The distinct characters of ``text`` this charset lacks, in order of first appearance."""
        return tuple(sorted(set(text) - self.characters, key=text.index))

    def is_escaped(self, char: str) -> bool:
        """Whether ``char`` costs two septets (it comes from the single shift table)."""
        return char in self._escaped

    def decode(self, septets: bytes, *, errors: str = "strict") -> str:
        """Text from septets, one per octet.

        ESC followed by a code the single shift table lacks shows the locking table's character;
        ESC ESC (reserved for a further extension table) shows a space; a final lone ESC is
        dropped. A value above 0x7F, or an unassigned code of the locking table, raises
        EncodingError, or becomes U+FFFD with ``errors="replace"``.
        """
        try:
            if ESC not in septets:
                return codecs.charmap_decode(septets, errors, self._decode_base)[0]
            return self._decode_escaped(septets, errors)
        except UnicodeDecodeError as exc:
            raise EncodingError(
                f"septet 0x{exc.object[exc.start]:02X} is not assigned in {self.name}"
            ) from exc

    def _decode_escaped(self, septets: bytes, errors: str) -> str:
        pieces = septets.split(b"\x1b")
        out = [codecs.charmap_decode(pieces[0], errors, self._decode_base)[0]]
        escaped = True
        for piece in pieces[1:]:
            if not escaped:
                # The ESC that opened this piece was the second of an ESC ESC pair.
                out.append(" ")
                out.append(codecs.charmap_decode(piece, errors, self._decode_base)[0])
                escaped = True
                continue
            if not piece:
                escaped = False
                continue
            out.append(codecs.charmap_decode(piece[:1], errors, self._decode_shift)[0])
            out.append(codecs.charmap_decode(piece[1:], errors, self._decode_base)[0])
        return "".join(out)


def describe_characters(chars: Iterable[str]) -> str:
    """``'😀' (U+1F600), 'ç' (U+00E7)``: readable in an error message and a terminal."""
    return ", ".join(f"{char!r} (U+{ord(char):04X})" for char in chars)


GSM7: Final = SeptetCharset(
    name="gsm7", locking_table=DEFAULT_ALPHABET, single_shift_table=DEFAULT_EXTENSION
)
"""The default alphabet with its extension table: what every handset understands."""

GSM7_CHARACTERS: Final = GSM7.characters


def is_gsm7(text: str) -> bool:
    """Whether every character of ``text`` is in the default alphabet or its extension table."""
    return GSM7.can_encode(text)


def gsm7_length(text: str) -> int | None:
    """Septets ``text`` needs in the default alphabet (``€`` and ``{`` cost two), or None."""
    return GSM7.septet_count(text)


def encode_gsm7(text: str) -> bytes:
    """Septets of ``text``, one per octet; EncodingError names the characters that do not fit."""
    return GSM7.encode(text)


def decode_gsm7(septets: bytes, *, errors: str = "strict") -> str:
    """Text from default-alphabet septets, one per octet."""
    return GSM7.decode(septets, errors=errors)
