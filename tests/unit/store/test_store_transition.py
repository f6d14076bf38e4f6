"""The status transition table and how parts add up, without a database."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from marconi.store.model import FINAL_STATUSES, MessageStatus, PartStatus
from marconi.store.transition import ALLOWED, FINAL_PART_STATUSES, aggregate_parts, can_move

S = MessageStatus
P = PartStatus


def test_final_statuses_never_move() -> None:
    for final in FINAL_STATUSES:
        assert all(not can_move(final, target) for target in MessageStatus)


def test_every_status_has_a_row_and_no_status_moves_to_itself() -> None:
    assert set(ALLOWED) == set(MessageStatus)
    assert all(status not in targets for status, targets in ALLOWED.items())


def test_nothing_goes_back_to_scheduled_or_received() -> None:
    for targets in ALLOWED.values():
        assert S.SCHEDULED not in targets
        assert S.RECEIVED not in targets


def test_the_happy_path_and_the_retry_loop() -> None:
    path = [S.SCHEDULED, S.QUEUED, S.SENDING, S.SENT, S.DELIVERED]
    assert all(can_move(a, b) for a, b in itertools.pairwise(path))
    assert can_move(S.SENDING, S.QUEUED)
    assert not can_move(S.SENT, S.QUEUED)
    assert not can_move(S.SENT, S.SENDING)


@given(st.lists(st.sampled_from(list(FINAL_PART_STATUSES)), min_size=1, max_size=10))
def test_final_parts_always_add_up_to_a_final_status(parts: list[PartStatus]) -> None:
    result = aggregate_parts(parts, segments=len(parts))
    assert result in FINAL_STATUSES
    delivered = parts.count(P.DELIVERED)
    if delivered == len(parts):
        assert result is S.DELIVERED
    elif delivered:
        assert result is S.PARTIALLY_DELIVERED
    else:
        assert result in (S.UNDELIVERED, S.FAILED)


@given(st.lists(st.sampled_from(list(PartStatus)), min_size=1, max_size=10))
def test_an_open_part_keeps_the_message_open(parts: list[PartStatus]) -> None:
    result = aggregate_parts(parts, segments=len(parts))
    assert (result is None) == (P.SUBMITTED in parts)


def test_missing_parts_keep_the_message_open() -> None:
    assert aggregate_parts([P.DELIVERED], segments=2) is None
    assert aggregate_parts([], segments=0) is None
    assert aggregate_parts([P.FAILED, P.FAILED], segments=2) is S.FAILED
    assert aggregate_parts([P.FAILED, P.UNDELIVERED], segments=2) is S.UNDELIVERED
