from __future__ import annotations

import pytest

from marconi.errors import LocalProtocolError, WindowFull
from marconi.smpp import CommandId, Outstanding, Window


def test_acquire_release_and_counts() -> None:
    window = Window(2)
    assert window.size == 2
    assert window.free == 2
    window.acquire(1, CommandId.SUBMIT_SM, 10.0)
    window.acquire(2, CommandId.QUERY_SM, 11.0)
    assert window.full
    assert len(window) == 2
    assert 1 in window
    with pytest.raises(WindowFull):
        window.acquire(3, CommandId.SUBMIT_SM, 12.0)
    assert window.get(2) == Outstanding(2, CommandId.QUERY_SM, 11.0)
    assert window.release(1) == Outstanding(1, CommandId.SUBMIT_SM, 10.0)
    assert window.release(1) is None
    assert window.get(1) is None
    assert window.free == 1


def test_force_goes_beyond_the_size() -> None:
    window = Window(1)
    window.acquire(1, CommandId.SUBMIT_SM, 0.0)
    window.acquire(2, CommandId.ENQUIRE_LINK, 0.0, force=True)
    assert window.free == -1


def test_duplicate_sequence_number() -> None:
    window = Window(4)
    window.acquire(7, CommandId.SUBMIT_SM, 0.0)
    with pytest.raises(LocalProtocolError):
        window.acquire(7, CommandId.SUBMIT_SM, 0.0)


def test_expire_takes_the_oldest_first_and_only_those_due() -> None:
    window = Window(10)
    for seq, sent_at in ((1, 0.0), (2, 1.0), (3, 2.0), (4, 3.0)):
        window.acquire(seq, CommandId.SUBMIT_SM, sent_at)
    window.release(2)
    assert window.oldest() == Outstanding(1, CommandId.SUBMIT_SM, 0.0)
    expired = window.expire(now=12.0, timeout=10.0)
    assert [e.sequence_number for e in expired] == [1, 3]
    assert window.oldest() == Outstanding(4, CommandId.SUBMIT_SM, 3.0)
    assert window.expire(now=12.9, timeout=10.0) == []
    assert [e.sequence_number for e in window.clear()] == [4]
    assert window.oldest() is None


def test_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Window(0)
