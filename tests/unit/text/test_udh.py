from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.errors import EncodingError
from marconi.text.udh import (
    ConcatenationInfo,
    InformationElement,
    PortAddressing,
    UserDataHeader,
    udh_length,
)


def test_concatenation_with_an_8bit_reference() -> None:
    header = UserDataHeader.build(
        concatenation=ConcatenationInfo(reference=0x42, total=3, sequence=2)
    )
    assert header.to_bytes() == bytes.fromhex("0500034203 02".replace(" ", ""))
    assert len(header) == 6


def test_concatenation_with_a_16bit_reference() -> None:
    info = ConcatenationInfo(reference=0x1234, total=2, sequence=1, wide=True)
    header = UserDataHeader.build(concatenation=info)
    assert header.to_bytes() == bytes.fromhex("06080412340201")
    parsed, rest = UserDataHeader.parse(header.to_bytes() + b"payload")
    assert rest == b"payload"
    assert parsed.concatenation == info


def test_shift_tables_and_ports() -> None:
    header = UserDataHeader.build(
        ports=PortAddressing(destination=2948, source=9200),
        single_shift=1,
        locking_shift=3,
    )
    data = header.to_bytes()
    assert data == bytes.fromhex("0c0504 0b8423f0240101250103".replace(" ", ""))
    parsed, rest = UserDataHeader.parse(data)
    assert rest == b""
    assert parsed.ports == PortAddressing(destination=2948, source=9200)
    assert parsed.single_shift == 1
    assert parsed.locking_shift == 3
    assert parsed.concatenation is None


def test_8bit_ports() -> None:
    header = UserDataHeader.build(ports=PortAddressing(destination=5, source=6, wide=False))
    assert header.to_bytes() == bytes.fromhex("0404020506")
    assert UserDataHeader.parse(header.to_bytes())[0].ports == PortAddressing(5, 6, wide=False)


def test_unknown_elements_are_kept() -> None:
    data = bytes.fromhex("0a0a030102030003010201")
    header, rest = UserDataHeader.parse(data + b"x")
    assert header.elements[0] == InformationElement(0x0A, b"\x01\x02\x03")
    assert header.concatenation == ConcatenationInfo(reference=1, total=2, sequence=1)
    assert header.to_bytes() == data
    assert rest == b"x"


def test_the_last_of_a_repeated_element_counts() -> None:
    data = bytes.fromhex("06240101240102")
    assert UserDataHeader.parse(data)[0].single_shift == 2


def test_reference_zero_is_valid() -> None:
    data = bytes.fromhex("0500030002 01".replace(" ", ""))
    assert UserDataHeader.parse(data)[0].concatenation == ConcatenationInfo(0, 2, 1)


@pytest.mark.parametrize(
    "body",
    [
        "0003010001",  # total 0
        "0003010200",  # sequence 0
        "0003010203",  # sequence past total
        "00020102",  # wrong length
        "0803000102",  # 16-bit with wrong length
    ],
)
def test_malformed_concatenation_is_ignored(body: str) -> None:
    data = bytes((len(body) // 2,)) + bytes.fromhex(body)
    header, _ = UserDataHeader.parse(data)
    assert header.concatenation is None
    assert len(header.elements) == 1


@pytest.mark.parametrize(
    "data",
    [b"", b"\x05\x00\x03\x01", b"\x03\x00\x03\x01", b"\x01\x00", b"\x02\x24\x02\x01"],
)
def test_malformed_headers_raise(data: bytes) -> None:
    with pytest.raises(EncodingError):
        UserDataHeader.parse(data)


def test_invalid_values_are_refused() -> None:
    with pytest.raises(EncodingError):
        ConcatenationInfo(reference=256, total=2, sequence=1).to_element()
    with pytest.raises(EncodingError):
        ConcatenationInfo(reference=1, total=2, sequence=3).to_element()
    with pytest.raises(EncodingError):
        PortAddressing(destination=70000, source=0).to_element()
    with pytest.raises(EncodingError):
        PortAddressing(destination=300, source=0, wide=False).to_element()
    with pytest.raises(EncodingError):
        InformationElement(0x100, b"")


def test_udh_length() -> None:
    assert udh_length() == 0
    assert udh_length(concatenation=True) == 6
    assert udh_length(concatenation=True, wide_reference=True) == 7
    assert udh_length(single_shift=True) == 4
    assert udh_length(concatenation=True, single_shift=True, locking_shift=True) == 12
    assert udh_length(ports=PortAddressing(1, 2)) == 7


@given(
    st.lists(
        st.tuples(st.integers(0, 255), st.binary(max_size=20)).map(
            lambda pair: InformationElement(*pair)
        ),
        max_size=8,
    ),
    st.binary(max_size=50),
)
def test_build_parse_round_trip(elements: list[InformationElement], payload: bytes) -> None:
    header = UserDataHeader(tuple(elements))
    data = header.to_bytes()
    assert len(data) == len(header)
    parsed, rest = UserDataHeader.parse(data + payload)
    assert parsed == header
    assert rest == payload


@given(st.binary(max_size=40))
def test_random_bytes_parse_or_raise_encoding_error(data: bytes) -> None:
    try:
        header, rest = UserDataHeader.parse(data)
    except EncodingError:
        return
    assert header.to_bytes() + rest == data
