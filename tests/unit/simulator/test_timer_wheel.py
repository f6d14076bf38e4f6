from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.simulator.wheel import TimerWheel


def test_items_come_out_in_due_order_and_not_before() -> None:
    wheel: TimerWheel[str] = TimerWheel(resolution=0.01)
    wheel.add(0.30, "c")
    wheel.add(0.10, "a")
    wheel.add(0.20, "b")
    assert len(wheel) == 3
    assert wheel.pop_due(0.05) == []
    assert wheel.pop_due(0.1) == ["a"]
    assert wheel.pop_due(1.0) == ["b", "c"]
    assert len(wheel) == 0
    assert wheel.next_due() is None


def test_add_reports_when_next_due_moved_earlier() -> None:
    wheel: TimerWheel[int] = TimerWheel(resolution=0.01)
    assert wheel.add(1.0, 1) is True
    assert wheel.add(2.0, 2) is False
    assert wheel.add(1.0, 3) is False  # same bucket
    assert wheel.add(0.5, 4) is True
    assert wheel.next_due() == pytest.approx(0.5)


def test_limit_leaves_the_rest_due() -> None:
    wheel: TimerWheel[int] = TimerWheel(resolution=1.0)
    for i in range(10):
        wheel.add(1.0, i)
    assert wheel.pop_due(5.0, limit=4) == [0, 1, 2, 3]
    assert len(wheel) == 6
    assert wheel.pop_due(5.0, limit=4) == [4, 5, 6, 7]
    assert wheel.pop_due(5.0) == [8, 9]


def test_clear_returns_everything() -> None:
    wheel: TimerWheel[int] = TimerWheel()
    wheel.add(3.0, 3)
    wheel.add(1.0, 1)
    assert wheel.clear() == [1, 3]
    assert len(wheel) == 0


def test_resolution_must_be_positive() -> None:
    with pytest.raises(ValueError, match="resolution"):
        TimerWheel(resolution=0)


@given(
    res=st.sampled_from([0.001, 0.005, 0.01, 0.1, 0.3]),
    dues=st.lists(st.floats(0, 1000, allow_nan=False), max_size=60),
    probes=st.lists(st.floats(0, 1100, allow_nan=False), max_size=10),
)
def test_never_early_at_most_one_resolution_late(
    res: float, dues: list[float], probes: list[float]
) -> None:
    wheel: TimerWheel[float] = TimerWheel(resolution=res)
    for due in dues:
        wheel.add(due, due)
    out: list[float] = []
    for now in [*sorted(probes), 2000.0]:
        popped = wheel.pop_due(now)
        assert all(due <= now for due in popped)  # never early
        assert popped == sorted(popped, key=lambda d: _bucket(d, res))
        out.extend(popped)
        left = list(dues)
        for d in out:
            left.remove(d)
        # nothing left behind that was due a whole resolution ago
        assert all(d > now - res * 1.000001 for d in left)
    assert sorted(out) == sorted(dues)


def _bucket(due: float, res: float) -> int:
    key = math.ceil(due / res)
    return key + 1 if key * res < due else key


@given(dues=st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=50))
def test_everything_due_by_its_bucket_end(dues: list[float]) -> None:
    res = 0.01
    wheel: TimerWheel[float] = TimerWheel(resolution=res)
    for due in dues:
        wheel.add(due, due)
    for due in sorted(dues):
        # at due + one resolution every item due so far has come out
        wheel.pop_due(due + res)
    assert len(wheel) == 0
