"""Settings: defaults ← TOML file ← environment ← flags, and clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from marconi.config import (
    BindType,
    RouteConfig,
    SimulatorConnectorConfig,
    SmppConnectorConfig,
    SqliteSynchronous,
    connector_from_mapping,
    load_settings,
    route_from_mapping,
)
from marconi.errors import ConfigError

SMPP = "[[connectors]]\ntype = 'smpp'\nname = 'x'\nhost = 'h'\nsystem_id = 'a'\n"

FULL = """
data_dir = "/srv/marconi"
host = "0.0.0.0"
port = 9000
allow_private_webhooks = false
public_base_url = "https://sms.example.com/"

[[connectors]]
name = "carrier"
type = "smpp"
host = "smsc.example.net"
port = 3550
tls = true
system_id = "acme"
password = "secret"
bind_type = "transmitter"
window = 32
throughput = 150
address_range = "^4477"

[[connectors]]
name = "sim"
type = "simulator"
receipt_delay = 0.5

[[routes]]
prefixes = ["+44"]
countries = ["gb"]
connectors = ["carrier", "sim"]

[[routes]]
connectors = ["sim"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "marconi.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_embedded_setup() -> None:
    settings = load_settings(environ={})
    assert settings.data_dir == Path("marconi-data")
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.database_url == "sqlite:///marconi-data/marconi.db"
    assert settings.is_sqlite
    assert settings.allow_private_webhooks is True
    assert settings.public_base_url is None
    assert settings.sqlite_synchronous is SqliteSynchronous.NORMAL
    assert settings.connectors == (SimulatorConnectorConfig(),)
    assert settings.routes == (RouteConfig(connectors=("simulator",)),)


def test_a_full_file(tmp_path: Path) -> None:
    settings = load_settings(config_file=write(tmp_path, FULL), environ={})
    assert settings.data_dir == Path("/srv/marconi")
    assert settings.database_url == "sqlite:////srv/marconi/marconi.db"
    assert (settings.host, settings.port) == ("0.0.0.0", 9000)
    assert settings.allow_private_webhooks is False
    assert settings.public_base_url == "https://sms.example.com"
    carrier, sim = settings.connectors
    assert carrier == SmppConnectorConfig(
        name="carrier",
        host="smsc.example.net",
        port=3550,
        tls=True,
        system_id="acme",
        password="secret",
        bind_type=BindType.TRANSMITTER,
        window=32,
        throughput=150.0,
        address_range="^4477",
    )
    assert "secret" not in repr(carrier)
    assert isinstance(sim, SimulatorConnectorConfig)
    assert sim.receipt_delay == 0.5
    assert settings.routes[0] == RouteConfig(
        connectors=("carrier", "sim"), prefixes=("+44",), countries=("GB",)
    )


def test_environment_beats_the_file_and_flags_beat_both(tmp_path: Path) -> None:
    path = write(tmp_path, 'port = 9000\nhost = "0.0.0.0"\n')
    env = {
        "MARCONI_CONFIG": str(path),
        "MARCONI_PORT": "9100",
        "MARCONI_DATABASE_URL": "postgresql://marconi@127.0.0.1/marconi",
        "MARCONI_ALLOW_PRIVATE_WEBHOOKS": "false",
        "MARCONI_SQLITE_SYNCHRONOUS": "FULL",
    }
    settings = load_settings(environ=env, overrides={"port": 9200, "host": None})
    assert settings.port == 9200
    assert settings.host == "0.0.0.0"  # a None flag leaves the file's value
    assert settings.database_url == "postgresql://marconi@127.0.0.1/marconi"
    assert not settings.is_sqlite
    assert settings.allow_private_webhooks is False
    assert settings.sqlite_synchronous is SqliteSynchronous.FULL
    assert settings.config_file == path


def test_data_dir_moves_the_default_database() -> None:
    settings = load_settings(environ={"MARCONI_DATA_DIR": "/tmp/elsewhere"})
    assert settings.database_url == "sqlite:////tmp/elsewhere/marconi.db"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("port = 0", "port must be between 1 and 65535"),
        ('port = "http"', "port must be a whole number"),
        ("allow_private_webhooks = 3", "allow_private_webhooks must be true or false"),
        ('database_url = "mysql://x"', "database_url must start with sqlite"),
        ('public_base_url = "sms.example.com"', "public_base_url must be an absolute"),
        ('colour = "blue"', "unknown setting 'colour'"),
        ("[[connectors]]\ntype = 'modem'\nname = 'x'", "connectors[0].type must be"),
        (
            "[[connectors]]\ntype = 'smpp'\nname = 'x'\nsystem_id = 'a'",
            "connectors[0].host is required",
        ),
        (
            SMPP + "window = 0",
            "connectors[0].window must be between 1",
        ),
        (
            SMPP + "bind_type = 'tx'",
            "bind_type must be transmitter, receiver or transceiver",
        ),
        (
            SMPP + "password = '123456789'",
            "longer than SMPP's 8 characters",
        ),
        (
            SMPP + "throughput = -1",
            "throughput must be a finite number",
        ),
        (
            SMPP + "secret = 'x'",
            "connectors[0] has unknown key 'secret'",
        ),
        ("[[connectors]]\ntype = 'simulator'\nhost = '10.0.0.1'", "must be a loopback address"),
        (
            "[[connectors]]\ntype = 'simulator'\n[[connectors]]\ntype = 'simulator'",
            "is used by another connector",
        ),
        ("[[routes]]\nconnectors = ['nowhere']", "names connector 'nowhere'"),
        ("[[routes]]\nconnectors = ['simulator']\nprefixes = ['44']", "is not like '+44'"),
        ("[[routes]]\nconnectors = []", "must name at least one connector"),
        ("connectors = []", "connectors is empty"),
        ("port = ", "is not valid TOML"),
    ],
)
def test_bad_files_say_what_to_fix(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("+", r"\+").replace("[", r"\[")):
        load_settings(config_file=write(tmp_path, text), environ={})


def test_bad_environment_and_flags(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="port must be a whole number"):
        load_settings(environ={"MARCONI_PORT": "eighty"})
    with pytest.raises(ConfigError, match="sqlite_synchronous must be"):
        load_settings(environ={"MARCONI_SQLITE_SYNCHRONOUS": "off"})
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_settings(environ={}, overrides={"colour": "blue"})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(config_file=tmp_path / "missing.toml", environ={})


def test_the_password_of_a_database_url_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"MARCONI_DATABASE_URL": "mysql://u:hunter2@db/x"})
    assert "hunter2" not in str(caught.value)


def test_single_connectors_and_routes_parse_from_json_objects() -> None:
    sim = connector_from_mapping({"type": "simulator", "name": "sim2", "window": 8})
    assert sim == SimulatorConnectorConfig(name="sim2", window=8)
    with pytest.raises(ConfigError, match="connector must be a table"):
        connector_from_mapping(["smpp"])
    with pytest.raises(ConfigError, match=r"api\.type must be 'smpp' or 'simulator'"):
        connector_from_mapping({"type": "http"}, where="api")
    route = route_from_mapping({"connectors": ["sim2"], "senders": "ACME"})
    assert route == RouteConfig(connectors=("sim2",), senders=("ACME",))
    with pytest.raises(ConfigError, match="route must be a table"):
        route_from_mapping("sim2")
    codes = route_from_mapping({"connectors": ["premium"], "min_priority": 10})
    assert codes == RouteConfig(connectors=("premium",), min_priority=10)
    with pytest.raises(ConfigError, match=r"route\.min_priority must be between 0 and 100"):
        route_from_mapping({"connectors": ["premium"], "min_priority": 101})
