from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.smpp import (
    DataSm,
    DeliverSm,
    EsmClass,
    MessageState,
    Tag,
    Tlvs,
    decode,
    encode,
)
from marconi.smpp.receipt import (
    DeliveryReceipt,
    InvalidReceipt,
    ReceiptStatus,
    format_receipt,
    is_receipt,
    message_id_forms,
    message_ids_match,
    normalize_message_id,
    parse_date,
    parse_receipt,
    parse_receipt_text,
    parse_status,
    receipt_pdu,
)

CANONICAL = (
    "id:0123456789 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 "
    "stat:DELIVRD err:000 text:Hello world"
)


def test_canonical_receipt() -> None:
    receipt = parse_receipt_text(CANONICAL)
    assert receipt.message_id == "0123456789"
    assert receipt.stat is ReceiptStatus.DELIVRD
    assert receipt.err == "000"
    assert receipt.error_code == 0
    assert receipt.sub == 1
    assert receipt.dlvrd == 1
    assert receipt.submit_date == datetime(2024, 1, 1, 12, 0)
    assert receipt.done_date == datetime(2024, 1, 1, 12, 1)
    assert receipt.text == "Hello world"
    assert receipt.raw == CANONICAL


# (raw text, message_id, stat, err, submit_date, done_date, text)
CORPUS = [
    # lower case keys and values, seconds in the dates
    (
        "id:a1b2c3 sub:001 dlvrd:000 submit date:240101120030 done date:240101120145 "
        "stat:undeliv err:034 text:",
        "a1b2c3",
        ReceiptStatus.UNDELIV,
        "034",
        datetime(2024, 1, 1, 12, 0, 30),
        datetime(2024, 1, 1, 12, 1, 45),
        "",
    ),
    # upper case keys, Text: capitalized, underscores in the date keys
    (
        "ID:77 SUB:1 DLVRD:1 SUBMIT_DATE:2312312359 DONE_DATE:2401010000 STAT:DELIVRD "
        "ERR:0 Text:Happy new year",
        "77",
        ReceiptStatus.DELIVRD,
        "0",
        datetime(2023, 12, 31, 23, 59),
        datetime(2024, 1, 1, 0, 0),
        "Happy new year",
    ),
    # missing sub, dlvrd and dates; long status spelling
    ("id:X-1 stat:DELIVERED err:000", "X-1", ReceiptStatus.DELIVRD, "000", None, None, ""),
    # extra fields between the usual ones, and a text that itself contains colons
    (
        "id:99 sub:001 dlvrd:000 submit date:2401011200 done date:2401011300 stat:EXPIRED "
        "err:000 imsi:214011234567890 mccmnc:21401 text:stat:DELIVRD id:1",
        "99",
        ReceiptStatus.EXPIRED,
        "000",
        datetime(2024, 1, 1, 12, 0),
        datetime(2024, 1, 1, 13, 0),
        "stat:DELIVRD id:1",
    ),
    # fields out of order, no text, four-digit year
    (
        "stat:REJECTD err:0B1 id:abc done date:20240229235959",
        "abc",
        ReceiptStatus.REJECTD,
        "0B1",
        None,
        datetime(2024, 2, 29, 23, 59, 59),
        "",
    ),
    # an unknown status and an invalid date
    (
        "id:5 sub:001 dlvrd:000 submit date:2413011200 done date:garbage stat:WHATEVER err:999",
        "5",
        ReceiptStatus.UNKNOWN,
        "999",
        None,
        None,
        "",
    ),
    # no spaces after keys but spaces before the colon, ACCEPTD and ENROUTE
    ("id :12 stat :ACCEPTD", "12", ReceiptStatus.ACCEPTD, "", None, None, ""),
    (
        "id:13 submitdate:2401011200 stat:enroute",
        "13",
        ReceiptStatus.ENROUTE,
        "",
        datetime(2024, 1, 1, 12, 0),
        None,
        "",
    ),
]


