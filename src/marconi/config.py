"""Settings, built once at start and passed down.

Sources, each overriding the one before: built-in defaults, a TOML file, ``MARCONI_*``
environment variables, then command-line flags. Nothing here runs at import time:
:func:`load_settings` is called by the command line (or a test) and its result travels as an
argument.

A TOML file looks like::

    data_dir = "/var/lib/marconi"
    host = "0.0.0.0"
    port = 8080
    database_url = "postgresql://marconi@db/marconi"
    allow_private_webhooks = false
    public_base_url = "https://sms.example.com"

    [[connectors]]
    name = "carrier-a"
    type = "smpp"
    host = "smsc.example.net"
    port = 2775
    tls = true
    system_id = "acme"
    password = "secret"
    bind_type = "transceiver"
    window = 32
    throughput = 100.0

    [[connectors]]
    name = "sim"
    type = "simulator"

    [[routes]]
    prefixes = ["+44"]
    connectors = ["carrier-a", "sim"]   # failover order

    [[routes]]
    connectors = ["sim"]                # no match fields: catch-all

With no ``[[connectors]]`` at all, the built-in simulator is the only connector and the default
route.
"""

from __future__ import annotations

import enum
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from marconi.errors import ConfigError

__all__ = [
    "DEFAULT_DATA_DIR",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "BindType",
    "ConnectorConfig",
    "RouteConfig",
    "Settings",
    "SimulatorConnectorConfig",
    "SmppConnectorConfig",
    "SqliteSynchronous",
    "connector_from_mapping",
    "load_settings",
    "route_from_mapping",
]

DEFAULT_DATA_DIR: Final = Path("marconi-data")
DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 8080
DEFAULT_SIMULATOR_NAME: Final = "simulator"
ENV_PREFIX: Final = "MARCONI_"


class BindType(enum.StrEnum):
    TRANSMITTER = "transmitter"
    RECEIVER = "receiver"
    TRANSCEIVER = "transceiver"


class SqliteSynchronous(enum.StrEnum):
    """How hard SQLite pushes each commit to disk (see docs/storage.md)."""

    NORMAL = (
        "normal"  # WAL + NORMAL: survives a process crash; a power cut may lose the last commits
    )
    FULL = "full"  # every commit is fsynced: survives power loss, costs throughput


@dataclass(frozen=True, slots=True, kw_only=True)
class SmppConnectorConfig:
    """An SMPP 3.4 link to a carrier's SMSC."""

    name: str
    host: str
    port: int = 2775
    tls: bool = False
    tls_verify: bool = True
    system_id: str
    password: str = field(default="", repr=False)
    system_type: str = ""
    bind_type: BindType = BindType.TRANSCEIVER
    window: int = 10
    throughput: float | None = None  # submit_sm per second; None: no limit of our own
    address_range: str = ""
    addr_ton: int = 0
    addr_npi: int = 0
    enquire_link_interval: float = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatorConnectorConfig:
    """The built-in SMSC, run in-process and bound over real SMPP on loopback."""

    name: str = DEFAULT_SIMULATOR_NAME
    host: str = "127.0.0.1"
    port: int = 0  # 0: an ephemeral port chosen at start
    system_id: str = "marconi"
    password: str = field(default="marconi", repr=False)
    window: int = 64
    throughput: float | None = None
    receipt_delay: float = 0.0  # seconds between submit_sm and its delivery receipt
    delivery_rate: float = 1.0  # share of messages that end delivered


ConnectorConfig = SmppConnectorConfig | SimulatorConnectorConfig


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteConfig:
    """A routing rule: messages that match go to ``connectors``, tried in order.

    Empty match fields match everything; several fields must all match.
    """

    connectors: tuple[str, ...]
    prefixes: tuple[str, ...] = ()  # E.164 destination prefixes, e.g. "+44"
    countries: tuple[str, ...] = ()  # ISO 3166 region codes of the destination, e.g. "GB"
    senders: tuple[str, ...] = ()  # exact sender addresses
    # Only messages of at least this priority (verification codes have 10): a route of its own
    # for the priority class, e.g. a premium link for codes. 0 matches every message.
    min_priority: int = 0
    name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    data_dir: Path = DEFAULT_DATA_DIR
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    database_url: str = ""  # filled by load_settings: a SQLite file in data_dir unless set
    allow_private_webhooks: bool = True
    public_base_url: str | None = None
    sqlite_synchronous: SqliteSynchronous = SqliteSynchronous.NORMAL
    rate_limit: float = 100.0  # API requests a second per key, on average; 0: no limit
    rate_burst: int = 200  # API requests a key may make at once
    connectors: tuple[ConnectorConfig, ...] = (SimulatorConnectorConfig(),)
    routes: tuple[RouteConfig, ...] = (RouteConfig(connectors=(DEFAULT_SIMULATOR_NAME,)),)
    config_file: Path | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


