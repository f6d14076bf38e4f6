"""The built-in SMSC simulator: a carrier you can run on a laptop.

* :class:`Simulator` serves SMPP 3.4 (on :class:`~marconi.transport.SmppServer`): binds, submits,
  receipts by rule, query/cancel/replace, MO injection, virtual handsets, fault modes.
* :class:`SimulatorConfig` configures it (keywords, or a TOML file via :func:`load_config`).
* The pure parts it is made of: delivery rules and magic numbers (:mod:`.rule`), latency
  distributions (:mod:`.latency`), fault modes (:mod:`.fault`), the bounded message book
  (:mod:`.record`), virtual handsets (:mod:`.handset`), the receipt format (:mod:`.receipt`),
  the timer wheel (:mod:`.wheel`) and the admin line protocol (:mod:`.admin`).

See docs/simulator.md.
"""

from __future__ import annotations

from marconi.simulator.config import Account, SimulatorConfig, config_from_mapping, load_config
from marconi.simulator.fault import FaultAction, FaultInjector, Faults, parse_fault
from marconi.simulator.handset import Direction, HandsetBook, HandsetMessage
from marconi.simulator.latency import (
    FixedLatency,
    Latency,
    LogNormalLatency,
    NormalLatency,
    UniformLatency,
    parse_latency,
)
from marconi.simulator.message_id import IdFormat, MessageIdFactory
from marconi.simulator.record import MessageBook, MessageRecord
from marconi.simulator.rule import (
    BUILTIN_RULES,
    DeliveryRules,
    DestinationRule,
    Fate,
    Outcome,
    OutcomeRatios,
)
from marconi.simulator.smsc import Simulator

__all__ = [
    "BUILTIN_RULES",
    "Account",
    "DeliveryRules",
    "DestinationRule",
    "Direction",
    "Fate",
    "FaultAction",
    "FaultInjector",
    "Faults",
    "FixedLatency",
    "HandsetBook",
    "HandsetMessage",
    "IdFormat",
    "Latency",
    "LogNormalLatency",
    "MessageBook",
    "MessageIdFactory",
    "MessageRecord",
    "NormalLatency",
    "Outcome",
    "OutcomeRatios",
    "Simulator",
    "SimulatorConfig",
    "UniformLatency",
    "config_from_mapping",
    "load_config",
    "parse_fault",
    "parse_latency",
]
