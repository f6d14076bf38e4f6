from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.errors import EncodingError
from marconi.text.ucs2 import decode_ucs2, encode_ucs2, is_high_surrogate, utf16_length


def test_emoji_are_two_units_and_big_endian_surrogate_pairs() -> None:
    assert utf16_length("😀") == 2
    assert utf16_length("aé€") == 3
    assert utf16_length("") == 0
    assert encode_ucs2("A😀") == b"\x00\x41\xd8\x3d\xde\x00"
    assert decode_ucs2(b"\x00\x41\xd8\x3d\xde\x00") == "A😀"


def test_high_surrogates() -> None:
    assert is_high_surrogate(0xD83D)
    assert not is_high_surrogate(0xDE00)
    assert not is_high_surrogate(0x0041)


def test_a_lone_surrogate_cannot_be_sent() -> None:
    with pytest.raises(EncodingError, match="U\\+D800"):
        encode_ucs2("a\ud800b")


def test_bad_utf16_raises_or_is_replaced() -> None:
    with pytest.raises(EncodingError):
        decode_ucs2(b"\x00\x41\x00")
    with pytest.raises(EncodingError):
        decode_ucs2(b"\xd8\x3d\x00\x41")
    assert decode_ucs2(b"\xd8\x3d\x00\x41", errors="replace") == "\ufffdA"


@given(st.text())
def test_round_trip_and_length(text: str) -> None:
    data = encode_ucs2(text)
    assert len(data) == 2 * utf16_length(text)
    assert decode_ucs2(data) == text
