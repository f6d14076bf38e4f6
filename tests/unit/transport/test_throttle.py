from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.transport.backoff import Backoff
from marconi.transport.throttle import AdaptiveThrottle, TokenBucket


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def send_times(bucket: TokenBucket | AdaptiveThrottle, clock: FakeClock, count: int) -> list[float]:
    """Each request waits its reserved delay, as a caller that sleeps would."""
    times = []
    for _ in range(count):
        clock.now += bucket.reserve()
        times.append(clock.now)
    return times


def test_hundred_per_second_is_evenly_spaced() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=100, clock=clock)
    times = send_times(bucket, clock, 50)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps == pytest.approx([0.01] * 49)
    assert times[0] == 1000.0


def test_fractional_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=0.5, clock=clock)
    times = send_times(bucket, clock, 3)
    assert times == pytest.approx([1000.0, 1002.0, 1004.0])


def test_burst_allows_that_many_back_to_back_after_idling() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=3, clock=clock)
    assert [bucket.try_acquire() for _ in range(4)] == [True, True, True, False]
    assert bucket.delay() == pytest.approx(0.1)
    clock.now += 0.1
    assert bucket.try_acquire()
    assert not bucket.try_acquire()


def test_idle_time_does_not_bank_beyond_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, clock=clock)
    assert bucket.try_acquire()
    clock.now += 3600
    assert bucket.try_acquire()
    assert not bucket.try_acquire()


def test_reservations_queue_concurrent_callers() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=4, clock=clock)
    waits = [bucket.reserve() for _ in range(4)]
    assert waits == pytest.approx([0.0, 0.25, 0.5, 0.75])


def test_hold_until_pauses_then_restarts_empty() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=5, clock=clock)
    bucket.hold_until(1002.0)
    assert bucket.delay() == pytest.approx(2.0)
    clock.now = 1002.0
    assert bucket.try_acquire()
    assert not bucket.try_acquire()


def test_rate_can_change() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, clock=clock)
    bucket.rate = 2
    assert bucket.rate == 2
    assert send_times(bucket, clock, 3) == pytest.approx([1000.0, 1000.5, 1001.0])


@pytest.mark.parametrize("rate", [0.0, -1.0, float("inf"), float("nan")])
def test_bad_rates_are_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(rate=rate)


def test_burst_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="burst"):
        TokenBucket(rate=1, burst=0.5)


@given(
    rate=st.floats(0.1, 100_000),
    burst=st.integers(1, 50),
    arrivals=st.lists(st.floats(0.0, 2.0), min_size=1, max_size=200),
)
def test_never_more_than_rate_times_window_plus_burst(
    rate: float, burst: int, arrivals: list[float]
) -> None:
    clock = FakeClock(0.0)
    bucket = TokenBucket(rate=rate, burst=burst, clock=clock)
    sent = []
    for gap in arrivals:
        clock.now += gap
        sent.append(clock.now + bucket.reserve())
    assert sent == sorted(sent)
    # In any window [t, t + d] at most burst + rate * d requests go out.
    for i, start in enumerate(sent):
        for j in range(i, len(sent)):
            span = sent[j] - start
            assert j - i + 1 <= burst + rate * span + 1e-6 * (1 + rate * span)


def test_adaptive_without_rate_only_pauses_when_throttled() -> None:
    clock = FakeClock()
    throttle = AdaptiveThrottle(
        rate=None, backoff=Backoff(initial=0.5, maximum=4, jitter=0), clock=clock
    )
    assert throttle.rate is None
    assert [throttle.reserve() for _ in range(100)] == [0.0] * 100
    assert throttle.throttled() == 0.5
    assert throttle.reserve() == pytest.approx(0.5)
    assert throttle.throttled() == 1.0  # consecutive refusals back off further
    throttle.accepted()
    assert throttle.throttled() == 0.5
    clock.now += 10
    assert throttle.reserve() == 0.0


def test_adaptive_halves_the_rate_then_recovers() -> None:
    clock = FakeClock()
    throttle = AdaptiveThrottle(
        rate=100,
        backoff=Backoff(initial=1.0, maximum=1.0, jitter=0),
        recovery=10.0,
        clock=clock,
    )
    send_times(throttle, clock, 10)
    pause = throttle.throttled()
    assert pause == 1.0
    assert throttle.rate == 50
    first = clock.now + throttle.reserve()
    assert first >= clock.now + 1.0 - 1e-9
    clock.now = first
    # Right after the pause the spacing is the halved rate's.
    assert throttle.reserve() == pytest.approx(0.02, rel=0.1)
    # Recovery is linear over `recovery` seconds after the pause.
    clock.now += 5.0
    throttle.reserve()
    assert throttle.rate == pytest.approx(100, rel=0.05)
    clock.now += 10.0
    throttle.reserve()
    assert throttle.rate == 100


def test_adaptive_rate_never_falls_below_floor() -> None:
    clock = FakeClock()
    throttle = AdaptiveThrottle(rate=100, floor=0.1, clock=clock, rng=lambda: 0.0)
    for _ in range(20):
        throttle.throttled()
    assert throttle.rate == pytest.approx(10)


def test_adaptive_spacing_matches_configured_rate() -> None:
    clock = FakeClock()
    throttle = AdaptiveThrottle(rate=250, clock=clock)
    times = send_times(throttle, clock, 251)
    assert times[-1] - times[0] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "kwargs", [{"decrease": 0.0}, {"floor": 1.5}, {"recovery": 0.0}, {"rate": -5.0}]
)
def test_adaptive_rejects_nonsense(kwargs: dict[str, float]) -> None:
    kwargs.setdefault("rate", 10.0)
    with pytest.raises(ValueError):  # noqa: PT011
        AdaptiveThrottle(**kwargs)  # type: ignore[arg-type]


def test_acquire_takes_only_when_available() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, clock=clock)
    assert bucket.acquire() == 0.0
    assert bucket.acquire() == pytest.approx(0.1)
    assert bucket.acquire() == pytest.approx(0.1)  # asking again books nothing
    clock.now += 0.1
    assert bucket.acquire() == 0.0


def test_adaptive_acquire_honours_pause_and_rate() -> None:
    clock = FakeClock()
    throttle = AdaptiveThrottle(
        rate=10, backoff=Backoff(initial=2.0, maximum=2.0, jitter=0), clock=clock
    )
    assert throttle.acquire() == 0.0
    assert throttle.acquire() == pytest.approx(0.1)
    throttle.throttled()
    assert throttle.acquire() == pytest.approx(2.0)
    clock.now += 2.0
    assert throttle.acquire() == 0.0
    assert throttle.acquire() == pytest.approx(0.2)  # the rate was halved
    unlimited = AdaptiveThrottle(rate=None, clock=clock)
    assert [unlimited.acquire() for _ in range(5)] == [0.0] * 5
