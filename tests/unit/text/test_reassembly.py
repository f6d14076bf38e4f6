from __future__ import annotations

import pytest

from marconi.errors import EncodingError
from marconi.text.dcs import Alphabet, MessageClass
from marconi.text.reassembly import (
    Reassembler,
    ReceivedPart,
    decode_short_message,
    reassemble,
)
from marconi.text.segment import Concatenation, EncodedMessage, encode_binary, encode_message
from marconi.text.udh import PortAddressing


def received(
    message: EncodedMessage, source: str = "+15550001", dest: str = "12345"
) -> list[ReceivedPart]:
    return [
        ReceivedPart(
            source=source,
            destination=dest,
            short_message=part.short_message,
            data_coding=part.data_coding,
            esm_class=part.esm_class_bits,
            sar=part.sar,
        )
        for part in message.parts
    ]


class TestDecodeShortMessage:
    def test_gsm7_default(self) -> None:
        decoded = decode_short_message(b"Hello \x00 \x1b\x65", data_coding=0)
        assert decoded.text == "Hello @ €"
        assert decoded.alphabet is Alphabet.GSM7
        assert decoded.encoding == "gsm7"
        assert decoded.udh is None

    def test_udh_is_stripped(self) -> None:
        data = bytes.fromhex("050003010201") + b"abc"
        decoded = decode_short_message(data, data_coding=0, esm_class=0x40)
        assert decoded.text == "abc"
        assert decoded.payload == b"abc"
        assert decoded.udh is not None
        assert decoded.udh.concatenation is not None

    def test_without_udhi_the_header_is_text(self) -> None:
        decoded = decode_short_message(b"\x05abc", data_coding=0x03)
        assert decoded.text == "\x05abc"

    def test_national_tables_from_the_udh(self) -> None:
        data = bytes.fromhex("03250101") + b"\x1c\x1d"
        decoded = decode_short_message(data, data_coding=0, esm_class=0x40)
        assert decoded.text == "Şş"
        assert decoded.encoding == "turkish-locking"

    @pytest.mark.parametrize(
        ("data_coding", "data", "text"),
        [
            (0x08, "Привет 😀".encode("utf-16-be"), "Привет 😀"),
            (0x18, "flash".encode("utf-16-be"), "flash"),
            (0x03, "café".encode("latin-1"), "café"),
            (0x01, b"plain", "plain"),
            (0x06, "Да".encode("iso8859_5"), "Да"),
            (0xF0, b"\x00", "@"),
        ],
    )
    def test_alphabets(self, data_coding: int, data: bytes, text: str) -> None:
        assert decode_short_message(data, data_coding=data_coding).text == text

    def test_binary_and_compressed_have_no_text(self) -> None:
        decoded = decode_short_message(b"\xff\x00", data_coding=0x04)
        assert decoded.text is None
        assert decoded.payload == b"\xff\x00"
        assert decode_short_message(b"abc", data_coding=0x20).text is None
        assert decode_short_message(b"abc", data_coding=0x05).text is None

    def test_message_class(self) -> None:
        decoded = decode_short_message(b"hi", data_coding=0xF0)
        assert decoded.coding.message_class is MessageClass.CLASS_0

    def test_smsc_default_alphabet_is_configurable(self) -> None:
        decoded = decode_short_message(b"caf\xe9", data_coding=0, smsc_default=Alphabet.LATIN1)
        assert decoded.text == "café"
        with pytest.raises(EncodingError):
            decode_short_message(b"caf\xe9", data_coding=0)
        assert decode_short_message(b"caf\xe9", data_coding=0, errors="replace").text == "caf\ufffd"

    def test_packed_gsm(self) -> None:
        message = encode_message("h" * 200, reference=4, packed=True)
        decoded = decode_short_message(
            message.parts[0].short_message, data_coding=0, esm_class=0x40, packed=True
        )
        assert decoded.text == "h" * 153

    def test_malformed_udh_raises(self) -> None:
        with pytest.raises(EncodingError):
            decode_short_message(b"\x09\x00\x03", data_coding=0, esm_class=0x40)


