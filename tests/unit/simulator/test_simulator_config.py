from __future__ import annotations

import random
from pathlib import Path

import pytest

from marconi.errors import ConfigError
from marconi.simulator.config import Account, SimulatorConfig, config_from_mapping, load_config
from marconi.simulator.fault import Faults
from marconi.simulator.latency import FixedLatency, LogNormalLatency
from marconi.simulator.message_id import IdFormat
from marconi.simulator.rule import BUILTIN_RULES, Fate, Outcome, OutcomeRatios

EXAMPLE = """
[smsc]
host = "127.0.0.1"
port = 2800
id_format = "hex"
admin_port = 2801
seed = 42

[[smsc.accounts]]
system_id = "acme"
password = "secret"

[smsc.receipts]
latency = "lognormal:1,0.5,max=30"
delivered = 0.90
undeliverable = 0.05
expired = 0.03
rejected = 0.02
queue_per_system_id = 50

[[smsc.rules]]
number = "4915"
prefix = true
stat = "UNDELIV"
err = 1
latency = "fixed:2"

[[smsc.rules]]
number = "4930123456"
submit_status = 0x0B

[smsc.faults]
throttle_every = 10
slow_receipts = 2

[smsc.handsets]
enabled = false
capacity = 10
per_handset = 5

[smsc.limits]
query_window = 1000
"""


def test_example_file(tmp_path: Path) -> None:
    path = tmp_path / "smsc.toml"
    path.write_text(EXAMPLE)
    cfg = load_config(path)
    assert (cfg.host, cfg.port, cfg.admin_port, cfg.seed) == ("127.0.0.1", 2800, 2801, 42)
    assert cfg.id_format is IdFormat.HEX
    assert cfg.accounts == (Account("acme", "secret"),)
    assert not cfg.accept_any
    assert cfg.rules.latency == LogNormalLatency(1.0, 0.5, 0.0, 30.0)
    assert cfg.rules.ratios == OutcomeRatios(0.9, 0.05, 0.03, 0.02)
    assert cfg.queue_per_system_id == 50
    assert cfg.faults == Faults(throttle_every=10, slow_receipts=2.0)
    assert (cfg.handsets, cfg.handset_capacity, cfg.per_handset) == (False, 10, 5)
    assert cfg.query_window == 1000
    rng = random.Random(0)
    fail = cfg.rules.decide("4915111", rng)
    assert fail.outcome == Outcome(Fate.UNDELIVERABLE, 1)
    assert fail.delay == 2.0
    assert cfg.rules.decide("4930123456", rng).submit_status == 0x0B
    # built-ins stay on unless turned off
    assert cfg.rules.decide("447700900002", rng).outcome.fate is Fate.UNDELIVERABLE


def test_top_level_keys_work_too() -> None:
    cfg = config_from_mapping({"port": 1234, "receipts": {"delivered": 0.8}})
    assert cfg.port == 1234
    assert cfg.rules.ratios == OutcomeRatios.with_delivered(0.8)


def test_builtin_rules_can_be_turned_off() -> None:
    cfg = config_from_mapping({"receipts": {"builtin_rules": False}})
    assert not any(r in BUILTIN_RULES for r in cfg.rules.rules)
    assert cfg.rules.match("447700900002") is None


def test_mapping_applies_over_a_base() -> None:
    base = SimulatorConfig(port=9999, rules=SimulatorConfig().rules)
    cfg = config_from_mapping({"receipts": {"latency": "3"}}, base)
    assert cfg.port == 9999
    assert cfg.rules.latency == FixedLatency(3.0)


@pytest.mark.parametrize(
    "data",
    [
        {"prot": 1},
        {"port": "2775"},
        {"port": 70000},
        {"receipts": {"delivered": 0.5, "rejected": 0.1}},
        {"receipts": {"latency": "weird:1"}},
        {"rules": [{"prefix": True}]},
        {"rules": [{"number": "1", "stat": "LOST"}]},
        {"rules": [{"number": "1", "colour": "red"}]},
        {"rules": {"number": "1"}},
        {"faults": {"black_hole": 1}},
        {"faults": {"explode": True}},
        {"faults": {"drop_probability": 3}},
        {"accounts": [{"system_id": "a"}]},
        {"accounts": [{"system_id": "a", "password": "x"}, {"system_id": "a", "password": "y"}]},
        {"handsets": {"per_handset": 0}},
        {"handsets": {"max_handsets": 3}},
        {"limits": {"query_window": 1}},
        {"tls_cert": "cert.pem"},
        {"receipts": "fast"},
    ],
)
def test_bad_configs_are_refused(data: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        config_from_mapping(data)


def test_unreadable_or_invalid_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("port = = 1")
    with pytest.raises(ConfigError):
        load_config(bad)


def test_account_password_is_not_in_repr() -> None:
    assert "secret" not in repr(Account("acme", "secret"))
