"""Carrier links behind one interface (:class:`Connector`): ``smpp`` and ``simulator``.

:func:`build_connector` turns a connector's configuration (from the TOML file or the API) into
a link; the dispatcher submits through it and hears receipts, MO and link state from it.
"""

from __future__ import annotations

from marconi.config import ConnectorConfig, SimulatorConnectorConfig, SmppConnectorConfig
from marconi.connectors.base import Connector, InboundHook, StateHook
from marconi.connectors.simulator import SimulatorConnector, simulator_config_for
from marconi.connectors.smpp import SmppConnector, client_for

__all__ = [
    "Connector",
    "InboundHook",
    "SimulatorConnector",
    "SmppConnector",
    "StateHook",
    "build_connector",
    "client_for",
    "simulator_config_for",
]


def build_connector(
    config: ConnectorConfig,
    *,
    on_deliver_sm: InboundHook | None = None,
    on_state: StateHook | None = None,
) -> SimulatorConnector | SmppConnector:
    if isinstance(config, SimulatorConnectorConfig):
        return SimulatorConnector(config, on_deliver_sm=on_deliver_sm, on_state=on_state)
    assert isinstance(config, SmppConnectorConfig)
    return SmppConnector.from_config(config, on_deliver_sm=on_deliver_sm, on_state=on_state)
