from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.errors import ConfigError
from marconi.simulator.fault import FaultAction, FaultInjector, Faults, parse_fault


def actions(faults: Faults, n: int, *, now: float = 0.0, seed: int = 0) -> list[FaultAction]:
    injector = FaultInjector(faults, rng=random.Random(seed))
    return [injector.on_submit(i, now) for i in range(1, n + 1)]


def test_no_faults_always_respond() -> None:
    assert set(actions(Faults(), 1000)) == {FaultAction.RESPOND}
    assert not Faults().touches_submits


def test_black_hole_is_silent() -> None:
    assert set(actions(Faults(black_hole=True), 50)) == {FaultAction.SILENT}
    assert Faults(black_hole=True).touches_submits


def test_throttle_every_nth() -> None:
    got = actions(Faults(throttle_every=3), 9)
    throttled = [i + 1 for i, a in enumerate(got) if a is FaultAction.THROTTLE]
    assert throttled == [3, 6, 9]


def test_generic_nack_every_nth_takes_precedence_over_throttle() -> None:
    got = actions(Faults(generic_nack_every=4, throttle_every=2), 8)
    assert got[3] is FaultAction.GENERIC_NACK
    assert got[7] is FaultAction.GENERIC_NACK
    assert got[1] is FaultAction.THROTTLE
    assert got[0] is FaultAction.RESPOND


def test_unbind_and_drop_fire_once_at_their_count() -> None:
    got = actions(Faults(unbind_after=5), 10)
    assert [i + 1 for i, a in enumerate(got) if a is FaultAction.UNBIND] == [5]
    got = actions(Faults(drop_after=2, unbind_after=2), 4)
    assert got[1] is FaultAction.DROP


def test_drop_probability_converges() -> None:
    got = actions(Faults(drop_probability=0.1), 20_000, seed=4)
    share = got.count(FaultAction.DROP) / len(got)
    assert share == pytest.approx(0.1, abs=0.01)


def test_throttle_rate_is_a_token_bucket() -> None:
    injector = FaultInjector(Faults(throttle_rate=10), rng=random.Random(0))
    first_second = [injector.on_submit(i, 0.0) for i in range(1, 21)]
    assert first_second.count(FaultAction.RESPOND) == 10  # one second of burst
    assert first_second[10:] == [FaultAction.THROTTLE] * 10
    # half a second refills five tokens
    later = [injector.on_submit(i, 0.5) for i in range(21, 31)]
    assert later.count(FaultAction.RESPOND) == 5
    # a clock going backwards never mints tokens
    assert injector.on_submit(31, 0.1) is FaultAction.THROTTLE


@given(rate=st.floats(1, 200), seconds=st.integers(1, 4))
def test_throttle_rate_admits_about_rate_per_second(rate: float, seconds: int) -> None:
    injector = FaultInjector(Faults(throttle_rate=rate), rng=random.Random(0))
    admitted = 0
    steps = seconds * 10
    for step in range(steps + 1):
        now = step / 10
        for _ in range(int(rate) + 5):
            if injector.on_submit(1, now) is FaultAction.RESPOND:
                admitted += 1
    # burst of one second plus refill of `seconds`
    assert admitted <= rate * (seconds + 1) + 1
    assert admitted >= rate * (seconds + 1) - steps - 1


def test_switching_faults_at_runtime() -> None:
    injector = FaultInjector(rng=random.Random(0))
    assert injector.on_submit(1, 0.0) is FaultAction.RESPOND
    injector.faults = Faults(black_hole=True)
    assert injector.on_submit(2, 0.0) is FaultAction.SILENT
    injector.faults = Faults()
    assert injector.on_submit(3, 0.0) is FaultAction.RESPOND


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("black-hole", Faults(black_hole=True)),
        ("black-hole=off", Faults()),
        ("reject-binds", Faults(reject_binds=0x0D)),
        ("reject-binds=0x0E", Faults(reject_binds=0x0E)),
        ("throttle-rate=100", Faults(throttle_rate=100.0)),
        ("throttle_every=10", Faults(throttle_every=10)),
        ("generic-nack-every=3", Faults(generic_nack_every=3)),
        ("unbind-after=5", Faults(unbind_after=5)),
        ("drop-after=7", Faults(drop_after=7)),
        ("drop-probability=0.01", Faults(drop_probability=0.01)),
        ("slow-receipts=30", Faults(slow_receipts=30.0)),
        ("throttle-every=0", Faults()),
    ],
)
def test_parse_fault(spec: str, expected: Faults) -> None:
    assert parse_fault(spec) == expected


def test_parse_fault_accumulates_and_none_resets() -> None:
    faults = parse_fault("throttle-every=10")
    faults = parse_fault("slow-receipts=5", faults)
    assert faults == Faults(throttle_every=10, slow_receipts=5.0)
    assert faults.describe() == "throttle-every=10 slow-receipts=5"
    assert parse_fault("none", faults) == Faults()
    assert Faults().describe() == "none"
    assert Faults(black_hole=True, reject_binds=13).describe() == "black-hole reject-binds=0x0D"


@pytest.mark.parametrize(
    "spec",
    [
        "explode",
        "throttle-every=x",
        "throttle-every",
        "drop-probability=2",
        "slow-receipts=-1",
        "throttle-every=-3",
        "throttle-rate=-1",
    ],
)
def test_parse_fault_rejects(spec: str) -> None:
    with pytest.raises(ConfigError):
        parse_fault(spec)
