"""The ``marconi smsc`` command line, parsed without starting anything."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from marconi.cli.smsc import add_parser, build_config
from marconi.errors import ConfigError
from marconi.simulator import (
    Account,
    Faults,
    FixedLatency,
    IdFormat,
    LogNormalLatency,
    OutcomeRatios,
    SimulatorConfig,
)


def build_parser() -> argparse.ArgumentParser:
    # only this command: the full ``marconi`` parser imports every other command too
    parser = argparse.ArgumentParser(prog="marconi")
    add_parser(parser.add_subparsers())
    return parser


def config_for(*argv: str) -> SimulatorConfig:
    args = build_parser().parse_args(["smsc", *argv])
    return build_config(args)


def test_defaults_are_a_well_behaved_smsc_on_loopback() -> None:
    cfg = config_for()
    assert (cfg.host, cfg.port) == ("127.0.0.1", 2775)
    assert cfg.accept_any
    assert cfg.faults == Faults()
    assert cfg.rules.latency == FixedLatency(0.1)
    assert cfg.rules.ratios == OutcomeRatios()
    assert cfg.admin_port is None


def test_flags() -> None:
    cfg = config_for(
        "--host",
        "::1",
        "--port",
        "2800",
        "--system-id",
        "acme",
        "--password",
        "secret",
        "--id-format",
        "hex",
        "--dlr-latency",
        "lognormal:1,0.5,max=30",
        "--delivered-ratio",
        "0.9",
        "--fault",
        "throttle-every=10",
        "--fault",
        "slow-receipts=5",
        "--admin-port",
        "2801",
        "--seed",
        "3",
        "--no-handsets",
    )
    assert (cfg.host, cfg.port, cfg.admin_port, cfg.seed) == ("::1", 2800, 2801, 3)
    assert cfg.accounts == (Account("acme", "secret"),)
    assert cfg.id_format is IdFormat.HEX
    assert cfg.rules.latency == LogNormalLatency(1.0, 0.5, 0.0, 30.0)
    assert cfg.rules.ratios == OutcomeRatios.with_delivered(0.9)
    assert cfg.faults == Faults(throttle_every=10, slow_receipts=5.0)
    assert not cfg.handsets
    # the magic numbers stay on
    assert cfg.rules.match("447700900002") is not None


def test_flags_override_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "smsc.toml"
    path.write_text(
        'port = 3000\nid_format = "hex"\n[[accounts]]\nsystem_id = "a"\npassword = "b"\n'
        '[receipts]\nlatency = "2"\ndelivered = 0.5\nundeliverable = 0.5\n'
        "[faults]\nthrottle_every = 4\n"
    )
    cfg = config_for("--config", str(path), "--port", "3001", "--fault", "black-hole")
    assert cfg.port == 3001
    assert cfg.id_format is IdFormat.HEX
    assert cfg.accounts == (Account("a", "b"),)
    assert cfg.rules.latency == FixedLatency(2.0)
    assert cfg.faults == Faults(black_hole=True, throttle_every=4)
    assert config_for("--config", str(path), "--accept-any").accept_any


@pytest.mark.parametrize(
    "argv",
    [
        ("--fault", "explode"),
        ("--system-id", "acme"),
        ("--password", "secret"),
        ("--accept-any", "--system-id", "a", "--password", "b"),
        ("--dlr-latency", "weird:1"),
        ("--delivered-ratio", "1.5"),
        ("--tls-cert", "cert.pem"),
        ("--port", "70000"),
    ],
)
def test_contradictions_and_bad_values_are_config_errors(argv: tuple[str, ...]) -> None:
    with pytest.raises(ConfigError):
        config_for(*argv)


def test_help_is_accurate(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["smsc", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for flag in (
        "--port",
        "--host",
        "--system-id",
        "--password",
        "--accept-any",
        "--dlr-latency",
        "--delivered-ratio",
        "--id-format",
        "--tls-cert",
        "--tls-key",
        "--fault",
        "--config",
        "--admin-port",
        "--verbose",
    ):
        assert flag in out
    assert "447700900002  UNDELIV err:001" in out
    assert "447700900001  submit_sm refused with ESME_RINVDSTADR" in out
