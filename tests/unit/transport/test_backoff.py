from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.transport.backoff import Backoff


def test_exact_delays_grow_then_cap() -> None:
    backoff = Backoff(initial=0.5, maximum=4.0, multiplier=2.0, jitter=0.0)
    assert [backoff.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_huge_attempt_numbers_do_not_overflow() -> None:
    backoff = Backoff(initial=0.1, maximum=30.0, multiplier=3.0, jitter=0.0)
    assert backoff.delay(10_000) == 30.0


def test_jitter_only_shortens() -> None:
    backoff = Backoff(initial=1.0, maximum=8.0, jitter=0.5)
    assert backoff.delay(2, rng=lambda: 0.0) == 2.0
    assert backoff.delay(2, rng=lambda: 0.999999) == pytest.approx(1.0, abs=1e-5)


def test_multiplier_one_is_constant() -> None:
    backoff = Backoff(initial=2.0, maximum=2.0, multiplier=1.0, jitter=0.0)
    assert {backoff.delay(n) for n in range(1, 50)} == {2.0}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial": -1.0},
        {"initial": 2.0, "maximum": 1.0},
        {"multiplier": 0.5},
        {"jitter": 1.5},
        {"maximum": float("inf")},
    ],
)
def test_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        Backoff(**kwargs)


def test_attempt_counts_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        Backoff().delay(0)


@given(
    initial=st.floats(0.0, 10.0),
    extra=st.floats(0.0, 100.0),
    multiplier=st.floats(1.0, 10.0),
    jitter=st.floats(0.0, 1.0),
    attempts=st.lists(st.integers(1, 10_000), min_size=1, max_size=20),
    seed=st.integers(),
)
def test_delay_is_bounded_and_ceiling_monotonic(
    initial: float,
    extra: float,
    multiplier: float,
    jitter: float,
    attempts: list[int],
    seed: int,
) -> None:
    backoff = Backoff(
        initial=initial, maximum=initial + extra, multiplier=multiplier, jitter=jitter
    )
    rng = random.Random(seed).random
    for attempt in attempts:
        delay = backoff.delay(attempt, rng)
        ceiling = backoff.ceiling(attempt)
        assert 0.0 <= delay <= ceiling <= backoff.maximum
        assert delay >= ceiling * (1 - jitter) - 1e-9
    ordered = sorted(attempts)
    ceilings = [backoff.ceiling(a) for a in ordered]
    assert ceilings == sorted(ceilings)
