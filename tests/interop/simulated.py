"""Marconi's SMSC simulator set up for the interop tests: loopback, a free port, fast receipts."""

from __future__ import annotations

from collections.abc import Mapping

from marconi.simulator.config import Account, SimulatorConfig
from marconi.simulator.latency import FixedLatency
from marconi.simulator.message_id import IdFormat
from marconi.simulator.rule import DeliveryRules
from marconi.simulator.smsc import Simulator

UNDELIVERABLE = "447700900002"  # built-in rule: receipt stat UNDELIV, err 001
REFUSED = "447700900001"  # built-in rule: submit_sm answered ESME_RINVDSTADR


def simulator(
    *,
    accounts: Mapping[str, str] | None = None,
    id_format: IdFormat = IdFormat.DECIMAL,
    latency: float = 0.05,
) -> Simulator:
    """A simulator on 127.0.0.1 and a free port; every message is delivered unless a built-in
    magic number says otherwise, with its receipt ``latency`` seconds later."""
    return Simulator(
        SimulatorConfig(
            host="127.0.0.1",
            port=0,
            accounts=tuple(Account(s, p) for s, p in (accounts or {}).items()),
            id_format=id_format,
            rules=DeliveryRules(latency=FixedLatency(latency)),
            seed=7,
        )
    )
