from __future__ import annotations

import random
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.errors import ConfigError
from marconi.simulator.latency import (
    FixedLatency,
    LogNormalLatency,
    NormalLatency,
    UniformLatency,
    parse_latency,
)


def test_fixed_is_always_the_same() -> None:
    rng = random.Random(1)
    latency = FixedLatency(0.25)
    assert {latency.sample(rng) for _ in range(100)} == {0.25}


@given(
    low=st.floats(0, 100),
    width=st.floats(0, 100),
    seed=st.integers(0, 2**32),
)
def test_uniform_stays_within_bounds(low: float, width: float, seed: int) -> None:
    latency = UniformLatency(low, low + width)
    rng = random.Random(seed)
    for _ in range(50):
        assert low <= latency.sample(rng) <= low + width


@given(
    mean=st.floats(0, 10),
    sd=st.floats(0, 10),
    lo=st.floats(0, 5),
    span=st.floats(0, 20),
    seed=st.integers(0, 2**32),
)
def test_normal_is_clamped_to_min_and_max(
    mean: float, sd: float, lo: float, span: float, seed: int
) -> None:
    latency = NormalLatency(mean, sd, lo, lo + span)
    rng = random.Random(seed)
    for _ in range(50):
        assert lo <= latency.sample(rng) <= lo + span


@given(
    median=st.floats(0.001, 10),
    sigma=st.floats(0, 3),
    seed=st.integers(0, 2**32),
)
def test_lognormal_never_negative_and_below_default_ceiling(
    median: float, sigma: float, seed: int
) -> None:
    latency = LogNormalLatency(median, sigma)
    rng = random.Random(seed)
    for _ in range(50):
        value = latency.sample(rng)
        assert 0 <= value <= latency.maximum


def test_normal_converges_to_its_mean() -> None:
    rng = random.Random(7)
    latency = NormalLatency(2.0, 0.5)
    draws = [latency.sample(rng) for _ in range(20_000)]
    assert statistics.fmean(draws) == pytest.approx(2.0, abs=0.02)
    assert statistics.pstdev(draws) == pytest.approx(0.5, abs=0.02)


def test_lognormal_converges_to_its_median() -> None:
    rng = random.Random(7)
    latency = LogNormalLatency(1.5, 0.8)
    draws = [latency.sample(rng) for _ in range(20_000)]
    assert statistics.median(draws) == pytest.approx(1.5, rel=0.03)
    assert statistics.fmean(draws) > 1.5  # the right tail pulls the mean up


def test_same_seed_same_draws() -> None:
    latency = UniformLatency(0, 10)
    a = [latency.sample(random.Random(3)) for _ in range(3)]
    b = [latency.sample(random.Random(3)) for _ in range(3)]
    assert a == b


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("0.5", FixedLatency(0.5)),
        ("fixed:2", FixedLatency(2.0)),
        (" Uniform:0.1, 2 ", UniformLatency(0.1, 2.0)),
        ("normal:1,0.3", NormalLatency(1.0, 0.3)),
        ("normal:1,0.3,min=0.2,max=3", NormalLatency(1.0, 0.3, 0.2, 3.0)),
        ("lognormal:1,0.5,max=30", LogNormalLatency(1.0, 0.5, 0.0, 30.0)),
    ],
)
def test_parse(spec: str, expected: object) -> None:
    assert parse_latency(spec) == expected


def test_default_maximum_of_normal_is_six_sd_above_the_mean() -> None:
    assert NormalLatency(1.0, 0.5).maximum == pytest.approx(4.0)


@pytest.mark.parametrize(
    "spec",
    [
        "gamma:1",
        "uniform:1",
        "fixed:abc",
        "normal:1,0.3,median=2",
        "fixed:1,min=0",
        "uniform:2,1",
        "fixed:-1",
        "normal:1,-1",
        "lognormal:0,1",
        "normal:1,0.3,min=5,max=2",
        "fixed:inf",
    ],
)
def test_parse_rejects(spec: str) -> None:
    with pytest.raises(ConfigError):
        parse_latency(spec)


@pytest.mark.parametrize(
    "latency",
    [
        FixedLatency(0.5),
        UniformLatency(0.1, 2),
        NormalLatency(1, 0.3, 0.2, 3),
        LogNormalLatency(1, 0.5, 0, 30),
    ],
)
def test_str_parses_back(latency: object) -> None:
    assert parse_latency(str(latency)) == latency
