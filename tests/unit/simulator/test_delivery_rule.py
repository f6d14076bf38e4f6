from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.errors import ConfigError
from marconi.simulator.latency import FixedLatency, UniformLatency
from marconi.simulator.rule import (
    BUILTIN_RULES,
    DeliveryRules,
    DestinationRule,
    Fate,
    Outcome,
    OutcomeRatios,
    normalize_number,
)


def test_ratios_converge_over_many_draws() -> None:
    ratios = OutcomeRatios(delivered=0.7, undeliverable=0.15, expired=0.1, rejected=0.05)
    rules = DeliveryRules(ratios=ratios, rules=())
    rng = random.Random(12345)
    n = 100_000
    counts = Counter(rules.decide("15551230000", rng).outcome.fate for _ in range(n))
    assert counts[Fate.DELIVERED] / n == pytest.approx(0.7, abs=0.01)
    assert counts[Fate.UNDELIVERABLE] / n == pytest.approx(0.15, abs=0.01)
    assert counts[Fate.EXPIRED] / n == pytest.approx(0.1, abs=0.01)
    assert counts[Fate.REJECTED] / n == pytest.approx(0.05, abs=0.01)


def test_same_seed_same_fates() -> None:
    rules = DeliveryRules(ratios=OutcomeRatios.with_delivered(0.5), rules=())
    a = [rules.decide("1", random.Random(9)).outcome for _ in range(5)]
    b = [rules.decide("1", random.Random(9)).outcome for _ in range(5)]
    assert a == b


def test_drawn_failures_carry_a_network_error() -> None:
    rules = DeliveryRules(ratios=OutcomeRatios(delivered=0, undeliverable=1), rules=())
    outcome = rules.decide("1", random.Random(0)).outcome
    assert outcome == Outcome(Fate.UNDELIVERABLE, 1)


@pytest.mark.parametrize(
    "values",
    [(0.5, 0.5, 0.5, 0.0), (1.1, 0, 0, -0.1), (0.2, 0.2, 0.2, 0.2), (float("nan"), 0, 0, 1)],
)
def test_ratios_must_sum_to_one(values: tuple[float, float, float, float]) -> None:
    with pytest.raises(ConfigError):
        OutcomeRatios(*values)


@given(st.floats(0, 1))
def test_with_delivered_always_sums_to_one(delivered: float) -> None:
    ratios = OutcomeRatios.with_delivered(delivered)
    assert ratios.delivered == delivered
    assert ratios.rejected == 0
    assert ratios.undeliverable == pytest.approx(ratios.expired)


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_with_delivered_rejects_out_of_range(bad: float) -> None:
    with pytest.raises(ConfigError):
        OutcomeRatios.with_delivered(bad)


@given(seed=st.integers(0, 2**32))
def test_magic_numbers_are_deterministic_whatever_the_ratios(seed: int) -> None:
    rules = DeliveryRules(ratios=OutcomeRatios(delivered=0, rejected=1))
    rng = random.Random(seed)
    assert rules.decide("447700900000", rng).outcome.fate is Fate.DELIVERED
    assert rules.decide("+447700900002", rng).outcome == Outcome(Fate.UNDELIVERABLE, 1)
    assert rules.decide("00447700900003", rng).outcome == Outcome(Fate.EXPIRED, 27)
    assert rules.decide("447700900004", rng).outcome == Outcome(Fate.REJECTED, 13)


def test_magic_submit_refusal() -> None:
    decision = DeliveryRules().decide("447700900001", random.Random(0))
    assert decision.submit_status == 0x0B
    assert decision.receipt is False


def test_magic_no_receipt_and_slow() -> None:
    rules = DeliveryRules()
    assert rules.decide("447700900009", random.Random(0)).receipt is False
    slow = rules.decide("447700900008", random.Random(0))
    assert slow.delay == 30.0
    assert slow.outcome.fate is Fate.DELIVERED


def test_builtin_numbers_are_all_distinct_and_in_the_drama_range() -> None:
    numbers = [r.number for r in BUILTIN_RULES]
    assert len(set(numbers)) == len(numbers)
    assert all(n.startswith("447700900") and len(n) == 12 for n in numbers)
    assert all(r.description for r in BUILTIN_RULES)


def test_exact_number_beats_prefix_and_longest_prefix_wins() -> None:
    rules = DeliveryRules(
        rules=(
            DestinationRule("49", prefix=True, outcome=Outcome(Fate.EXPIRED, 5)),
            DestinationRule("4915", prefix=True, outcome=Outcome(Fate.REJECTED, 6)),
            DestinationRule("4915123", outcome=Outcome(Fate.UNDELIVERABLE, 7)),
        ),
    )
    rng = random.Random(0)
    assert rules.decide("4930000", rng).outcome == Outcome(Fate.EXPIRED, 5)
    assert rules.decide("4915999", rng).outcome == Outcome(Fate.REJECTED, 6)
    assert rules.decide("4915123", rng).outcome == Outcome(Fate.UNDELIVERABLE, 7)
    # an exact rule does not match longer numbers
    assert rules.decide("49151234", rng).outcome == Outcome(Fate.REJECTED, 6)
    assert rules.decide("3312345", rng).outcome.fate is Fate.DELIVERED


def test_later_rules_override_builtins() -> None:
    rules = DeliveryRules().with_rules(
        [DestinationRule("447700900002", outcome=Outcome(Fate.DELIVERED))]
    )
    assert rules.decide("447700900002", random.Random(0)).outcome.fate is Fate.DELIVERED


def test_rule_latency_overrides_default() -> None:
    rules = DeliveryRules(
        latency=FixedLatency(1.0),
        rules=(DestinationRule("1555", prefix=True, latency=FixedLatency(9.0)),),
    )
    rng = random.Random(0)
    assert rules.decide("15550001", rng).delay == 9.0
    assert rules.decide("16660001", rng).delay == 1.0


@given(seed=st.integers(0, 2**32), dest=st.text("0123456789", min_size=1, max_size=15))
def test_delay_within_latency_bounds(seed: int, dest: str) -> None:
    rules = DeliveryRules(latency=UniformLatency(0.5, 1.5), rules=())
    delay = rules.decide(dest, random.Random(seed)).delay
    assert 0.5 <= delay <= 1.5


def test_fate_parse_accepts_stat_and_name() -> None:
    assert Fate.parse("undeliv") is Fate.UNDELIVERABLE
    assert Fate.parse("Delivered") is Fate.DELIVERED
    with pytest.raises(ConfigError):
        Fate.parse("LOST")


def test_message_states_follow_the_spec() -> None:
    assert Fate.DELIVERED.message_state == 2
    assert Fate.EXPIRED.message_state == 3
    assert Fate.DELETED.message_state == 4
    assert Fate.UNDELIVERABLE.message_state == 5
    assert Fate.REJECTED.message_state == 8


@pytest.mark.parametrize(
    ("raw", "normal"), [("+4412", "4412"), ("004412", "4412"), (" 4412 ", "4412"), ("12", "12")]
)
def test_normalize_number(raw: str, normal: str) -> None:
    assert normalize_number(raw) == normal


def test_rule_validation() -> None:
    with pytest.raises(ConfigError):
        DestinationRule("+")
    with pytest.raises(ConfigError):
        DestinationRule("1", submit_status=0)
    with pytest.raises(ConfigError):
        Outcome(Fate.DELIVERED, 70_000)
