"""The retry schedule: at least 24 hours of tries, jitter within bounds, Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.webhooks.backoff import DEFAULT_SCHEDULE, RetrySchedule, parse_retry_after

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _middle(low: float, high: float) -> float:
    return (low + high) / 2


def test_the_default_schedule_spans_at_least_a_day_even_at_its_shortest() -> None:
    assert DEFAULT_SCHEDULE.minimum_span() >= 24 * 3600
    shortest = [
        DEFAULT_SCHEDULE.delay(n, uniform=lambda low, high: low)
        for n in range(1, DEFAULT_SCHEDULE.tries)
    ]
    assert sum(d for d in shortest if d is not None) >= 24 * 3600


def test_delays_grow_and_then_the_delivery_is_dead() -> None:
    delays = [DEFAULT_SCHEDULE.delay(n, uniform=_middle) for n in range(1, 13)]
    assert delays[:5] == [5, 30, 120, 600, 1800]
    assert delays[-1] is None  # the twelfth try was the last
    numbers = [d for d in delays if d is not None]
    assert numbers == sorted(numbers)


def test_a_replayed_delivery_starts_a_new_round_once_the_old_one_is_used_up() -> None:
    schedule = RetrySchedule(delays=(1.0, 2.0), jitter=0)
    assert [schedule.delay(n) for n in range(1, 7)] == [1.0, 2.0, None, 1.0, 2.0, None]


def test_retry_after_replaces_the_drawn_delay_up_to_a_cap() -> None:
    schedule = RetrySchedule(delays=(5.0, 10.0), max_retry_after=60)
    assert schedule.delay(1, retry_after=42) == 42
    assert schedule.delay(1, retry_after=10_000) == 60
    assert schedule.delay(3, retry_after=42) is None  # the schedule still ends


def test_bad_schedules_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one delay"):
        RetrySchedule(delays=())
    with pytest.raises(ValueError, match="none negative"):
        RetrySchedule(delays=(-1.0,))
    with pytest.raises(ValueError, match="jitter"):
        RetrySchedule(delays=(1.0,), jitter=1.5)
    with pytest.raises(ValueError, match="numbered from 1"):
        DEFAULT_SCHEDULE.delay(0)


@given(attempt=st.integers(min_value=1, max_value=11), draw=st.floats(min_value=0, max_value=1))
def test_every_delay_stays_within_its_jitter(attempt: int, draw: float) -> None:
    delay = DEFAULT_SCHEDULE.delay(attempt, uniform=lambda low, high: low + (high - low) * draw)
    base = DEFAULT_SCHEDULE.delays[attempt - 1]
    assert delay is not None
    assert base * 0.8 - 1e-9 <= delay <= base * 1.2 + 1e-9


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
        (format_datetime(NOW - timedelta(seconds=90), usegmt=True), 0.0),
        ("soon", None),
        ("-5", None),
        (None, None),
    ],
)
def test_retry_after_takes_seconds_or_an_http_date(
    header: str | None, seconds: float | None
) -> None:
    assert parse_retry_after(header, now=NOW) == seconds