# Settings that may come from the file, the environment and flags, with their parsers.
_SCALARS: Final = (
    "data_dir",
    "host",
    "port",
    "database_url",
    "allow_private_webhooks",
    "public_base_url",
    "sqlite_synchronous",
    "rate_limit",
    "rate_burst",
)


def load_settings(
    *,
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, object] | None = None,
) -> Settings:
    """Build the settings: defaults ← TOML file ← ``MARCONI_*`` environment ← ``overrides`` (flags).

    The file is ``config_file`` if given, else ``MARCONI_CONFIG`` if set, else none. ``overrides``
    keys are setting names; ``None`` values are ignored so argparse defaults can pass straight in.
    """
    env = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    path: Path | None = None
    if config_file is None and env.get(ENV_PREFIX + "CONFIG"):
        config_file = env[ENV_PREFIX + "CONFIG"]
    if config_file is not None:
        path = Path(config_file)
        raw.update(_read_toml(path))
    for name in _SCALARS:
        value = env.get(ENV_PREFIX + name.upper())
        if value is not None and value != "":
            raw[name] = value
    for name, override in (overrides or {}).items():
        if override is None:
            continue
        if name not in _SCALARS:
            raise ConfigError(f"unknown setting {name!r}")
        raw[name] = override
    return _build(raw, path)


def _read_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as e:
        raise ConfigError(f"config file {path} cannot be read: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {path} is not valid TOML: {e}") from None


_KNOWN_TOP: Final = frozenset(_SCALARS) | {"connectors", "routes"}


def _build(raw: Mapping[str, object], path: Path | None) -> Settings:
    unknown = sorted(set(raw) - _KNOWN_TOP)
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]!r}; known: {', '.join(sorted(_KNOWN_TOP))}")
    data_dir = Path(_str(raw, "data_dir", str(DEFAULT_DATA_DIR), where="data_dir"))
    host = _str(raw, "host", DEFAULT_HOST, where="host")
    if not host:
        raise ConfigError("host must not be empty")
    port = _port(raw.get("port", DEFAULT_PORT), where="port")
    database_url = _str(raw, "database_url", "", where="database_url")
    if not database_url:
        database_url = f"sqlite:///{data_dir / 'marconi.db'}"
    _check_database_url(database_url)
    allow_private = _bool(raw.get("allow_private_webhooks", True), where="allow_private_webhooks")
    public_base_url: str | None = None
    if raw.get("public_base_url") is not None:
        public_base_url = _str(raw, "public_base_url", "", where="public_base_url").rstrip("/")
        parts = urlsplit(public_base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"public_base_url must be an absolute http(s) URL, got {public_base_url!r}"
            )
    sync_raw = _str(raw, "sqlite_synchronous", "normal", where="sqlite_synchronous").lower()
    try:
        synchronous = SqliteSynchronous(sync_raw)
    except ValueError:
        raise ConfigError(
            f"sqlite_synchronous must be 'normal' or 'full', got {sync_raw!r}"
        ) from None

    rate_limit = _float(raw.get("rate_limit", 100.0), where="rate_limit", low=0.0)
    rate_burst = _int(raw.get("rate_burst", 200), where="rate_burst", low=1, high=1_000_000)

    connectors: tuple[ConnectorConfig, ...]
    routes: tuple[RouteConfig, ...]
    if "connectors" in raw:
        connectors = _connectors(raw["connectors"])
    else:
        connectors = (SimulatorConnectorConfig(),)
    if "routes" in raw:
        routes = _routes(raw["routes"])
    else:
        routes = (RouteConfig(connectors=tuple(c.name for c in connectors)),)
    names = {c.name for c in connectors}
    for i, route in enumerate(routes):
        for name in route.connectors:
            if name not in names:
                raise ConfigError(
                    f"routes[{i}] names connector {name!r}, which is not configured "
                    f"(configured: {', '.join(sorted(names)) or 'none'})"
                )
    return Settings(
        data_dir=data_dir,
        host=host,
        port=port,
        database_url=database_url,
        allow_private_webhooks=allow_private,
        public_base_url=public_base_url,
        sqlite_synchronous=synchronous,
        rate_limit=rate_limit,
        rate_burst=rate_burst,
        connectors=connectors,
        routes=routes,
        config_file=path,
    )