@pytest.mark.parametrize(
    ("raw", "message_id", "stat", "err", "submit_date", "done_date", "text"), CORPUS
)
def test_real_world_variants(
    raw: str,
    message_id: str,
    stat: ReceiptStatus,
    err: str,
    submit_date: datetime | None,
    done_date: datetime | None,
    text: str,
) -> None:
    receipt = parse_receipt_text(raw.encode("latin-1"))
    assert receipt.message_id == message_id
    assert receipt.stat is stat
    assert receipt.err == err
    assert receipt.submit_date == submit_date
    assert receipt.done_date == done_date
    assert receipt.text == text


def test_extra_fields_are_kept() -> None:
    receipt = parse_receipt_text(CORPUS[3][0])
    assert receipt.fields["imsi"] == "214011234567890"
    assert receipt.fields["mccmnc"] == "21401"
    assert receipt.stat is ReceiptStatus.EXPIRED


def test_submitdate_without_separator_is_read() -> None:
    receipt = parse_receipt_text("id:13 submitdate:2401011200 stat:enroute")
    assert receipt.submit_date == datetime(2024, 1, 1, 12, 0)


def test_receipt_without_id_is_invalid() -> None:
    with pytest.raises(InvalidReceipt):
        parse_receipt_text("sub:001 dlvrd:001 stat:DELIVRD")


def test_tlvs_take_precedence() -> None:
    pdu = DeliverSm(
        sequence_number=1,
        esm_class=EsmClass.SMSC_DELIVERY_RECEIPT,
        short_message=CANONICAL.encode(),
        tlvs=Tlvs(
            {
                Tag.RECEIPTED_MESSAGE_ID: "75BCD15",
                Tag.MESSAGE_STATE: MessageState.UNDELIVERABLE,
                Tag.NETWORK_ERROR_CODE: b"\x03\x00\x22",
            }
        ),
    )
    assert is_receipt(pdu)
    receipt = parse_receipt(decode(encode(pdu)))  # type: ignore[arg-type]
    assert receipt.message_id == "75BCD15"
    assert receipt.stat is ReceiptStatus.UNDELIV
    assert receipt.network_error_code == (3, 0x22)
    assert receipt.err == "000"  # the text's own err stays


def test_network_error_code_fills_a_missing_err() -> None:
    pdu = DeliverSm(
        esm_class=EsmClass.SMSC_DELIVERY_RECEIPT,
        short_message=b"id:1 stat:UNDELIV",
        tlvs=Tlvs({Tag.NETWORK_ERROR_CODE: b"\x01\x00\x0b"}),
    )
    assert parse_receipt(pdu).err == "011"


def test_receipt_in_message_payload_of_data_sm() -> None:
    pdu = DataSm(
        esm_class=EsmClass.SMSC_DELIVERY_RECEIPT,
        tlvs=Tlvs({Tag.MESSAGE_PAYLOAD: CANONICAL.encode()}),
    )
    assert is_receipt(pdu)
    assert parse_receipt(pdu).message_id == "0123456789"


def test_is_receipt_reads_the_message_type_bits() -> None:
    assert not is_receipt(DeliverSm(esm_class=EsmClass.UDHI))
    assert not is_receipt(DeliverSm(esm_class=EsmClass.ESME_DELIVERY_ACK))
    assert is_receipt(DeliverSm(esm_class=EsmClass.SMSC_DELIVERY_RECEIPT | EsmClass.UDHI))
    assert is_receipt(DeliverSm(esm_class=EsmClass.INTERMEDIATE_DELIVERY_NOTIFICATION))


def test_format_is_canonical() -> None:
    text = format_receipt(
        message_id="0123456789",
        stat=ReceiptStatus.DELIVRD,
        submit_date=datetime(2024, 1, 1, 12, 0),
        done_date=datetime(2024, 1, 1, 12, 1),
        text="Hello world, this is longer than twenty",
    )
    assert text == (
        "id:0123456789 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 "
        "stat:DELIVRD err:000 text:Hello world, this is"
    )
    assert format_receipt(message_id="1", stat=ReceiptStatus.UNDELIV, err=34).endswith(
        "stat:UNDELIV err:034 text:"
    )


