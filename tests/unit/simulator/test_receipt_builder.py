from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.simulator.receipt import ReceiptBuilder, sample_text
from marconi.simulator.record import RECEIPT_ALWAYS, MessageRecord
from marconi.simulator.rule import DELIVERED, Fate, Outcome
from marconi.smpp import (
    DeliverSm,
    EsmClass,
    MessageState,
    ReceiptStatus,
    SmeAddress,
    SubmitMulti,
    SubmitSm,
    Tag,
    decode,
    encode,
    is_receipt,
    parse_receipt,
)
from marconi.text.gsm7 import GSM7_CHARACTERS
from marconi.text.segment import encode_message

# 2024-11-25 12:00:00 UTC
T0 = datetime(2024, 11, 25, 12, 0, tzinfo=UTC).timestamp()


def record(
    outcome: Outcome = DELIVERED, *, text: str = "Hello world", at: float = 0.0
) -> MessageRecord:
    body = encode_message(text, national_languages=()).parts[0].short_message
    pdu = SubmitSm(
        source_addr_ton=5,
        source_addr="ACME",
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr="447700900123",
        short_message=body,
        registered_delivery=1,
    )
    return MessageRecord("1A2B", "acme", pdu, pdu, body, at, at + 5, outcome, RECEIPT_ALWAYS)


def test_delivered_receipt_reads_back() -> None:
    builder = ReceiptBuilder(clock_offset=T0)
    pdu = builder.pdu(record(at=30.0), now=95.0)
    assert is_receipt(pdu)
    assert pdu.esm_class == EsmClass.SMSC_DELIVERY_RECEIPT
    # the receipt travels back: from the handset to the sender
    assert (pdu.source_addr, pdu.source_addr_ton, pdu.source_addr_npi) == ("447700900123", 1, 1)
    assert (pdu.destination_addr, pdu.dest_addr_ton) == ("ACME", 5)
    assert pdu.short_message == (
        b"id:1A2B sub:001 dlvrd:001 submit date:2411251200 done date:2411251201"
        b" stat:DELIVRD err:000 text:Hello world"
    )
    receipt = parse_receipt(pdu)
    assert receipt.message_id == "1A2B"
    assert receipt.stat is ReceiptStatus.DELIVRD
    assert receipt.text == "Hello world"
    assert receipt.submit_date == datetime(2024, 11, 25, 12, 0)
    assert receipt.done_date == datetime(2024, 11, 25, 12, 1)
    assert pdu.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) == "1A2B"
    assert pdu.tlvs.get_int(Tag.MESSAGE_STATE) == MessageState.DELIVERED
    assert Tag.NETWORK_ERROR_CODE not in pdu.tlvs


@pytest.mark.parametrize(
    ("fate", "status", "state"),
    [
        (Fate.UNDELIVERABLE, ReceiptStatus.UNDELIV, MessageState.UNDELIVERABLE),
        (Fate.EXPIRED, ReceiptStatus.EXPIRED, MessageState.EXPIRED),
        (Fate.REJECTED, ReceiptStatus.REJECTD, MessageState.REJECTED),
    ],
)
def test_failure_receipts_carry_the_error(
    fate: Fate, status: ReceiptStatus, state: MessageState
) -> None:
    builder = ReceiptBuilder(clock_offset=T0)
    pdu = builder.pdu(record(Outcome(fate, 27)), now=5.0)
    wire = decode(encode(pdu, 7))  # and it survives the codec
    assert isinstance(wire, DeliverSm)
    receipt = parse_receipt(wire)
    assert receipt.stat is status
    assert receipt.err == "027"
    assert receipt.dlvrd == 0
    assert receipt.network_error_code == (3, 27)
    assert pdu.tlvs.get_int(Tag.MESSAGE_STATE) == state


def test_submit_multi_receipt_comes_from_each_destination() -> None:
    dest = SmeAddress(dest_addr_ton=1, dest_addr_npi=1, destination_addr="4915112345")
    multi = SubmitMulti(source_addr="ACME", dest_address=(dest,), short_message=b"hi")
    rec = MessageRecord("9", "acme", multi, dest, b"hi", 0.0, 1.0, DELIVERED, RECEIPT_ALWAYS)
    pdu = ReceiptBuilder().pdu(rec, now=1.0)
    assert pdu.source_addr == "4915112345"
    assert pdu.destination_addr == "ACME"


def test_date_is_cached_per_minute_but_right() -> None:
    builder = ReceiptBuilder(clock_offset=T0)
    assert builder.date(0.0) == "2411251200"
    assert builder.date(59.9) == "2411251200"
    assert builder.date(60.0) == "2411251201"
    assert builder.date(-1.0) == "2411251159"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello world", "Hello world"),
        ("A longer message than twenty characters", "A longer message tha"),
        ("Price $5 @ shop_[x]", "Price $5 @ shop_[x]"),
        ("Grüße aus Köln", "Gr??e aus K?ln"),
        ("Привет", "??????"),
        ("", ""),
    ],
)
def test_sample_text(text: str, expected: str) -> None:
    encoded = encode_message(text, national_languages=()) if text else None
    part = encoded.parts[0] if encoded is not None else None
    body = part.short_message if part is not None else b""
    esm = part.esm_class_bits if part is not None else 0
    coding = part.data_coding if part is not None else 0
    assert sample_text(body, esm, coding) == expected


def test_sample_text_skips_the_udh_of_a_part() -> None:
    part = encode_message("z" * 200, national_languages=()).parts[0]
    assert part.udhi
    assert sample_text(part.short_message, part.esm_class_bits, part.data_coding) == "z" * 20


def test_sample_text_of_latin1_and_binary() -> None:
    assert sample_text("café".encode("latin-1"), 0, 3) == "caf?"
    assert sample_text(b"\x00\x01\xff", 0, 4) == ""


@given(st.text(alphabet=sorted(GSM7_CHARACTERS), max_size=40))
def test_sample_text_fast_path_agrees_with_the_decoder(text: str) -> None:
    part = encode_message(text, national_languages=(), encoding="gsm7").parts[0]
    got = sample_text(part.short_message, part.esm_class_bits, part.data_coding)
    expected = "".join(c if c.isascii() and c.isprintable() else "?" for c in text[:20])
    assert got == expected
