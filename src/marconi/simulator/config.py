"""The simulator's configuration: one frozen value, from keywords or from a TOML file.

A TOML file (``marconi smsc --config smsc.toml``) may hold these keys at its top level or under an
``[smsc]`` table; every key is optional::

    host = "127.0.0.1"
    port = 2775
    id_format = "hex"            # or "dec"
    admin_port = 2776            # the admin line protocol (MO injection, faults, handsets)
    admin_host = "127.0.0.1"     # it has no authentication: keep it on loopback
    seed = 42                    # reproducible draws
    tls_cert = "cert.pem"
    tls_key = "key.pem"

    [[accounts]]                 # none listed: any system_id/password is accepted
    system_id = "acme"
    password = "secret"

    [receipts]
    latency = "lognormal:1,0.5,max=30"
    delivered = 0.90             # the four ratios must sum to 1
    undeliverable = 0.05
    expired = 0.03
    rejected = 0.02
    builtin_rules = true         # the +44 7700 900xxx magic numbers of docs/simulator.md
    queue_per_system_id = 10000  # receipts kept while no receiver of that system_id is bound

    [[rules]]                    # later rules win over earlier ones and over the built-ins
    number = "4915"              # with prefix = true: every number starting 4915
    prefix = true
    stat = "UNDELIV"
    err = 1
    latency = "fixed:2"

    [[rules]]
    number = "4930123456"
    submit_status = 0x0B         # refuse the submit_sm itself

    [faults]                     # the fault modes of marconi.simulator.fault, by field name
    throttle_every = 10

    [handsets]
    enabled = true
    capacity = 10000             # messages (and parts) kept across all handsets
    per_handset = 50             # shown per handset, the most recent

    [limits]
    query_window = 100000        # recent messages query_sm / cancel_sm can find (at least half)
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Final

from marconi.errors import ConfigError
from marconi.simulator.fault import Faults
from marconi.simulator.latency import parse_latency
from marconi.simulator.message_id import IdFormat
from marconi.simulator.rule import (
    BUILTIN_RULES,
    DeliveryRules,
    DestinationRule,
    Fate,
    Outcome,
    OutcomeRatios,
)

__all__ = ["Account", "SimulatorConfig", "config_from_mapping", "load_config"]

DEFAULT_PORT: Final = 2775


@dataclass(frozen=True, slots=True)
class Account:
    system_id: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatorConfig:
    """Everything a :class:`~marconi.simulator.Simulator` needs; the defaults are well-behaved.

    ``accounts`` empty means any system_id and password bind. Receipts for a system_id with no
    receiver or transceiver bound wait in a queue of ``queue_per_system_id`` (oldest dropped first)
    and go out when one binds.
    """

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    accounts: tuple[Account, ...] = ()
    id_format: IdFormat = IdFormat.DECIMAL
    id_start: int | None = None
    rules: DeliveryRules = field(default_factory=DeliveryRules)
    faults: Faults = field(default_factory=Faults)
    queue_per_system_id: int = 10_000
    query_window: int = 100_000
    handsets: bool = True
    handset_capacity: int = 10_000
    per_handset: int = 50
    admin_port: int | None = None
    admin_host: str = "127.0.0.1"  # the admin protocol has no authentication
    tls_cert: Path | None = None
    tls_key: Path | None = None
    seed: int | None = None
    window: int = 512  # outstanding deliver_sm per session before receipts wait

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port {self.port} is out of range")
        if self.admin_port is not None and not 0 <= self.admin_port <= 65535:
            raise ConfigError(f"admin port {self.admin_port} is out of range")
        for name in ("queue_per_system_id", "handset_capacity", "per_handset"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1")
        if self.query_window < 2:
            raise ConfigError("query_window must be at least 2")
        if self.window < 1:
            raise ConfigError("window must be at least 1")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ConfigError("TLS needs both a certificate and a key")
        if len({a.system_id for a in self.accounts}) != len(self.accounts):
            raise ConfigError("a system_id is listed twice in accounts")

    @property
    def accept_any(self) -> bool:
        return not self.accounts


def _table(data: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"[{key}] must be a table")
    return value


def _tables(data: Mapping[str, object], key: str) -> list[Mapping[str, object]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise ConfigError(f"[[{key}]] must be an array of tables")
    return list(value)


def _check_keys(table: Mapping[str, object], allowed: set[str], where: str) -> None:
    unknown = set(table) - allowed
    if unknown:
        raise ConfigError(f"unknown key(s) in {where}: {', '.join(sorted(unknown))}")


def _int(table: Mapping[str, object], key: str, where: str) -> int:
    value = table[key]
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConfigError(f"{where}.{key} must be an integer, got {value!r}")
    return value


def _float(table: Mapping[str, object], key: str, where: str) -> float:
    value = table[key]
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ConfigError(f"{where}.{key} must be a number, got {value!r}")
    return float(value)


def _bool(table: Mapping[str, object], key: str, where: str) -> bool:
    value = table[key]
    if not isinstance(value, bool):
        raise ConfigError(f"{where}.{key} must be true or false, got {value!r}")
    return value


def _str(table: Mapping[str, object], key: str, where: str) -> str:
    value = table[key]
    if not isinstance(value, str):
        raise ConfigError(f"{where}.{key} must be a string, got {value!r}")
    return value


def _rule(table: Mapping[str, object], index: int) -> DestinationRule:
    where = f"rules[{index}]"
    allowed = {"number", "prefix", "stat", "err", "submit_status", "latency", "receipt"}
    allowed.add("description")
    _check_keys(table, allowed, where)
    if "number" not in table:
        raise ConfigError(f"{where} needs a number")
    number = str(table["number"])
    prefix = _bool(table, "prefix", where) if "prefix" in table else False
    stat = Fate.parse(_str(table, "stat", where)) if "stat" in table else Fate.DELIVERED
    err = _int(table, "err", where) if "err" in table else 0
    submit_status = _int(table, "submit_status", where) if "submit_status" in table else None
    latency = parse_latency(str(table["latency"])) if "latency" in table else None
    receipt = _bool(table, "receipt", where) if "receipt" in table else True
    return DestinationRule(
        number,
        prefix=prefix,
        outcome=Outcome(stat, err),
        submit_status=submit_status,
        latency=latency,
        receipt=receipt,
        description=str(table.get("description", "")),
    )


def config_from_mapping(
    data: Mapping[str, object], base: SimulatorConfig | None = None
) -> SimulatorConfig:
    """Build a config from parsed TOML (top level, or its ``[smsc]`` table) over ``base``."""
    if "smsc" in data:
        data = _table(data, "smsc")
    top = {
        "host",
        "admin_host",
        "port",
        "id_format",
        "admin_port",
        "seed",
        "tls_cert",
        "tls_key",
        "accounts",
        "receipts",
        "rules",
        "faults",
        "handsets",
        "limits",
    }
    _check_keys(data, top, "the simulator config")
    cfg = base if base is not None else SimulatorConfig()
    changes: dict[str, object] = {}
    for key in ("host", "admin_host"):
        if key in data:
            changes[key] = _str(data, key, "smsc")
    for key in ("port", "admin_port", "seed"):
        if key in data:
            changes[key] = _int(data, key, "smsc")
    if "id_format" in data:
        changes["id_format"] = IdFormat.parse(str(data["id_format"]))
    for key in ("tls_cert", "tls_key"):
        if key in data:
            changes[key] = Path(_str(data, key, "smsc"))
    if "accounts" in data:
        accounts = []
        for i, table in enumerate(_tables(data, "accounts")):
            _check_keys(table, {"system_id", "password"}, f"accounts[{i}]")
            if "system_id" not in table or "password" not in table:
                raise ConfigError(f"accounts[{i}] needs a system_id and a password")
            accounts.append(Account(str(table["system_id"]), str(table["password"])))
        changes["accounts"] = tuple(accounts)

    rules = cfg.rules
    receipts = _table(data, "receipts")
    _check_keys(
        receipts,
        {
            "latency",
            "delivered",
            "undeliverable",
            "expired",
            "rejected",
            "builtin_rules",
            "queue_per_system_id",
        },
        "[receipts]",
    )
    latency = parse_latency(str(receipts["latency"])) if "latency" in receipts else rules.latency
    ratios = rules.ratios
    ratio_keys = ("delivered", "undeliverable", "expired", "rejected")
    if any(k in receipts for k in ratio_keys):
        values = {k: _float(receipts, k, "receipts") for k in ratio_keys if k in receipts}
        if set(values) == {"delivered"}:
            ratios = OutcomeRatios.with_delivered(values["delivered"])
        else:
            ratios = OutcomeRatios(**{k: values.get(k, 0.0) for k in ratio_keys})
    base_rules = rules.rules
    if "builtin_rules" in receipts:
        builtin = _bool(receipts, "builtin_rules", "receipts")
        user = tuple(r for r in rules.rules if r not in BUILTIN_RULES)
        base_rules = (*BUILTIN_RULES, *user) if builtin else user
    extra = tuple(_rule(t, i) for i, t in enumerate(_tables(data, "rules")))
    changes["rules"] = DeliveryRules(latency=latency, ratios=ratios, rules=(*base_rules, *extra))
    if "queue_per_system_id" in receipts:
        changes["queue_per_system_id"] = _int(receipts, "queue_per_system_id", "receipts")

    faults = _table(data, "faults")
    if faults:
        changes["faults"] = _faults(faults)

    handsets = _table(data, "handsets")
    _check_keys(handsets, {"enabled", "capacity", "per_handset"}, "[handsets]")
    if "enabled" in handsets:
        changes["handsets"] = _bool(handsets, "enabled", "handsets")
    if "capacity" in handsets:
        changes["handset_capacity"] = _int(handsets, "capacity", "handsets")
    if "per_handset" in handsets:
        changes["per_handset"] = _int(handsets, "per_handset", "handsets")

    limits = _table(data, "limits")
    _check_keys(limits, {"query_window"}, "[limits]")
    if "query_window" in limits:
        changes["query_window"] = _int(limits, "query_window", "limits")

    return _replace(cfg, changes)


def _faults(table: Mapping[str, object]) -> Faults:
    names = {f.name for f in fields(Faults)}
    _check_keys(table, names, "[faults]")
    where = "faults"
    changes: dict[str, object] = {}
    for key in table:
        if key == "black_hole":
            changes[key] = _bool(table, key, where)
        elif key in ("throttle_rate", "drop_probability", "slow_receipts"):
            changes[key] = _float(table, key, where)
        else:
            changes[key] = _int(table, key, where)
    return dataclasses.replace(Faults(), **changes)  # type: ignore[arg-type]


def _replace(cfg: SimulatorConfig, changes: Mapping[str, object]) -> SimulatorConfig:
    try:
        return dataclasses.replace(cfg, **changes)  # type: ignore[arg-type]
    except TypeError as exc:
        raise ConfigError(f"bad simulator config: {exc}") from None


def load_config(path: Path, base: SimulatorConfig | None = None) -> SimulatorConfig:
    """Read a TOML file (see the module docstring) over ``base``."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return config_from_mapping(data, base)
