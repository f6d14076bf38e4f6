"""7-bit packing (3GPP TS 23.038 §6.1.2.1): eight septets in seven octets, least significant bit
first. After a UDH of L octets the septets start at the next septet boundary, so ``fill_bits``
zero bits sit between the header and the first septet (TS 23.040 §9.2.3.24).

SMPP carries no septet count, so packed data whose last octet has seven spare bits would unpack
with an extra ``@`` (0x00). With ``cr_padding`` those seven bits hold a CR instead, as §6.1.2.3.1
prescribes, and unpacking with ``cr_padding`` drops a final CR that ends exactly on an octet
boundary. A message whose own last CR ends on the boundary gets a second CR so that it survives;
it reads back as CR CR, which the specification defines to mean the same as CR.
"""

from __future__ import annotations

from typing import Final

from marconi.errors import EncodingError

CR: Final = 0x0D


def fill_bits(udh_octets: int) -> int:
    """Zero bits between a UDH of ``udh_octets`` octets (UDHL included) and the first septet."""
    return (7 - (udh_octets * 8) % 7) % 7


def septet_capacity(user_data_octets: int, udh_octets: int = 0) -> int:
    """Septets that fit in ``user_data_octets`` after a UDH of ``udh_octets`` octets."""
    return (user_data_octets * 8 - udh_octets * 8 - fill_bits(udh_octets)) // 7


def pack_septets(septets: bytes, *, fill_bits: int = 0, cr_padding: bool = False) -> bytes:
    """Pack septets (one per octet, each < 0x80) after ``fill_bits`` zero bits (0..6)."""
    if not 0 <= fill_bits <= 6:
        raise EncodingError(f"fill bits are 0..6, not {fill_bits}")
    if not septets.isascii():
        raise EncodingError("septets are 0x00..0x7F")
    count = len(septets)
    if cr_padding:
        spare = (8 - (fill_bits + 7 * count) % 8) % 8
        if spare == 7 or (spare == 0 and count and septets[-1] == CR):
            septets += b"\r"
            count += 1
    total_bits = fill_bits + 7 * count
    accumulator = 0
    shift = fill_bits
    for septet in septets:
        accumulator |= septet << shift
        shift += 7
    return accumulator.to_bytes((total_bits + 7) // 8, "little")


def unpack_septets(
    data: bytes, *, fill_bits: int = 0, count: int | None = None, cr_padding: bool = False
) -> bytes:
    """Septets (one per octet) from packed ``data`` whose first ``fill_bits`` bits are filler.

    Without ``count`` every whole septet is returned; with ``cr_padding`` a final CR that ends on
    the octet boundary is taken for padding and dropped.
    """
    if not 0 <= fill_bits <= 6:
        raise EncodingError(f"fill bits are 0..6, not {fill_bits}")
    available = (len(data) * 8 - fill_bits) // 7 if data else 0
    inferred = count is None
    if count is None:
        count = available
    elif not 0 <= count <= available:
        raise EncodingError(f"{len(data)} octets hold {available} septets, not {count}")
    accumulator = int.from_bytes(data, "little") >> fill_bits
    septets = bytes((accumulator >> (7 * index)) & 0x7F for index in range(count))
    if inferred and cr_padding and septets.endswith(b"\r") and (fill_bits + 7 * count) % 8 == 0:
        return septets[:-1]
    return septets
