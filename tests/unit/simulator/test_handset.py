from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.simulator.handset import Direction, HandsetBook
from marconi.simulator.record import MessageRecord
from marconi.simulator.rule import DELIVERED, Fate, Outcome

_ids = itertools.count(1)


def decode(body: bytes, data_coding: int, udh: bytes) -> str:
    if data_coding == 8:
        return body.decode("utf-16-be")
    return body.decode("ascii")


def record(
    destination: str = "447700900123",
    source: str = "ACME",
    *,
    done_at: float = 1.0,
    outcome: Outcome = DELIVERED,
) -> MessageRecord:
    return MessageRecord(
        message_id=str(next(_ids)),
        system_id="acme",
        source_addr=source,
        destination_addr=destination,
        submitted_at=0.0,
        done_at=done_at,
        outcome=outcome,
    )


def test_single_message_is_filed_under_its_destination() -> None:
    book = HandsetBook(decoder=decode)
    rec = record("+447700900123")
    book.add_received(rec, b"hello", at=1700000000.0)
    [msg] = book.messages("447700900123", now=5.0)
    assert msg.text == "hello"
    assert msg.peer == "ACME"
    assert msg.direction is Direction.RECEIVED
    assert msg.message_ids == (rec.message_id,)
    assert msg.at == 1700000000.0
    assert msg.complete
    assert msg.fate is Fate.DELIVERED
    assert book.messages("+447700900123", now=5.0) == [msg]
    assert book.messages("999", now=5.0) == []


def test_fate_is_none_while_en_route() -> None:
    book = HandsetBook(decoder=decode)
    book.add_received(record(done_at=10.0), b"x", at=0.0)
    assert book.messages("447700900123", now=5.0)[0].fate is None
    assert book.messages("447700900123", now=10.0)[0].fate is Fate.DELIVERED


def test_concatenated_ucs2_parts_are_reassembled_in_order() -> None:
    text = "Привет, мир! " * 12  # longer than one UCS-2 segment
    payload = text.encode("utf-16-be")
    chunks = [payload[i : i + 134] for i in range(0, len(payload), 134)]
    book = HandsetBook(decoder=decode)
    recs = [record() for _ in chunks]
    order = list(reversed(range(len(chunks))))  # out of order on purpose
    for i in order:
        book.add_received(
            recs[i], chunks[i], at=float(i), data_coding=8, concat=(7, len(chunks), i + 1)
        )
    [msg] = book.messages("447700900123", now=5.0)
    assert msg.text == text
    assert msg.parts == msg.total_parts == len(chunks)
    assert msg.message_ids == tuple(r.message_id for r in recs)
    assert msg.data_coding == 8


def test_missing_part_shows_an_incomplete_message_and_worst_fate() -> None:
    book = HandsetBook(decoder=decode)
    book.add_received(record(), b"abc", at=0.0, concat=(1, 3, 1))
    failed = record(outcome=Outcome(Fate.UNDELIVERABLE, 1))
    book.add_received(failed, b"ghi", at=0.0, concat=(1, 3, 3))
    [msg] = book.messages("447700900123", now=5.0)
    assert msg.text == "abcghi"
    assert not msg.complete
    assert (msg.parts, msg.total_parts) == (2, 3)
    assert msg.fate is Fate.UNDELIVERABLE


def test_same_reference_from_two_senders_stays_apart() -> None:
    book = HandsetBook(decoder=decode)
    book.add_received(record(source="A"), b"a1", at=0.0, concat=(5, 2, 1))
    book.add_received(record(source="B"), b"b1", at=0.0, concat=(5, 2, 1))
    book.add_received(record(source="B"), b"b2", at=0.0, concat=(5, 2, 2))
    book.add_received(record(source="A"), b"a2", at=0.0, concat=(5, 2, 2))
    texts = [(m.peer, m.text) for m in book.messages("447700900123", now=5.0)]
    assert texts == [("A", "a1a2"), ("B", "b1b2")]


def test_undecodable_body_is_shown_as_hex() -> None:
    book = HandsetBook(decoder=decode)
    book.add_received(record(), b"\xff\x00", at=0.0, data_coding=4)
    assert book.messages("447700900123", now=5.0)[0].text == "ff00"


def test_each_handset_keeps_its_last_n_messages() -> None:
    book = HandsetBook(decoder=decode, per_handset=3)
    for i in range(10):
        book.add_received(record(), f"m{i}".encode(), at=float(i))
    assert [m.text for m in book.messages("447700900123", now=5.0)] == ["m7", "m8", "m9"]


def test_book_keeps_the_most_recently_active_handsets() -> None:
    book = HandsetBook(decoder=decode, max_handsets=2)
    book.add_received(record("1"), b"a", at=0.0)
    book.add_received(record("2"), b"b", at=0.0)
    book.add_received(record("1"), b"c", at=0.0)  # 1 is active again
    book.add_received(record("3"), b"d", at=0.0)  # evicts 2
    assert book.numbers() == ["3", "1"]
    assert len(book) == 2
    assert book.messages("2", now=0.0) == []


def test_sent_messages_are_filed_with_their_text() -> None:
    book = HandsetBook(decoder=decode)
    book.add_sent(
        "+447700900123", peer="12345", text="STOP", message_ids=("m1",), at=3.0, fate=None
    )
    [msg] = book.messages("447700900123", now=0.0)
    assert msg.direction is Direction.SENT
    assert (msg.peer, msg.text, msg.message_ids) == ("12345", "STOP", ("m1",))


def test_bounds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="bounds"):
        HandsetBook(decoder=decode, per_handset=0)


@given(
    dests=st.lists(st.sampled_from([str(i) for i in range(30)]), max_size=300),
    max_handsets=st.integers(1, 10),
    per_handset=st.integers(1, 5),
)
def test_memory_is_bounded_whatever_the_traffic(
    dests: list[str], max_handsets: int, per_handset: int
) -> None:
    book = HandsetBook(decoder=decode, max_handsets=max_handsets, per_handset=per_handset)
    for i, dest in enumerate(dests):
        book.add_received(record(dest), b"x", at=0.0, concat=(i % 3, 2, 1) if i % 2 else None)
    assert len(book) <= max_handsets
    for number in book.numbers():
        handset = book._handsets[number]
        assert len(handset.entries) <= per_handset
        assert len(handset.pending) <= per_handset
    if dests:
        assert book.numbers()[0] == dests[-1]
