"""User Data Header (3GPP TS 23.040 §9.2.3.24): the octets in front of a message's payload,
announced by the UDHI bit (0x40) of SMPP's esm_class.

Layout: UDHL (length of what follows), then information elements, each IEI, IEDL, data. The
elements Marconi reads and writes have names; every other element is kept as it came.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from marconi.errors import EncodingError

UDHI: Final = 0x40
"""esm_class bit: short_message starts with a UDH."""


class InformationElementId(IntEnum):
    CONCATENATED_8BIT = 0x00
    PORTS_8BIT = 0x04
    PORTS_16BIT = 0x05
    CONCATENATED_16BIT = 0x08
    NATIONAL_SINGLE_SHIFT = 0x24
    NATIONAL_LOCKING_SHIFT = 0x25


@dataclass(frozen=True, slots=True)
class InformationElement:
    iei: int
    data: bytes

    def __post_init__(self) -> None:
        if not 0 <= self.iei <= 0xFF or len(self.data) > 0xFF:
            raise EncodingError(f"information element 0x{self.iei:02X} does not fit a UDH")

    def to_bytes(self) -> bytes:
        return bytes((self.iei, len(self.data))) + self.data


@dataclass(frozen=True, slots=True)
class ConcatenationInfo:
    """Part ``sequence`` (1-based) of ``total`` of the message ``reference``."""

    reference: int
    total: int
    sequence: int
    wide: bool = False
    """16-bit reference (IE 0x08) instead of 8-bit (IE 0x00)."""

    def to_element(self) -> InformationElement:
        limit = 0xFFFF if self.wide else 0xFF
        if not 0 <= self.reference <= limit:
            raise EncodingError(f"concatenation reference {self.reference} is out of 0..{limit}")
        if not 1 <= self.sequence <= self.total <= 0xFF:
            raise EncodingError(f"part {self.sequence} of {self.total} is not a valid position")
        if self.wide:
            data = self.reference.to_bytes(2, "big") + bytes((self.total, self.sequence))
            return InformationElement(InformationElementId.CONCATENATED_16BIT, data)
        data = bytes((self.reference, self.total, self.sequence))
        return InformationElement(InformationElementId.CONCATENATED_8BIT, data)


@dataclass(frozen=True, slots=True)
class PortAddressing:
    """Application port addressing: which application on the handset receives the message."""

    destination: int
    source: int
    wide: bool = True
    """16-bit ports (IE 0x05) instead of 8-bit (IE 0x04)."""

    def to_element(self) -> InformationElement:
        if self.wide:
            if not (0 <= self.destination <= 0xFFFF and 0 <= self.source <= 0xFFFF):
                raise EncodingError("16-bit application ports are 0..65535")
            data = self.destination.to_bytes(2, "big") + self.source.to_bytes(2, "big")
            return InformationElement(InformationElementId.PORTS_16BIT, data)
        if not (0 <= self.destination <= 0xFF and 0 <= self.source <= 0xFF):
            raise EncodingError("8-bit application ports are 0..255")
        return InformationElement(
            InformationElementId.PORTS_8BIT, bytes((self.destination, self.source))
        )


@dataclass(frozen=True, slots=True)
class UserDataHeader:
    elements: tuple[InformationElement, ...] = ()

    @classmethod
    def build(
        cls,
        *,
        concatenation: ConcatenationInfo | None = None,
        ports: PortAddressing | None = None,
        single_shift: int | None = None,
        locking_shift: int | None = None,
        extra: tuple[InformationElement, ...] = (),
    ) -> UserDataHeader:
        elements: list[InformationElement] = []
        if concatenation is not None:
            elements.append(concatenation.to_element())
        if ports is not None:
            elements.append(ports.to_element())
        if single_shift is not None:
            elements.append(
                InformationElement(
                    InformationElementId.NATIONAL_SINGLE_SHIFT, bytes((single_shift,))
                )
            )
        if locking_shift is not None:
            elements.append(
                InformationElement(
                    InformationElementId.NATIONAL_LOCKING_SHIFT, bytes((locking_shift,))
                )
            )
        elements.extend(extra)
        return cls(tuple(elements))

    def to_bytes(self) -> bytes:
        """UDHL followed by the elements."""
        body = b"".join(element.to_bytes() for element in self.elements)
        if len(body) > 0xFF:
            raise EncodingError(f"a UDH of {len(body)} octets does not fit its length octet")
        return bytes((len(body),)) + body

    def __len__(self) -> int:
        """Octets on the wire, UDHL included."""
        return 1 + sum(2 + len(element.data) for element in self.elements)

    @classmethod
    def parse(cls, user_data: bytes) -> tuple[UserDataHeader, bytes]:
        """Split ``user_data`` (a short_message sent with UDHI set) into its UDH and payload."""
        if not user_data:
            raise EncodingError("UDHI is set but the message is empty")
        end = 1 + user_data[0]
        if end > len(user_data):
            raise EncodingError(
                f"UDH length {user_data[0]} runs past the {len(user_data)}-octet message"
            )
        elements = []
        position = 1
        while position < end:
            if position + 2 > end:
                raise EncodingError("truncated information element in UDH")
            iei, length = user_data[position], user_data[position + 1]
            start = position + 2
            if start + length > end:
                raise EncodingError(f"information element 0x{iei:02X} runs past the UDH")
            elements.append(InformationElement(iei, user_data[start : start + length]))
            position = start + length
        return cls(tuple(elements)), user_data[end:]

    def _last(self, *ieis: int) -> InformationElement | None:
        # 23.040: of a repeated element that may not repeat, the last occurrence counts.
        for element in reversed(self.elements):
            if element.iei in ieis:
                return element
        return None

    @property
    def concatenation(self) -> ConcatenationInfo | None:
        """The concatenation element, or None (also when it is malformed: 23.040 says a
        receiver ignores an element with a zero total or sequence)."""
        element = self._last(
            InformationElementId.CONCATENATED_8BIT, InformationElementId.CONCATENATED_16BIT
        )
        if element is None:
            return None
        data = element.data
        if element.iei == InformationElementId.CONCATENATED_8BIT and len(data) == 3:
            found = ConcatenationInfo(reference=data[0], total=data[1], sequence=data[2])
        elif element.iei == InformationElementId.CONCATENATED_16BIT and len(data) == 4:
            reference = int.from_bytes(data[:2], "big")
            found = ConcatenationInfo(
                reference=reference, total=data[2], sequence=data[3], wide=True
            )
        else:
            return None
        if found.total == 0 or not 1 <= found.sequence <= found.total:
            return None
        return found

    @property
    def ports(self) -> PortAddressing | None:
        element = self._last(InformationElementId.PORTS_8BIT, InformationElementId.PORTS_16BIT)
        if element is None:
            return None
        data = element.data
        if element.iei == InformationElementId.PORTS_16BIT and len(data) == 4:
            return PortAddressing(
                destination=int.from_bytes(data[:2], "big"),
                source=int.from_bytes(data[2:], "big"),
                wide=True,
            )
        if element.iei == InformationElementId.PORTS_8BIT and len(data) == 2:
            return PortAddressing(destination=data[0], source=data[1], wide=False)
        return None

    @property
    def single_shift(self) -> int | None:
        """National language identifier of the single shift table, if announced."""
        element = self._last(InformationElementId.NATIONAL_SINGLE_SHIFT)
        return element.data[0] if element is not None and len(element.data) == 1 else None

    @property
    def locking_shift(self) -> int | None:
        """National language identifier of the locking shift table, if announced."""
        element = self._last(InformationElementId.NATIONAL_LOCKING_SHIFT)
        return element.data[0] if element is not None and len(element.data) == 1 else None


def udh_length(
    *,
    concatenation: bool = False,
    wide_reference: bool = False,
    ports: PortAddressing | None = None,
    single_shift: bool = False,
    locking_shift: bool = False,
) -> int:
    """Octets a UDH with these elements takes (0 when there are none)."""
    body = 0
    if concatenation:
        body += 6 if wide_reference else 5
    if ports is not None:
        body += 6 if ports.wide else 4
    if single_shift:
        body += 3
    if locking_shift:
        body += 3
    return body + 1 if body else 0