class TestReassembler:
    def test_parts_out_of_order(self) -> None:
        text = "The quick brown fox. " * 20
        parts = received(encode_message(text, reference=77))
        reassembler = Reassembler()
        assert reassembler.add(parts[2], now=0) is None
        assert reassembler.add(parts[0], now=1) is None
        assert reassembler.pending == 1
        message = reassembler.add(parts[1], now=2)
        assert message is not None
        assert message.text == text
        assert message.reference == 77
        assert message.parts == tuple(parts)
        assert message.source == "+15550001"
        assert reassembler.pending == 0

    def test_duplicates_count_once_even_after_completion(self) -> None:
        parts = received(encode_message("x" * 300, reference=5))
        reassembler = Reassembler(timeout=60)
        assert reassembler.add(parts[0], now=0) is None
        assert reassembler.add(parts[0], now=1) is None
        assert reassembler.add(parts[1], now=2) is not None
        assert reassembler.add(parts[1], now=3) is None
        assert reassembler.pending == 0
        assert reassembler.expire(now=100) == []

    def test_a_reused_reference_with_new_content_is_a_new_message(self) -> None:
        reassembler = Reassembler()
        for part in received(encode_message("x" * 300, reference=5)):
            reassembler.add(part, now=0)
        again = received(encode_message("y" * 300, reference=5))
        assert reassembler.add(again[0], now=1) is None
        message = reassembler.add(again[1], now=2)
        assert message is not None
        assert message.text == "y" * 300

    def test_missing_parts_time_out_with_what_arrived(self) -> None:
        parts = received(encode_message("a" * 153 + "b" * 153 + "c" * 10, reference=9))
        reassembler = Reassembler(timeout=30)
        reassembler.add(parts[0], now=0)
        reassembler.add(parts[2], now=10)
        assert reassembler.expire(now=39) == []
        [incomplete] = reassembler.expire(now=40)
        assert incomplete.reference == 9
        assert incomplete.total == 3
        assert incomplete.missing == (2,)
        assert incomplete.parts == (parts[0], parts[2])
        assert incomplete.text == "a" * 153 + "c" * 10
        assert reassembler.pending == 0
        assert reassembler.expire(now=1000) == []

    def test_keys_keep_senders_apart(self) -> None:
        message = encode_message("z" * 200, reference=1)
        alice = received(message, source="alice")
        bob = received(message, source="bob")
        reassembler = Reassembler()
        assert reassembler.add(alice[0], now=0) is None
        assert reassembler.add(bob[1], now=0) is None
        assert reassembler.pending == 2
        done = reassembler.add(alice[1], now=0)
        assert done is not None
        assert done.source == "alice"

    def test_single_parts_come_straight_back(self) -> None:
        [part] = received(encode_message("hello"))
        message = Reassembler().add(part, now=0)
        assert message is not None
        assert message.text == "hello"
        assert message.reference is None

    def test_sar(self) -> None:
        text = "Ω" * 200
        parts = received(encode_message(text, reference=1000, concatenation=Concatenation.SAR))
        assert all(part.esm_class == 0 for part in parts)
        [message] = reassemble(reversed(parts))
        assert message.text == text
        assert message.reference == 1000

    def test_ucs2_split_inside_a_surrogate_pair_by_a_careless_sender(self) -> None:
        data = ("a" * 66 + "😀").encode("utf-16-be")
        halves = [data[:133], data[133:]]
        parts = [
            ReceivedPart("s", "d", bytes.fromhex(f"0500030102{index:02x}") + half, 0x08, 0x40)
            for index, half in enumerate(halves, start=1)
        ]
        [message] = reassemble(parts)
        assert message.text == "a" * 66 + "😀"

    def test_escape_split_by_a_careless_sender(self) -> None:
        parts = [
            ReceivedPart(
                "s", "d", bytes.fromhex("0500030102 01".replace(" ", "")) + b"a\x1b", 0, 0x40
            ),
            ReceivedPart("s", "d", bytes.fromhex("050003010202") + b"\x65", 0, 0x40),
        ]
        [message] = reassemble(parts)
        assert message.text == "a€"

    def test_binary_with_ports(self) -> None:
        data = bytes(range(200))
        parts = received(encode_binary(data, ports=PortAddressing(2948, 9200), reference=3))
        [message] = reassemble(parts)
        assert message.text is None
        assert message.payload == data
        assert message.ports == PortAddressing(2948, 9200)
        assert message.alphabet is Alphabet.BINARY

    def test_the_oldest_pending_message_is_given_up_when_full(self) -> None:
        reassembler = Reassembler(max_pending=2)
        for reference in (1, 2, 3):
            first = received(encode_message("q" * 200, reference=reference))[0]
            reassembler.add(first, now=reference)
        assert reassembler.pending == 2
        [evicted] = reassembler.expire(now=3)
        assert evicted.reference == 1
        assert evicted.missing == (2,)

    def test_invalid_settings(self) -> None:
        with pytest.raises(ValueError, match="positive"):
            Reassembler(timeout=0)

    def test_malformed_udh_raises(self) -> None:
        with pytest.raises(EncodingError):
            Reassembler().add(ReceivedPart("s", "d", b"\x07\x00", 0, 0x40), now=0)
