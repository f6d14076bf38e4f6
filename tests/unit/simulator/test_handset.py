from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.simulator.handset import Direction, HandsetBook
from marconi.simulator.record import MessageRecord
from marconi.simulator.rule import DELIVERED, Fate, Outcome
from marconi.smpp import SubmitSm, Tag, Tlvs
from marconi.text.segment import encode_message

_ids = itertools.count(1)


def submit(
    body: bytes,
    destination: str = "447700900123",
    source: str = "ACME",
    *,
    data_coding: int = 0,
    esm_class: int = 0,
    tlvs: Tlvs | None = None,
) -> SubmitSm:
    return SubmitSm(
        source_addr=source,
        destination_addr=destination,
        short_message=body,
        data_coding=data_coding,
        esm_class=esm_class,
        tlvs=tlvs if tlvs is not None else Tlvs(),
    )


def record(
    pdu: SubmitSm, *, at: float = 0.0, done_at: float = 1.0, outcome: Outcome = DELIVERED
) -> MessageRecord:
    return MessageRecord(str(next(_ids)), "acme", pdu, pdu, pdu.short_message, at, done_at, outcome)


def parts_of(text: str, concatenation: str = "udh8", **kw: str) -> list[SubmitSm]:
    encoded = encode_message(text, concatenation=concatenation, national_languages=())
    out = []
    for part in encoded.parts:
        tlvs = Tlvs()
        if part.sar is not None:
            tlvs = Tlvs(
                [
                    (Tag.SAR_MSG_REF_NUM, part.sar.sar_msg_ref_num),
                    (Tag.SAR_TOTAL_SEGMENTS, part.sar.sar_total_segments),
                    (Tag.SAR_SEGMENT_SEQNUM, part.sar.sar_segment_seqnum),
                ]
            )
        out.append(
            submit(
                part.short_message,
                data_coding=part.data_coding,
                esm_class=part.esm_class_bits,
                tlvs=tlvs,
                **kw,
            )
        )
    return out


def test_single_message_is_filed_under_its_destination() -> None:
    book = HandsetBook(clock_offset=1_700_000_000.0)
    rec = record(submit(b"hello", "+447700900123"), at=2.0, done_at=3.0)
    book.add_received(rec)
    [msg] = book.messages("447700900123", now=5.0)
    assert msg.text == "hello"
    assert msg.peer == "ACME"
    assert msg.direction is Direction.RECEIVED
    assert msg.message_ids == (rec.message_id,)
    assert msg.at == 1_700_000_002.0
    assert msg.complete
    assert msg.fate is Fate.DELIVERED
    assert book.messages("+447700900123", now=5.0) == [msg]
    assert book.messages("999", now=5.0) == []


def test_gsm7_specials_are_decoded() -> None:
    book = HandsetBook()
    body = encode_message("Price: 5€ @ café_§", national_languages=()).parts[0].short_message
    book.add_received(record(submit(body)))
    assert book.messages("447700900123", now=5.0)[0].text == "Price: 5€ @ café_§"


def test_fate_is_none_while_en_route() -> None:
    book = HandsetBook()
    book.add_received(record(submit(b"x"), done_at=10.0))
    assert book.messages("447700900123", now=5.0)[0].fate is None
    assert book.messages("447700900123", now=10.0)[0].fate is Fate.DELIVERED


@pytest.mark.parametrize("concatenation", ["udh8", "udh16", "sar"])
def test_concatenated_ucs2_parts_are_reassembled_in_order(concatenation: str) -> None:
    text = "Привет, мир! 👋 " * 12  # several UCS-2 segments, surrogate pairs included
    pdus = parts_of(text, concatenation)
    assert len(pdus) > 2
    book = HandsetBook()
    recs = [record(p, at=float(i)) for i, p in enumerate(pdus)]
    for rec in reversed(recs):  # out of order on purpose
        book.add_received(rec)
    [msg] = book.messages("447700900123", now=50.0)
    assert msg.text == text
    assert msg.parts == msg.total_parts == len(pdus)
    assert msg.message_ids == tuple(r.message_id for r in recs)
    assert msg.data_coding == 8
    assert msg.at == 0.0


