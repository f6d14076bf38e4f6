"""Optional parameters (TLVs): an immutable, ordered collection that keeps what it does not know.

Values are typed by the tag's wire type: ``int`` for the integer TLVs, ``str`` for the C-string TLVs
and ``bytes`` for octet strings and for every tag this module does not know. A known tag whose value
arrives with a length its type does not allow is kept as raw ``bytes`` too, so nothing is lost and
re-encoding gives back the same octets; the typed accessors still read such values.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Final, TypeAlias

from marconi.smpp.constants import TLV_TYPES, Tag, TlvType

TlvValue: TypeAlias = int | str | bytes
TlvItems: TypeAlias = tuple[tuple[int, TlvValue], ...]

_TAGS: Final[dict[int, int]] = {int(tag): tag for tag in Tag}


def normalize_tag(tag: int) -> int:
    """The :class:`Tag` member for a known tag number, else the number itself."""
    return _TAGS.get(tag, tag)


class Tlvs:
    """An ordered, immutable list of ``(tag, value)`` pairs with mapping-style lookups.

    ``Tlvs({Tag.MESSAGE_PAYLOAD: b"...", Tag.SAR_MSG_REF_NUM: 7})``
    or ``Tlvs([(0x1401, b"\\x01")])``.
    Order and repeated tags are kept as received; lookups return the first occurrence.
    """

    __slots__ = ("_items",)

    _items: TlvItems

    def __init__(
        self,
        items: Mapping[Tag, object] | Mapping[int, object] | Iterable[tuple[int, object]] = (),
    ) -> None:
        # tuples and lists first: the Mapping check is an ABC lookup, slow on the receipt path
        if isinstance(items, (tuple, list)):
            pairs: Iterable[tuple[int, object]] = items
        elif isinstance(items, Mapping):
            pairs = items.items()
        else:
            pairs = items
        checked: list[tuple[int, TlvValue]] = []
        for tag, value in pairs:
            if not isinstance(tag, int) or not 0 <= tag <= 0xFFFF:
                raise ValueError(f"TLV tag must be an integer 0..0xFFFF, not {tag!r}")
            if not isinstance(value, (int, str, bytes)):
                raise TypeError(f"TLV value must be int, str or bytes, not {type(value).__name__}")
            checked.append((_TAGS.get(tag, tag), value))
        self._items = tuple(checked)

    @classmethod
    def _trusted(cls, items: TlvItems) -> Tlvs:
        """Wrap pairs that the decoder already checked."""
        self = object.__new__(cls)
        self._items = items
        return self

    @classmethod
    def unchecked(cls, items: TlvItems) -> Tlvs:
        """Wrap ``(tag, value)`` pairs without checking them, for hot paths that build the same
        few TLVs by the thousand. Tags must be :class:`Tag` members (or numbers of unknown tags)
        and values ``int``, ``str`` or ``bytes``; the encoder still refuses values that do not
        fit their tag."""
        return cls._trusted(items)

    def items(self) -> TlvItems:
        """Every ``(tag, value)`` pair, in wire order."""
        return self._items

    def __getitem__(self, tag: int) -> TlvValue:
        for key, value in self._items:
            if key == tag:
                return value
        raise KeyError(tag)

    def get(self, tag: int, default: TlvValue | None = None) -> TlvValue | None:
        for key, value in self._items:
            if key == tag:
                return value
        return default

    def get_int(self, tag: int) -> int | None:
        """The value as an integer (raw octets are read big-endian), or None when absent."""
        value = self.get(tag)
        if value is None or isinstance(value, int):
            return value
        if isinstance(value, bytes):
            return int.from_bytes(value, "big")
        raise TypeError(f"TLV 0x{tag:04X} holds a string, not an integer")

    def get_str(self, tag: int) -> str | None:
        """The value as text (raw octets are read as Latin-1 without trailing NULs), or None."""
        value = self.get(tag)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bytes):
            return value.rstrip(b"\x00").decode("latin-1")
        raise TypeError(f"TLV 0x{tag:04X} holds an integer, not a string")

    def get_bytes(self, tag: int) -> bytes | None:
        """The value as octets exactly as they travel (C-strings without their NUL), or None."""
        value = self.get(tag)
        if value is None or isinstance(value, bytes):
            return value
        if isinstance(value, str):
            return value.encode("latin-1")
        kind = TLV_TYPES.get(tag)
        size = kind.value if kind in (TlvType.INT1, TlvType.INT2, TlvType.INT4) else 4
        assert isinstance(size, int)
        return value.to_bytes(size, "big")

    def set(self, tag: int, value: TlvValue) -> Tlvs:
        """A copy where ``tag`` has ``value``: the first occurrence is replaced, others dropped."""
        tag = _TAGS.get(tag, tag)
        out: list[tuple[int, TlvValue]] = []
        placed = False
        for key, old in self._items:
            if key == tag:
                if not placed:
                    out.append((tag, value))
                    placed = True
            else:
                out.append((key, old))
        if not placed:
            out.append((tag, value))
        return Tlvs(out)

    def remove(self, tag: int) -> Tlvs:
        """A copy without any occurrence of ``tag``."""
        return Tlvs._trusted(tuple(item for item in self._items if item[0] != tag))

    def __contains__(self, tag: object) -> bool:
        return any(key == tag for key, _ in self._items)

    def __iter__(self) -> Iterator[int]:
        return (key for key, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Tlvs):
            return self._items == other._items
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._items)

    def __repr__(self) -> str:
        inner = ", ".join(
            f"{key.name if isinstance(key, Tag) else f'0x{key:04X}'}={value!r}"
            for key, value in self._items
        )
        return f"Tlvs({inner})"


NO_TLVS: Final = Tlvs()
"""The empty collection, shared."""
