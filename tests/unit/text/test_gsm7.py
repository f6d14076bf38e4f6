from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.errors import EncodingError
from marconi.text.gsm7 import (
    DEFAULT_ALPHABET,
    DEFAULT_EXTENSION,
    GSM7,
    GSM7_CHARACTERS,
    decode_gsm7,
    encode_gsm7,
    gsm7_length,
    is_gsm7,
    parse_table,
)

gsm_text = st.text(alphabet=st.sampled_from(sorted(GSM7_CHARACTERS)), max_size=400)


@pytest.mark.parametrize(
    ("char", "septets"),
    [
        ("@", b"\x00"),
        ("£", b"\x01"),
        ("$", b"\x02"),
        ("è", b"\x04"),
        ("Ç", b"\x09"),
        ("\n", b"\x0a"),
        ("\r", b"\x0d"),
        ("Δ", b"\x10"),
        ("_", b"\x11"),
        ("Ξ", b"\x1a"),
        ("É", b"\x1f"),
        (" ", b"\x20"),
        ("¤", b"\x24"),
        ("¡", b"\x40"),
        ("Ä", b"\x5b"),
        ("§", b"\x5f"),
        ("¿", b"\x60"),
        ("à", b"\x7f"),
        ("€", b"\x1b\x65"),
        ("\x0c", b"\x1b\x0a"),
        ("^", b"\x1b\x14"),
        ("{", b"\x1b\x28"),
        ("}", b"\x1b\x29"),
        ("\\", b"\x1b\x2f"),
        ("[", b"\x1b\x3c"),
        ("~", b"\x1b\x3d"),
        ("]", b"\x1b\x3e"),
        ("|", b"\x1b\x40"),
    ],
)
def test_code_points_from_the_spec(char: str, septets: bytes) -> None:
    assert encode_gsm7(char) == septets
    assert decode_gsm7(septets) == char


def test_tables_have_128_entries_and_the_escape_is_unassigned() -> None:
    assert len(DEFAULT_ALPHABET) == len(DEFAULT_EXTENSION) == 128
    assert DEFAULT_ALPHABET[0x1B] is None
    assert sum(char is not None for char in DEFAULT_ALPHABET) == 127
    assert sum(char is not None for char in DEFAULT_EXTENSION) == 10
    assert len(GSM7_CHARACTERS) == 137


def test_parse_table_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="128 entries"):
        parse_table("@ A")
    with pytest.raises(ValueError, match="bad token"):
        parse_table(" ".join(["AB"] * 128))


def test_extension_characters_cost_two_septets() -> None:
    assert gsm7_length("Hello") == 5
    assert gsm7_length("€10 {x}") == 10
    assert gsm7_length("") == 0
    assert gsm7_length("😀") is None


@pytest.mark.parametrize("char", ["`", "ç", "\t", "\x1b", "\x00", "😀", "“", "€\u0301"])
def test_characters_outside_the_alphabet_are_refused(char: str) -> None:
    assert not is_gsm7(char)
    with pytest.raises(EncodingError):
        encode_gsm7(char)


def test_error_names_every_unencodable_character_once_in_order() -> None:
    with pytest.raises(EncodingError) as info:
        encode_gsm7("a😀b`c😀ç")
    message = str(info.value)
    assert "'😀' (U+1F600), '`' (U+0060), 'ç' (U+00E7)" in message
    assert GSM7.unencodable("a😀b`c😀ç") == ("😀", "`", "ç")


def test_greek_capitals_take_the_slow_path_and_still_encode() -> None:
    assert encode_gsm7("ΔΦ€é{") == b"\x10\x12\x1b\x65\x05\x1b\x28"
    assert GSM7.try_encode("Δ😀") is None


def test_escape_followed_by_an_unassigned_code_shows_the_base_character() -> None:
    assert decode_gsm7(b"\x1b\x41") == "A"
    assert decode_gsm7(b"a\x1b\x00b") == "a@b"


def test_escape_escape_shows_a_space_and_a_final_escape_is_dropped() -> None:
    assert decode_gsm7(b"a\x1b\x1bb") == "a b"
    assert decode_gsm7(b"a\x1b\x1b\x1b\x65") == "a €"
    assert decode_gsm7(b"ab\x1b") == "ab"
    assert decode_gsm7(b"ab\x1b\x1b") == "ab "


def test_octets_above_0x7f_are_not_septets() -> None:
    with pytest.raises(EncodingError, match="0x80"):
        decode_gsm7(b"ab\x80")
    with pytest.raises(EncodingError, match="0xFF"):
        decode_gsm7(b"\x1b\x65\xff")
    assert decode_gsm7(b"ab\x80", errors="replace") == "ab\ufffd"


@given(gsm_text)
def test_gsm_text_round_trips(text: str) -> None:
    septets = encode_gsm7(text)
    assert septets.isascii()
    assert len(septets) == gsm7_length(text)
    assert decode_gsm7(septets) == text


@given(st.binary(max_size=200))
def test_any_septets_decode_without_crashing(data: bytes) -> None:
    septets = bytes(octet & 0x7F for octet in data)
    text = decode_gsm7(septets)
    assert is_gsm7(text)
