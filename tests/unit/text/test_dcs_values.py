from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.errors import EncodingError
from marconi.text.dcs import FLASH, Alphabet, DataCoding, MessageClass, data_coding_for

A = Alphabet
C = MessageClass


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0x00, DataCoding(A.SMSC_DEFAULT)),
        (0x01, DataCoding(A.IA5)),
        (0x02, DataCoding(A.BINARY)),
        (0x03, DataCoding(A.LATIN1)),
        (0x04, DataCoding(A.BINARY)),
        (0x06, DataCoding(A.CYRILLIC)),
        (0x08, DataCoding(A.UCS2)),
        (0x0B, DataCoding(A.RESERVED)),
        (0x0E, DataCoding(A.KS_C_5601)),
        (0x10, DataCoding(A.GSM7, message_class=C.CLASS_0)),
        (0x11, DataCoding(A.GSM7, message_class=C.CLASS_1)),
        (0x14, DataCoding(A.BINARY, message_class=C.CLASS_0)),
        (0x18, DataCoding(A.UCS2, message_class=C.CLASS_0)),
        (0x1A, DataCoding(A.UCS2, message_class=C.CLASS_2)),
        (0x20, DataCoding(A.GSM7, compressed=True)),
        (0x48, DataCoding(A.UCS2)),
        (0x90, DataCoding(A.GSM7)),
        (0xC0, DataCoding(A.GSM7, message_waiting=True)),
        (0xD8, DataCoding(A.GSM7, message_waiting=True)),
        (0xE0, DataCoding(A.UCS2, message_waiting=True)),
        (0xF0, DataCoding(A.GSM7, message_class=C.CLASS_0)),
        (0xF1, DataCoding(A.GSM7, message_class=C.CLASS_1)),
        (0xF4, DataCoding(A.BINARY, message_class=C.CLASS_0)),
        (0xF6, DataCoding(A.BINARY, message_class=C.CLASS_2)),
    ],
)
def test_parse(value: int, expected: DataCoding) -> None:
    assert DataCoding.parse(value) == expected


def test_values_to_send() -> None:
    assert data_coding_for(A.GSM7) == 0x00
    assert data_coding_for(A.UCS2) == 0x08
    assert data_coding_for(A.BINARY) == 0x04
    assert data_coding_for(A.LATIN1) == 0x03
    assert data_coding_for(A.IA5) == 0x01
    assert data_coding_for(A.GSM7, FLASH) == 0xF0
    assert data_coding_for(A.UCS2, FLASH) == 0x18
    assert data_coding_for(A.BINARY, C.CLASS_2) == 0xF6
    with pytest.raises(EncodingError):
        data_coding_for(A.LATIN1, FLASH)
    with pytest.raises(EncodingError):
        data_coding_for(A.JIS)


@pytest.mark.parametrize("alphabet", [A.GSM7, A.UCS2, A.BINARY])
@pytest.mark.parametrize("message_class", [None, *C])
def test_what_we_send_parses_back(alphabet: Alphabet, message_class: MessageClass | None) -> None:
    parsed = DataCoding.parse(data_coding_for(alphabet, message_class))
    expected = A.SMSC_DEFAULT if alphabet is A.GSM7 and message_class is None else alphabet
    assert parsed.alphabet is expected
    assert parsed.message_class == message_class


@given(st.integers(0, 255))
def test_every_octet_parses(value: int) -> None:
    assert isinstance(DataCoding.parse(value).alphabet, Alphabet)


def test_out_of_range() -> None:
    with pytest.raises(EncodingError):
        DataCoding.parse(256)