def test_receipt_pdu_round_trip() -> None:
    receipt = DeliveryReceipt(
        message_id="abc123",
        stat=ReceiptStatus.EXPIRED,
        err="012",
        sub=1,
        dlvrd=0,
        submit_date=datetime(2024, 5, 6, 7, 8),
        done_date=datetime(2024, 5, 7, 7, 8),
        text="hello",
        network_error_code=(1, 12),
    )
    pdu = receipt_pdu(receipt, source_addr="447700900123", destination_addr="Marconi")
    assert is_receipt(pdu)
    again = parse_receipt(pdu)
    assert again == receipt
    assert pdu.tlvs.get_int(Tag.MESSAGE_STATE) == MessageState.EXPIRED
    plain = receipt_pdu(receipt, source_addr="1", destination_addr="2", with_tlvs=False)
    assert not plain.tlvs
    assert parse_receipt(plain).stat is ReceiptStatus.EXPIRED


_ids = st.text(st.sampled_from("0123456789abcdefABCDEF-"), min_size=1, max_size=24).filter(
    lambda s: s.strip("-")
)
_dates = st.one_of(
    st.none(),
    st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)).map(
        lambda d: d.replace(second=0, microsecond=0)
    ),
)


@given(
    message_id=_ids,
    stat=st.sampled_from(list(ReceiptStatus)),
    err=st.integers(0, 999),
    sub=st.integers(0, 999),
    submit_date=_dates,
    done_date=_dates,
    text=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20),
)
def test_format_parse_round_trip(
    message_id: str,
    stat: ReceiptStatus,
    err: int,
    sub: int,
    submit_date: datetime | None,
    done_date: datetime | None,
    text: str,
) -> None:
    formatted = format_receipt(
        message_id=message_id,
        stat=stat,
        err=err,
        sub=sub,
        submit_date=submit_date,
        done_date=done_date,
        text=text,
    )
    receipt = parse_receipt_text(formatted)
    assert receipt.message_id == message_id
    assert receipt.stat is stat
    assert receipt.error_code == err
    assert receipt.sub == sub
    assert receipt.submit_date == submit_date
    assert receipt.done_date == done_date
    assert receipt.text == text.lstrip()
    assert receipt.format() == formatted.replace(f"text:{text}", f"text:{text.lstrip()}")


@given(st.binary(max_size=300))
def test_parsing_garbage_raises_only_invalid_receipt(data: bytes) -> None:
    try:
        receipt = parse_receipt_text(data)
    except InvalidReceipt:
        return
    assert receipt.message_id


def test_status_aliases_and_states() -> None:
    assert parse_status(" delivered ") is ReceiptStatus.DELIVRD
    assert parse_status("UNDELIVERABLE") is ReceiptStatus.UNDELIV
    assert parse_status("nonsense") is ReceiptStatus.UNKNOWN
    for status in ReceiptStatus:
        assert ReceiptStatus.from_message_state(status.message_state) is status
    assert ReceiptStatus.from_message_state(99) is ReceiptStatus.UNKNOWN
    assert ReceiptStatus.DELIVRD.final
    assert ReceiptStatus.DELIVRD.delivered
    assert not ReceiptStatus.ENROUTE.final


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2401011200", datetime(2024, 1, 1, 12)), ("", None), ("24010112", None), ("x" * 10, None)],
)
def test_parse_date(value: str, expected: datetime | None) -> None:
    assert parse_date(value) == expected


def test_message_id_normalization_and_matching() -> None:
    assert normalize_message_id(" 000ABC\x00") == "abc"
    assert normalize_message_id("0000") == "0"
    assert normalize_message_id("") == ""
    # the submit_sm_resp gave hex, the receipt decimal, and the other way round
    assert message_ids_match("75BCD15", "0123456789")
    assert message_ids_match("123456789", "75bcd15")
    assert message_ids_match("abc", "ABC")
    assert message_ids_match("00042", "42")
    assert not message_ids_match("abc", "abd")
    assert not message_ids_match("", "")
    assert {"75bcd15", "123456789"} <= message_id_forms("75BCD15")
    assert message_id_forms("not-hex") == frozenset({"not-hex"})
