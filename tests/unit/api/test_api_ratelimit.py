from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.api.ratelimit import RateLimiter


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_average_rate() -> None:
    clock = FakeMonotonic()
    limiter = RateLimiter(rate=2.0, burst=3, monotonic_clock=clock)
    assert [limiter.acquire("k") for _ in range(3)] == [None, None, None]
    wait = limiter.acquire("k")
    assert wait == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.acquire("k") is None
    assert limiter.acquire("k") == pytest.approx(0.5)


def test_keys_have_buckets_of_their_own() -> None:
    clock = FakeMonotonic()
    limiter = RateLimiter(rate=1.0, burst=1, monotonic_clock=clock)
    assert limiter.acquire("a") is None
    assert limiter.acquire("a") is not None
    assert limiter.acquire("b") is None


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert RateLimiter.retry_after(0.01) == "1"
    assert RateLimiter.retry_after(1.2) == "2"
    with pytest.raises(ValueError, match="rate"):
        RateLimiter(rate=0, burst=1)


@given(
    rate=st.floats(min_value=0.5, max_value=1000),
    burst=st.integers(min_value=1, max_value=50),
    steps=st.lists(st.floats(min_value=0, max_value=2), max_size=100),
)
def test_never_more_than_burst_plus_rate_times_elapsed(
    rate: float, burst: int, steps: list[float]
) -> None:
    clock = FakeMonotonic()
    limiter = RateLimiter(rate=rate, burst=burst, monotonic_clock=clock)
    allowed = 0
    for step in steps:
        clock.now += step
        if limiter.acquire("k") is None:
            allowed += 1
    assert allowed <= burst + rate * (clock.now - 100.0) + 1e-6