def _check_database_url(url: str) -> None:
    scheme = url.split(":", 1)[0].lower()
    base = scheme.split("+", 1)[0]
    if "://" not in url or base not in ("sqlite", "postgresql", "postgres"):
        raise ConfigError(
            f"database_url must start with sqlite:/// or postgresql://, got {_redact_url(url)!r}"
        )


def _redact_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


def _connectors(value: object) -> tuple[ConnectorConfig, ...]:
    if not isinstance(value, list):
        raise ConfigError("connectors must be an array of tables ([[connectors]])")
    result: list[ConnectorConfig] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        where = f"connectors[{i}]"
        connector = connector_from_mapping(item, where=where)
        if connector.name in seen:
            raise ConfigError(f"{where}.name {connector.name!r} is used by another connector")
        seen.add(connector.name)
        result.append(connector)
    if not result:
        raise ConfigError("connectors is empty: configure at least one connector")
    return tuple(result)


def connector_from_mapping(item: object, *, where: str = "connector") -> ConnectorConfig:
    """One connector from a TOML table or a JSON object (the API stores connectors so)."""
    if not isinstance(item, Mapping):
        raise ConfigError(f"{where} must be a table")
    kind = item.get("type")
    if kind == "smpp":
        return _smpp(item, where)
    if kind == "simulator":
        return _simulator(item, where)
    raise ConfigError(f"{where}.type must be 'smpp' or 'simulator', got {kind!r}")


_SMPP_KEYS: Final = frozenset(
    {
        "type",
        "name",
        "host",
        "port",
        "tls",
        "tls_verify",
        "system_id",
        "password",
        "system_type",
        "bind_type",
        "window",
        "throughput",
        "address_range",
        "addr_ton",
        "addr_npi",
        "enquire_link_interval",
    }
)


def _smpp(item: Mapping[str, object], where: str) -> SmppConnectorConfig:
    _no_unknown(item, _SMPP_KEYS, where)
    name = _required_str(item, "name", where)
    host = _required_str(item, "host", where)
    system_id = _required_str(item, "system_id", where)
    if len(system_id) > 15:
        raise ConfigError(f"{where}.system_id is longer than SMPP's 15 characters")
    password = _str(item, "password", "", where=f"{where}.password")
    if len(password) > 8:
        raise ConfigError(f"{where}.password is longer than SMPP's 8 characters")
    bind_raw = _str(item, "bind_type", "transceiver", where=f"{where}.bind_type").lower()
    try:
        bind_type = BindType(bind_raw)
    except ValueError:
        raise ConfigError(
            f"{where}.bind_type must be transmitter, receiver or transceiver, got {bind_raw!r}"
        ) from None
    return SmppConnectorConfig(
        name=name,
        host=host,
        port=_port(item.get("port", 2775), where=f"{where}.port"),
        tls=_bool(item.get("tls", False), where=f"{where}.tls"),
        tls_verify=_bool(item.get("tls_verify", True), where=f"{where}.tls_verify"),
        system_id=system_id,
        password=password,
        system_type=_str(item, "system_type", "", where=f"{where}.system_type"),
        bind_type=bind_type,
        window=_int(item.get("window", 10), where=f"{where}.window", low=1, high=65535),
        throughput=_optional_rate(item.get("throughput"), where=f"{where}.throughput"),
        address_range=_str(item, "address_range", "", where=f"{where}.address_range"),
        addr_ton=_int(item.get("addr_ton", 0), where=f"{where}.addr_ton", low=0, high=255),
        addr_npi=_int(item.get("addr_npi", 0), where=f"{where}.addr_npi", low=0, high=255),
        enquire_link_interval=_float(
            item.get("enquire_link_interval", 30.0), where=f"{where}.enquire_link_interval", low=1.0
        ),
    )


_SIMULATOR_KEYS: Final = frozenset(
    {
        "type",
        "name",
        "host",
        "port",
        "system_id",
        "password",
        "window",
        "throughput",
        "receipt_delay",
        "delivery_rate",
    }
)


