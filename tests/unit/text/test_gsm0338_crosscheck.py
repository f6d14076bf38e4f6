"""Our GSM-7 codec against PyPI's gsm0338, an independent implementation.

``import gsm0338`` registers a codec named ``gsm03.38``. It covers the default alphabet and its
extension table, as ours does. Deliberate differences, each pinned below:

* gsm0338 encodes U+001B (the ESC control) as the septet 0x1B; we refuse it, since 0x1B is the
  escape to the extension table and a lone one would change the meaning of the next septet.
* gsm0338 raises on ESC followed by a code the extension table lacks, ESC ESC included; we show
  the default-alphabet character (as 23.038 tells a receiver to), and a space for ESC ESC. Both
  drop a lone final ESC.
"""

from __future__ import annotations

import codecs

import gsm0338  # noqa: F401  (registers the codec)
import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.errors import EncodingError
from marconi.text.gsm7 import DEFAULT_EXTENSION, GSM7_CHARACTERS, decode_gsm7, encode_gsm7

CODEC = "gsm03.38"


def their_characters() -> set[str]:
    found = set()
    for point in range(0x3000):
        char = chr(point)
        try:
            codecs.encode(char, CODEC)
        except UnicodeEncodeError:
            continue
        found.add(char)
    return found


def test_the_codec_is_registered_under_its_name() -> None:
    assert codecs.lookup(CODEC).name == CODEC


def test_both_cover_the_same_characters_except_the_escape_control() -> None:
    assert their_characters() - GSM7_CHARACTERS == {"\x1b"}
    assert GSM7_CHARACTERS - their_characters() == set()


@pytest.mark.parametrize("char", sorted(GSM7_CHARACTERS))
def test_every_character_encodes_byte_for_byte_alike(char: str) -> None:
    assert encode_gsm7(char) == codecs.encode(char, CODEC)


@pytest.mark.parametrize("septet", [value for value in range(128) if value != 0x1B])
def test_every_septet_decodes_alike(septet: int) -> None:
    data = bytes((septet,))
    assert decode_gsm7(data) == codecs.decode(data, CODEC)


@pytest.mark.parametrize(
    "code", [code for code, char in enumerate(DEFAULT_EXTENSION) if char is not None]
)
def test_every_escape_pair_decodes_alike(code: int) -> None:
    data = bytes((0x1B, code))
    assert decode_gsm7(data) == codecs.decode(data, CODEC)


@given(st.text(alphabet=st.sampled_from(sorted(GSM7_CHARACTERS)), max_size=300))
def test_random_gsm_text_encodes_alike(text: str) -> None:
    ours = encode_gsm7(text)
    assert ours == codecs.encode(text, CODEC)
    assert codecs.decode(ours, CODEC) == decode_gsm7(ours) == text


def test_deliberate_differences() -> None:
    assert codecs.encode("\x1b", CODEC) == b"\x1b"
    with pytest.raises(EncodingError):
        encode_gsm7("\x1b")
    with pytest.raises(UnicodeDecodeError):
        codecs.decode(b"\x1b\x41", CODEC)
    assert decode_gsm7(b"\x1b\x41") == "A"
    with pytest.raises(UnicodeDecodeError):
        codecs.decode(b"a\x1b\x1b", CODEC)
    assert decode_gsm7(b"a\x1b\x1b") == "a "
    assert codecs.decode(b"a\x1b", CODEC) == decode_gsm7(b"a\x1b") == "a"
