"""Characters as a person counts them: ``é`` written as e + U+0301 is one, 👍🏽 is one, 🇫🇷 is one,
👨‍👩‍👧 is one, CR LF is one.

This follows the main rules of Unicode's extended grapheme clusters (UAX #29) — combining and
spacing marks, variation selectors, emoji modifiers and tags extend the character before them, a
zero width joiner joins two characters, regional indicators pair into flags — without the full
property tables, which the standard library does not carry. Hangul jamo sequences and prepended
marks are counted per code point.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Final

_ZWJ: Final = "\u200d"
_MAYBE_EXTENDED: Final = re.compile("[\u0300-\U0010ffff]")
_ASTRAL: Final = re.compile("[\U00010000-\U0010ffff]")
_REGIONAL_INDICATORS: Final = re.compile("[\U0001f1e6-\U0001f1ff]+")
_JOINED: Final = re.compile(_ZWJ + "+(?=.)", re.DOTALL)


def _extender_points() -> list[int]:
    points = [
        point
        for point in range(0x300, 0x1F000)
        if unicodedata.category(chr(point)) in ("Mn", "Me", "Mc")
    ]
    points += range(0x1F3FB, 0x1F400)  # emoji skin tone modifiers
    points += range(0xE0020, 0xE0080)  # tags (subdivision flags)
    points += range(0xE0100, 0xE01F0)  # variation selectors supplement
    points += (0x200C, 0xFF9E, 0xFF9F)
    return sorted(set(points))


def _character_class(points: list[int]) -> str:
    ranges = []
    start = previous = points[0]
    for point in points[1:]:
        if point != previous + 1:
            ranges.append((start, previous))
            start = point
        previous = point
    ranges.append((start, previous))
    return "[" + "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges) + "]"


@functools.cache
def _extenders() -> tuple[re.Pattern[str], frozenset[str]]:
    """Marks, modifiers, selectors and tags, which extend the character before them (ZWJ aside):
    a pattern for those in the BMP (re matches a BMP class through a bitmap, in constant time)
    and a set for the rest. Built on first use (some 20 ms), not at import."""
    points = _extender_points()
    bmp = [point for point in points if point < 0x10000]
    return re.compile(_character_class(bmp)), frozenset(chr(p) for p in points if p >= 0x10000)


def count_characters(text: str) -> int:
    """User-perceived characters of ``text`` (see the module docstring for the rules)."""
    count = len(text) - text.count("\r\n")
    if text.isascii() or not _MAYBE_EXTENDED.search(text):
        return count
    bmp, astral = _extenders()
    count -= len(bmp.findall(text))
    astral_chars = _ASTRAL.findall(text)
    count -= sum(char in astral for char in astral_chars)
    if bmp.match(text) or text[0] in astral or text[0] == _ZWJ:
        # A mark with nothing before it still shows as a character.
        count += 1
    if _ZWJ in text:
        # A joiner adds nothing, nor does the character it joins; marks in between do not matter.
        joined = bmp.sub("", text)
        if astral_chars:
            joined = "".join(char for char in joined if char not in astral)
        count -= joined.count(_ZWJ) + len(_JOINED.findall(joined))
    if astral_chars:
        count -= sum(len(run) // 2 for run in _REGIONAL_INDICATORS.findall(text))
    return max(count, 0)
