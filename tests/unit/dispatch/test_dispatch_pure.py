from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st
from tests.unit.dispatch.fakes import T0, message

from marconi.config import RouteConfig
from marconi.dispatch import (
    Disposition,
    IdBook,
    PduBuilder,
    RetryPolicy,
    Router,
    address_kind,
    classify,
    error_code,
    received_part,
)
from marconi.errors import CommandStatusError, ResponseTimeout, TransportError
from marconi.smpp import CommandStatus, DeliverSm, Tag
from marconi.text import Reassembler


def test_router_matches_prefix_sender_and_country_and_chains_failover() -> None:
    router = Router(
        [
            RouteConfig(prefixes=("+44",), connectors=("uk-a", "uk-b")),
            RouteConfig(senders=("Bank",), connectors=("premium",)),
            RouteConfig(countries=("DE",), connectors=("de",)),
            RouteConfig(connectors=("sim", "uk-a")),
        ]
    )
    assert router.candidates("+447700900123", "Marconi") == ("uk-a", "uk-b", "sim")
    assert router.candidates("+447700900123", "Bank") == ("uk-a", "uk-b", "premium", "sim")
    assert router.candidates("+4915112345678", "Marconi") == ("de", "sim", "uk-a")
    assert router.candidates("+14155550100", "Marconi") == ("sim", "uk-a")
    # cached answers are the same answers
    assert router.candidates("+4915112345678", "Marconi") == ("de", "sim", "uk-a")


def test_a_route_with_min_priority_takes_only_the_priority_class_first() -> None:
    router = Router(
        [
            RouteConfig(min_priority=10, connectors=("premium",)),
            RouteConfig(connectors=("bulk",)),
        ]
    )
    assert router.candidates("+447700900123", "Acme") == ("bulk",)
    assert router.candidates("+447700900123", "Acme", 9) == ("bulk",)
    assert router.candidates("+447700900123", "Acme", 10) == ("premium", "bulk")
    # the cache keeps the classes apart
    assert router.candidates("+447700900123", "Acme") == ("bulk",)
    assert router.candidates("+447700900123", "Acme", 50) == ("premium", "bulk")


def test_router_without_catch_all_can_match_nothing() -> None:
    router = Router([RouteConfig(prefixes=("+4477009",), connectors=("a",))])
    assert router.candidates("+447700900123", "x") == ("a",)
    assert router.candidates("+447700800123", "x") == ()


def test_classify_link_refusals_fail_over_and_busy_retries() -> None:
    assert classify(CommandStatusError(CommandStatus.ESME_RINVBNDSTS)) is Disposition.FAILOVER
    assert classify(CommandStatusError(CommandStatus.ESME_RSYSERR)) is Disposition.FAILOVER
    assert classify(CommandStatusError(CommandStatus.ESME_RTHROTTLED)) is Disposition.RETRY
    assert classify(CommandStatusError(CommandStatus.ESME_RMSGQFUL)) is Disposition.RETRY
    assert classify(ResponseTimeout(7)) is Disposition.RETRY
    assert classify(TransportError("dropped")) is Disposition.RETRY
    assert classify(CommandStatusError(CommandStatus.ESME_RINVDSTADR)) is Disposition.FAIL
    assert error_code(CommandStatusError(CommandStatus.ESME_RINVDSTADR)) == "ESME_RINVDSTADR"
    assert error_code(CommandStatusError(0x400)) == "0x00000400"
    assert error_code(ResponseTimeout(1)) == "response_timeout"
    assert error_code(TransportError("x")) == "link_down"


@given(st.integers(min_value=1, max_value=200), st.integers(min_value=0, max_value=2**32))
def test_retry_delay_grows_within_bounds(attempts: int, seed: int) -> None:
    policy = RetryPolicy(initial=1.0, maximum=60.0, rng=random.Random(seed))
    ceiling = min(60.0, 2.0 ** (attempts - 1))
    delay = policy.delay(attempts)
    assert ceiling / 2 <= delay <= ceiling
    assert policy.next_attempt(attempts, T0) > T0


def test_retry_policy_gives_up_after_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert not policy.exhausted(2)
    assert policy.exhausted(3)


def test_address_kinds() -> None:
    assert address_kind("+447700900123") == ("447700900123", 1, 1)
    assert address_kind("12345") == ("12345", 3, 1)
    assert address_kind("Marconi") == ("Marconi", 5, 0)


def test_long_message_parts_share_a_reference_and_the_next_one_to_the_same_handset_differs() -> (
    None
):
    builder = PduBuilder()
    body = "x" * 300
    first = builder.build(message(1, body=body, segments=2))
    second = builder.build(message(2, body=body, segments=2))
    other = builder.build(message(3, body=body, segments=2, to="+447700900999"))
    assert len(first) == 2 == len(second)
    assert all(p.esm_class & 0x40 for p in first)
    assert all(p.registered_delivery == 1 for p in first)
    assert first[0].destination_addr == "447700900123"
    assert first[0].source_addr_ton == 5
    ref = [pdus[0].short_message[3] for pdus in (first, second, other)]
    assert first[0].short_message[3] == first[1].short_message[3]
    assert ref[0] != ref[1]
    assert ref[2] == ref[0]  # counters are per destination


def test_ucs2_message_is_sent_as_ucs2() -> None:
    pdus = PduBuilder().build(message(body="héllo ✓", encoding="ucs2"))
    assert pdus[0].data_coding == 8
    assert pdus[0].short_message == "héllo ✓".encode("utf-16-be")


def test_received_part_reads_sar_tlvs_and_reassembles() -> None:
    from marconi.smpp import Tlvs

    parts = [
        DeliverSm(
            source_addr="447700900123",
            destination_addr="12345",
            short_message=text.encode(),
            tlvs=Tlvs(
                [
                    (Tag.SAR_MSG_REF_NUM, 9),
                    (Tag.SAR_TOTAL_SEGMENTS, 2),
                    (Tag.SAR_SEGMENT_SEQNUM, n),
                ]
            ),
        )
        for n, text in ((2, "world"), (1, "hello "))
    ]
    reassembler = Reassembler()
    assert reassembler.add(received_part(parts[0]), now=0.0) is None
    whole = reassembler.add(received_part(parts[1]), now=0.0)
    assert whole is not None
    assert whole.text == "hello world"


def test_id_book_resolves_receipt_ids_in_other_forms() -> None:
    book = IdBook()
    assert book.submitted("sim", "000123") == "123"
    assert book.resolve("sim", "0123") == "123"
    assert book.resolve("sim", "7B") == "123"  # the receipt names it in hex
    assert book.resolve("other", "7B") == "7b"  # unknown on that link: as normalized
    assert book.resolve("sim", "999") == "999"  # unknown yet (early receipt): as normalized
    book.forget("sim", "123")
    assert book.resolve("sim", "7B") == "7b"


def test_id_book_is_bounded() -> None:
    book = IdBook(capacity=3)
    for n in range(10):
        book.submitted("sim", f"{n}")
    assert len(book) == 3
