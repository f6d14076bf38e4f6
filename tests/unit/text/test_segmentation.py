from __future__ import annotations

import pytest

from marconi.errors import EncodingError
from marconi.text.dcs import FLASH, Alphabet, MessageClass
from marconi.text.gsm7 import decode_gsm7
from marconi.text.national import NationalLanguage
from marconi.text.packing import unpack_septets
from marconi.text.segment import (
    Budget,
    Concatenation,
    SarInfo,
    Unit,
    budget,
    encode_binary,
    encode_message,
)
from marconi.text.udh import PortAddressing, UserDataHeader


@pytest.mark.parametrize(
    ("unit", "shifts", "method", "expected"),
    [
        (Unit.SEPTET, 0, Concatenation.UDH8, Budget(160, 153)),
        (Unit.SEPTET, 0, Concatenation.UDH16, Budget(160, 152)),
        (Unit.SEPTET, 0, Concatenation.SAR, Budget(160, 153)),
        (Unit.SEPTET, 1, Concatenation.UDH8, Budget(155, 149)),
        (Unit.SEPTET, 2, Concatenation.UDH8, Budget(152, 146)),
        (Unit.UTF16, 0, Concatenation.UDH8, Budget(70, 67)),
        (Unit.UTF16, 0, Concatenation.UDH16, Budget(70, 66)),
        (Unit.OCTET, 0, Concatenation.UDH8, Budget(140, 134)),
        (Unit.OCTET, 0, Concatenation.UDH16, Budget(140, 133)),
    ],
)
def test_budgets(unit: Unit, shifts: int, method: Concatenation, expected: Budget) -> None:
    assert budget(unit, shift_tables=shifts, concatenation=method) == expected


def test_ports_take_room_from_every_part() -> None:
    assert budget(Unit.OCTET, ports=PortAddressing(1, 2)) == Budget(133, 128)
    assert budget(Unit.OCTET, ports=PortAddressing(1, 2, wide=False)) == Budget(135, 130)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),
        ("€" * 81, 2),
        ("я" * 70, 1),
        ("я" * 71, 2),
        ("я" * 134, 2),
        ("я" * 135, 3),
        ("😀" * 35, 1),
        ("😀" * 36, 2),
    ],
)
def test_segment_boundaries(text: str, parts: int) -> None:
    assert encode_message(text, reference=1).segments == parts


def test_a_single_part_has_no_udh() -> None:
    message = encode_message("Hello @ home", reference=9)
    assert message.encoding == "gsm7"
    assert message.data_coding == 0x00
    assert message.concatenation is None
    assert message.reference is None
    [part] = message.parts
    assert part.short_message == b"Hello \x00 home"
    assert not part.udhi
    assert part.esm_class_bits == 0
    assert part.sar is None
    assert part.text == "Hello @ home"


def test_concatenated_gsm_parts_carry_the_udh_and_unpacked_septets() -> None:
    message = encode_message("a" * 200, reference=0xAB)
    assert message.concatenation is Concatenation.UDH8
    assert message.reference == 0xAB
    first, second = message.parts
    assert first.short_message == bytes.fromhex("050003AB0201") + b"a" * 153
    assert second.short_message == bytes.fromhex("050003AB0202") + b"a" * 47
    assert first.udhi
    assert second.udhi
    assert first.esm_class_bits == 0x40
    assert (first.units, second.units) == (153, 47)


def test_16bit_reference() -> None:
    message = encode_message("a" * 200, reference=0x1234, concatenation="udh16")
    assert message.parts[0].short_message[:7] == bytes.fromhex("060804123402 01".replace(" ", ""))
    assert message.parts[0].units == 152


def test_sar_parts_have_no_udh_and_keep_the_8bit_room() -> None:
    message = encode_message("a" * 200, reference=700, concatenation=Concatenation.SAR)
    first, second = message.parts
    assert first.short_message == b"a" * 153
    assert not first.udhi
    assert first.sar == SarInfo(sar_msg_ref_num=700, sar_total_segments=2, sar_segment_seqnum=1)
    assert second.sar == SarInfo(700, 2, 2)


def test_an_escape_pair_is_never_split() -> None:
    message = encode_message("a" * 152 + "€" + "b" * 10, reference=1)
    first, second = message.parts
    assert first.units == 152
    assert first.short_message.endswith(b"a")
    assert second.short_message[6:] == b"\x1b\x65" + b"b" * 10
    assert first.text == "a" * 152
    assert second.text == "€" + "b" * 10