def _simulator(item: Mapping[str, object], where: str) -> SimulatorConnectorConfig:
    _no_unknown(item, _SIMULATOR_KEYS, where)
    host = _str(item, "host", "127.0.0.1", where=f"{where}.host")
    if host not in ("127.0.0.1", "::1", "localhost"):
        raise ConfigError(f"{where}.host must be a loopback address, got {host!r}")
    rate = _float(item.get("delivery_rate", 1.0), where=f"{where}.delivery_rate", low=0.0)
    if rate > 1.0:
        raise ConfigError(f"{where}.delivery_rate must be between 0 and 1, got {rate}")
    port = _int(item.get("port", 0), where=f"{where}.port", low=0, high=65535)
    return SimulatorConnectorConfig(
        name=_str(item, "name", DEFAULT_SIMULATOR_NAME, where=f"{where}.name"),
        host=host,
        port=port,
        system_id=_str(item, "system_id", "marconi", where=f"{where}.system_id"),
        password=_str(item, "password", "marconi", where=f"{where}.password"),
        window=_int(item.get("window", 64), where=f"{where}.window", low=1, high=65535),
        throughput=_optional_rate(item.get("throughput"), where=f"{where}.throughput"),
        receipt_delay=_float(item.get("receipt_delay", 0.0), where=f"{where}.receipt_delay", low=0),
        delivery_rate=rate,
    )


_ROUTE_KEYS: Final = frozenset(
    {"name", "connectors", "prefixes", "countries", "senders", "min_priority"}
)


def _routes(value: object) -> tuple[RouteConfig, ...]:
    if not isinstance(value, list):
        raise ConfigError("routes must be an array of tables ([[routes]])")
    return tuple(route_from_mapping(item, where=f"routes[{i}]") for i, item in enumerate(value))


def route_from_mapping(item: object, *, where: str = "route") -> RouteConfig:
    """One route from a TOML table or a JSON object."""
    if not isinstance(item, Mapping):
        raise ConfigError(f"{where} must be a table")
    _no_unknown(item, _ROUTE_KEYS, where)
    connectors = _str_list(item.get("connectors"), where=f"{where}.connectors")
    if not connectors:
        raise ConfigError(f"{where}.connectors must name at least one connector")
    prefixes = _str_list(item.get("prefixes", []), where=f"{where}.prefixes")
    for prefix in prefixes:
        if not (prefix.startswith("+") and prefix[1:].isdigit()):
            raise ConfigError(f"{where}.prefixes: {prefix!r} is not like '+44'")
    countries = _str_list(item.get("countries", []), where=f"{where}.countries")
    for country in countries:
        if not (len(country) == 2 and country.isalpha()):
            raise ConfigError(f"{where}.countries: {country!r} is not a two-letter region code")
    return RouteConfig(
        name=_str(item, "name", "", where=f"{where}.name"),
        connectors=connectors,
        prefixes=prefixes,
        countries=tuple(c.upper() for c in countries),
        senders=_str_list(item.get("senders", []), where=f"{where}.senders"),
        min_priority=_int(
            item.get("min_priority", 0), where=f"{where}.min_priority", low=0, high=100
        ),
    )


def _no_unknown(item: Mapping[str, object], known: frozenset[str], where: str) -> None:
    unknown = sorted(set(item) - known)
    if unknown:
        raise ConfigError(
            f"{where} has unknown key {unknown[0]!r}; known: {', '.join(sorted(known))}"
        )


def _str(raw: Mapping[str, object], key: str, default: str, *, where: str) -> str:
    value = raw.get(key, default)
    if isinstance(value, Path):
        return str(value)
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be a string, got {value!r}")
    return value


def _required_str(item: Mapping[str, object], key: str, where: str) -> str:
    if key not in item:
        raise ConfigError(f"{where}.{key} is required")
    value = _str(item, key, "", where=f"{where}.{key}")
    if not value:
        raise ConfigError(f"{where}.{key} must not be empty")
    return value


def _str_list(value: object, *, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings, got {value!r}")
    return tuple(str(v) for v in value)


def _bool(value: object, *, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
    raise ConfigError(f"{where} must be true or false, got {value!r}")


def _int(value: object, *, where: str, low: int, high: int) -> int:
    number: int
    if isinstance(value, bool):
        raise ConfigError(f"{where} must be a whole number, got {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        number = int(value)
    else:
        raise ConfigError(f"{where} must be a whole number, got {value!r}")
    if not low <= number <= high:
        raise ConfigError(f"{where} must be between {low} and {high}, got {number}")
    return number


def _port(value: object, *, where: str) -> int:
    return _int(value, where=where, low=1, high=65535)


def _float(value: object, *, where: str, low: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(f"{where} must be a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{where} must be a number, got {value!r}") from None
    if not number >= low or number != number or number == float("inf"):
        raise ConfigError(f"{where} must be a finite number ≥ {low}, got {value!r}")
    return number


def _optional_rate(value: object, *, where: str) -> float | None:
    if value is None:
        return None
    rate = _float(value, where=where, low=0.0)
    if rate <= 0:
        raise ConfigError(f"{where} must be a positive number of messages per second")
    return rate
