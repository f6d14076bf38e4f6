from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.errors import ConfigError
from marconi.simulator.message_id import IdFormat, MessageIdFactory
from marconi.simulator.record import (
    RECEIPT_ALWAYS,
    RECEIPT_NONE,
    RECEIPT_ON_FAILURE,
    MessageBook,
    MessageRecord,
)
from marconi.simulator.rule import DELIVERED, ENROUTE, Fate, Outcome
from marconi.smpp import SubmitSm


def make(
    message_id: str = "1",
    *,
    done_at: float = 10.0,
    outcome: Outcome = DELIVERED,
    receipt: int = RECEIPT_NONE,
) -> MessageRecord:
    pdu = SubmitSm(source_addr="ACME", destination_addr="447700900123", short_message=b"hi")
    return MessageRecord(message_id, "acme", pdu, pdu, b"hi", 0.0, done_at, outcome, receipt)


def test_fields_are_read_from_the_request() -> None:
    record = make()
    assert record.source_addr == "ACME"
    assert record.destination_addr == "447700900123"
    assert record.data_coding == 0
    assert record.esm_class == 0
    assert "447700900123" in repr(record)


def test_state_is_en_route_until_done_then_final() -> None:
    record = make(outcome=Outcome(Fate.UNDELIVERABLE, 1))
    assert record.message_state(9.99) == ENROUTE
    assert record.fate(9.99) is None
    assert not record.is_final(9.99)
    assert record.message_state(10.0) == 5
    assert record.fate(10.0) is Fate.UNDELIVERABLE


def test_cancel_only_while_en_route() -> None:
    record = make()
    assert record.cancel(5.0) is True
    assert record.fate(5.0) is Fate.DELETED
    assert record.message_state(6.0) == 4
    assert record.cancel(6.0) is False
    late = make()
    assert late.cancel(11.0) is False
    assert late.fate(11.0) is Fate.DELIVERED


@pytest.mark.parametrize(
    ("receipt", "fate", "wanted"),
    [
        (RECEIPT_NONE, Fate.DELIVERED, False),
        (RECEIPT_NONE, Fate.UNDELIVERABLE, False),
        (RECEIPT_ALWAYS, Fate.DELIVERED, True),
        (RECEIPT_ALWAYS, Fate.EXPIRED, True),
        (RECEIPT_ON_FAILURE, Fate.DELIVERED, False),
        (RECEIPT_ON_FAILURE, Fate.REJECTED, True),
    ],
)
def test_wants_receipt_follows_registered_delivery(receipt: int, fate: Fate, wanted: bool) -> None:
    assert make(receipt=receipt, outcome=Outcome(fate)).wants_receipt() is wanted


def test_book_forgets_oldest_generation_beyond_capacity() -> None:
    book = MessageBook(capacity=4)
    for i in range(5):
        book.add(make(str(i)))
    # generations of two: {0,1} dropped, {2,3} old, {4} young
    assert len(book) == 3
    assert book.get("0") is None
    assert book.get("1") is None
    assert all(book.get(str(i)) is not None for i in (2, 3, 4))
    assert "4" in book
    assert "0" not in book
    assert [r.message_id for r in book] == ["2", "3", "4"]


@given(n=st.integers(0, 3000), capacity=st.integers(2, 500))
def test_book_keeps_at_least_half_and_at_most_capacity(n: int, capacity: int) -> None:
    book = MessageBook(capacity=capacity)
    for i in range(n):
        book.add(make(str(i)))
    assert len(book) <= capacity
    recent = range(max(0, n - capacity // 2), n)
    assert all(str(i) in book for i in recent)


def test_book_capacity_must_be_at_least_two() -> None:
    with pytest.raises(ValueError, match="capacity"):
        MessageBook(capacity=1)


def test_replace_only_while_en_route() -> None:
    record = make()
    assert record.replace(b"new", 1.0) is True
    assert record.body == b"new"
    assert record.replace(b"late", 10.0) is False
    assert record.body == b"new"


def test_ids_are_unique_and_formatted() -> None:
    dec = MessageIdFactory(start=9)
    assert [dec.next_id() for _ in range(3)] == ["9", "10", "11"]
    hexa = MessageIdFactory(id_format=IdFormat.HEX, start=254)
    assert [hexa.next_id() for _ in range(3)] == ["FE", "FF", "100"]
    assert hexa.canonical(" ff ") == "FF"
    assert dec.canonical("12") == "12"


def test_default_start_differs_between_runs_and_fits_a_message_id() -> None:
    a = MessageIdFactory()
    ids = {a.next_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    b = MessageIdFactory(id_format=IdFormat.HEX)
    assert all(len(i) <= 64 for i in ids)
    assert len(b.next_id()) <= 64


def test_id_format_parse() -> None:
    assert IdFormat.parse("HEX") is IdFormat.HEX
    assert IdFormat.parse("decimal") is IdFormat.DECIMAL
    with pytest.raises(ConfigError):
        IdFormat.parse("base64")