def test_a_surrogate_pair_is_never_split() -> None:
    message = encode_message("a" * 66 + "😀" + "b" * 5, reference=1)
    first, second = message.parts
    assert first.units == 66
    assert second.text == "😀" + "b" * 5
    assert message.encoding == "ucs2"
    assert message.data_coding == 0x08


def test_national_shift_elements_are_in_every_part() -> None:
    message = encode_message("ş" * 200, reference=3)
    assert message.encoding == "turkish-locking"
    assert message.locking_shift is NationalLanguage.TURKISH
    for part in message.parts:
        header, _ = UserDataHeader.parse(part.short_message)
        assert header.locking_shift == 1
        assert header.concatenation is not None
    assert [part.units for part in message.parts] == [149, 51]


def test_a_single_part_national_message_has_a_shift_only_udh() -> None:
    [part] = encode_message("ş" * 100, reference=3).parts
    assert part.short_message[:4] == bytes.fromhex("03250101")
    assert part.udhi


def test_flash_sms() -> None:
    assert encode_message("Alert", message_class=FLASH).data_coding == 0xF0
    assert encode_message("Alert 😀", message_class=FLASH).data_coding == 0x18
    assert encode_message("Alert", message_class=MessageClass.CLASS_1).data_coding == 0xF1


def test_packed_gsm_uses_fill_bits_after_the_udh() -> None:
    message = encode_message("h" * 200, reference=1, packed=True)
    assert message.packed
    for part in message.parts:
        _header, body = UserDataHeader.parse(part.short_message)
        septets = unpack_septets(body, fill_bits=1, cr_padding=True)
        assert decode_gsm7(septets) == part.text
    assert len(message.parts[0].short_message) == 140


def test_latin1() -> None:
    message = encode_message("café ñ", encoding="latin1")
    assert message.data_coding == 0x03
    assert message.parts[0].short_message == "café ñ".encode("latin-1")
    with pytest.raises(EncodingError, match="U\\+20AC"):
        encode_message("€", encoding="latin1")


def test_explicit_ucs2_for_gsm_text() -> None:
    message = encode_message("hello", encoding="ucs2")
    assert message.parts[0].short_message == "hello".encode("utf-16-be")
    assert message.alphabet is Alphabet.UCS2


def test_smart_encoding_reaches_the_parts() -> None:
    message = encode_message("“Hi”", smart_encoding=True)
    assert message.text == '"Hi"'
    assert message.replacements == (("“", '"'), ("”", '"'))
    assert message.parts[0].short_message == b'"Hi"'


def test_binary_with_ports() -> None:
    data = bytes(range(256)) * 2
    message = encode_binary(data, ports=PortAddressing(2948, 9200), reference=5)
    assert message.encoding == "binary"
    assert message.data_coding == 0x04
    assert message.segments == 4
    payload = b""
    for index, part in enumerate(message.parts, start=1):
        header, body = UserDataHeader.parse(part.short_message)
        assert header.ports == PortAddressing(2948, 9200)
        assert header.concatenation is not None
        assert header.concatenation.sequence == index
        assert len(part.short_message) <= 140
        assert part.text is None
        payload += body
    assert payload == data


def test_binary_flash() -> None:
    message = encode_binary(b"\x01\x02", message_class=FLASH)
    assert message.data_coding == 0xF4
    assert message.parts[0].short_message == b"\x01\x02"


def test_too_many_parts() -> None:
    with pytest.raises(EncodingError, match="256 parts"):
        encode_message("a" * 153 * 256, reference=1)
    assert encode_message("a" * 153 * 255, reference=1).segments == 255


def test_reference_ranges() -> None:
    with pytest.raises(EncodingError, match=r"0\.\.255"):
        encode_message("a" * 200, reference=256)
    assert encode_message("a" * 200, reference=65535, concatenation="udh16").reference == 65535
    drawn = encode_message("a" * 200).reference
    assert drawn is not None
    assert 0 <= drawn <= 255


def test_unknown_modes_are_refused() -> None:
    with pytest.raises(ValueError, match="utf8"):
        encode_message("a", encoding="utf8")
