from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.errors import EncodingError
from marconi.text.gsm7 import encode_gsm7
from marconi.text.packing import fill_bits, pack_septets, septet_capacity, unpack_septets

septets = st.binary(max_size=300).map(lambda data: bytes(octet & 0x7F for octet in data))


def bitwise_pack(values: bytes, fill: int) -> bytes:
    """Independent reference: a string of bits, least significant first, cut into octets."""
    bits = "0" * fill + "".join(format(value, "07b")[::-1] for value in values)
    bits += "0" * (-len(bits) % 8)
    return bytes(int(bits[index : index + 8][::-1], 2) for index in range(0, len(bits), 8))


def test_the_classic_example() -> None:
    assert pack_septets(encode_gsm7("hellohello")) == bytes.fromhex("E8329BFD4697D9EC37")
    assert unpack_septets(bytes.fromhex("E8329BFD4697D9EC37"), count=10) == b"hellohello"


@pytest.mark.parametrize(("udh_octets", "fill"), [(0, 0), (4, 3), (6, 1), (7, 0), (9, 5), (12, 2)])
def test_fill_bits_reach_the_next_septet_boundary(udh_octets: int, fill: int) -> None:
    assert fill_bits(udh_octets) == fill
    assert (udh_octets * 8 + fill) % 7 == 0


def test_septet_capacity() -> None:
    assert septet_capacity(140) == 160
    assert septet_capacity(140, 6) == 153
    assert septet_capacity(140, 7) == 152
    assert septet_capacity(140, 4) == 155
    assert septet_capacity(140, 12) == 146


def test_a_udh_and_fill_bit_example() -> None:
    # After a 6-octet UDH, one fill bit: 'h' (0x68) shifted left by one.
    assert pack_septets(b"\x68", fill_bits=1) == b"\xd0"
    assert unpack_septets(b"\xd0", fill_bits=1) == b"\x68"


@given(septets, st.integers(0, 6))
def test_matches_the_bitwise_reference(values: bytes, fill: int) -> None:
    assert pack_septets(values, fill_bits=fill) == bitwise_pack(values, fill)


@given(septets, st.integers(0, 6))
def test_round_trip_with_count(values: bytes, fill: int) -> None:
    packed = pack_septets(values, fill_bits=fill)
    assert len(packed) == (fill + 7 * len(values) + 7) // 8
    assert unpack_septets(packed, fill_bits=fill, count=len(values)) == values


@given(septets, st.integers(0, 6))
def test_round_trip_without_count_thanks_to_cr_padding(values: bytes, fill: int) -> None:
    packed = pack_septets(values, fill_bits=fill, cr_padding=True)
    unpacked = unpack_septets(packed, fill_bits=fill, cr_padding=True)
    if values.endswith(b"\r") and (fill + 7 * len(values)) % 8 == 0:
        # 23.038 doubles such a CR; CR CR means the same as CR.
        assert unpacked == values + b"\r"
    else:
        assert unpacked == values


def test_cr_padding_cases() -> None:
    seven = b"abcdefg"
    assert pack_septets(seven, cr_padding=True) == pack_septets(seven + b"\r")
    # Without padding the seven spare bits read back as '@'.
    assert unpack_septets(pack_septets(seven)) == seven + b"\x00"
    ends_with_cr = b"abcdefg\r"
    assert pack_septets(ends_with_cr, cr_padding=True) == pack_septets(ends_with_cr + b"\r")
    doubled = unpack_septets(pack_septets(ends_with_cr, cr_padding=True), cr_padding=True)
    assert doubled == ends_with_cr + b"\r"
    assert pack_septets(b"", cr_padding=True) == b""


def test_invalid_arguments() -> None:
    with pytest.raises(EncodingError):
        pack_septets(b"\x80")
    with pytest.raises(EncodingError):
        pack_septets(b"a", fill_bits=7)
    with pytest.raises(EncodingError):
        unpack_septets(b"a", fill_bits=-1)
    with pytest.raises(EncodingError, match="hold 1 septets"):
        unpack_septets(b"a", count=2)
    assert unpack_septets(b"") == b""