def test_long_gsm7_message_with_escapes_is_whole() -> None:
    text = "{curly} [square] ~tilde~ €uro " * 10
    book = HandsetBook()
    for pdu in parts_of(text):
        book.add_received(record(pdu))
    [msg] = book.messages("447700900123", now=5.0)
    assert msg.text == text
    assert msg.complete


def test_missing_part_shows_an_incomplete_message_and_worst_fate() -> None:
    pdus = parts_of("x" * 400)  # three parts
    assert len(pdus) == 3
    book = HandsetBook()
    book.add_received(record(pdus[0]))
    book.add_received(record(pdus[2], outcome=Outcome(Fate.UNDELIVERABLE, 1)))
    [msg] = book.messages("447700900123", now=5.0)
    assert msg.text == "x" * (153 + 94)
    assert not msg.complete
    assert (msg.parts, msg.total_parts) == (2, 3)
    assert msg.fate is Fate.UNDELIVERABLE


def test_a_part_sent_twice_counts_once() -> None:
    pdus = parts_of("y" * 200)
    book = HandsetBook()
    for pdu in [pdus[0], pdus[0], pdus[1]]:
        book.add_received(record(pdu))
    [msg] = book.messages("447700900123", now=5.0)
    assert msg.text == "y" * 200
    assert msg.parts == 2


def test_same_reference_from_two_senders_stays_apart() -> None:
    a = parts_of("A" * 200, source="A")
    b = parts_of("B" * 200, source="B")
    book = HandsetBook()
    for pdu in [a[0], b[0], b[1], a[1]]:
        book.add_received(record(pdu))
    texts = [(m.peer, m.text) for m in book.messages("447700900123", now=5.0)]
    assert texts == [("A", "A" * 200), ("B", "B" * 200)]


def test_binary_body_is_shown_as_hex() -> None:
    book = HandsetBook()
    book.add_received(record(submit(b"\xff\x00", data_coding=4)))
    assert book.messages("447700900123", now=5.0)[0].text == "ff00"


def test_each_handset_shows_its_last_n_messages() -> None:
    book = HandsetBook(per_handset=3)
    for i in range(10):
        book.add_received(record(submit(f"m{i}".encode())))
    assert [m.text for m in book.messages("447700900123", now=5.0)] == ["m7", "m8", "m9"]


def test_numbers_most_recent_first() -> None:
    book = HandsetBook()
    book.add_received(record(submit(b"a", "1")))
    book.add_received(record(submit(b"b", "2")))
    book.add_received(record(submit(b"c", "+1")))
    book.add_sent("3", peer="12345", text="hi", message_ids=("x",), at=0.0, fate=None)
    assert book.numbers() == ["3", "1", "2"]
    assert list(book) == ["3", "1", "2"]


def test_sent_messages_are_filed_with_their_text() -> None:
    book = HandsetBook()
    book.add_sent(
        "+447700900123",
        peer="12345",
        text="STOP",
        message_ids=("m1",),
        at=3.0,
        fate=Fate.DELIVERED,
    )
    [msg] = book.messages("447700900123", now=0.0)
    assert msg.direction is Direction.SENT
    assert (msg.peer, msg.text, msg.message_ids, msg.at) == ("12345", "STOP", ("m1",), 3.0)
    assert msg.fate is Fate.DELIVERED


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="bounds"):
        HandsetBook(per_handset=0)
    with pytest.raises(ValueError, match="bounds"):
        HandsetBook(capacity=0)


def test_clear() -> None:
    book = HandsetBook()
    book.add_received(record(submit(b"a")))
    book.clear()
    assert len(book) == 0
    assert book.numbers() == []


@given(
    dests=st.lists(st.sampled_from([str(i) for i in range(30)]), max_size=300),
    capacity=st.integers(1, 50),
    per_handset=st.integers(1, 5),
)
def test_memory_is_bounded_whatever_the_traffic(
    dests: list[str], capacity: int, per_handset: int
) -> None:
    book = HandsetBook(capacity=capacity, per_handset=per_handset)
    for dest in dests:
        book.add_received(record(submit(b"x", dest)))
    assert len(book) == min(capacity, len(dests))
    assert book.capacity == capacity
    for number in book.numbers():
        assert 1 <= len(book.messages(number, now=0.0)) <= per_handset
    if dests:
        assert book.numbers()[0] == dests[-1]
