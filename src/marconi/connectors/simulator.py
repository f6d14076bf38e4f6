"""The built-in SMSC as a connector: a :class:`~marconi.simulator.Simulator` listening on a
loopback port in this process, and an :class:`SmppConnector` bound to it over real SMPP.

Nothing is short-circuited: every message is encoded, submitted, answered and receipted over TCP,
exactly as with a carrier, so what works against the simulator works against an SMSC.
"""

from __future__ import annotations

from collections.abc import Sequence

from marconi.config import SimulatorConnectorConfig, SmppConnectorConfig
from marconi.connectors.base import InboundHook, StateHook
from marconi.connectors.smpp import SmppConnector
from marconi.errors import MarconiError, TransportError
from marconi.simulator import (
    Account,
    DeliveryRules,
    FixedLatency,
    OutcomeRatios,
    Simulator,
    SimulatorConfig,
)
from marconi.smpp import SubmitSm, SubmitSmResp

__all__ = ["SimulatorConnector", "simulator_config_for"]


def simulator_config_for(config: SimulatorConnectorConfig) -> SimulatorConfig:
    delivered = config.delivery_rate
    return SimulatorConfig(
        host=config.host,
        port=config.port,
        accounts=(Account(config.system_id, config.password),),
        rules=DeliveryRules(
            latency=FixedLatency(config.receipt_delay),
            ratios=OutcomeRatios(delivered=delivered, undeliverable=1.0 - delivered),
        ),
    )


class SimulatorConnector:
    """The simulator and the ESME bound to it; ``simulator`` is there to inject MO, faults."""

    def __init__(
        self,
        config: SimulatorConnectorConfig,
        *,
        on_deliver_sm: InboundHook | None = None,
        on_state: StateHook | None = None,
        simulator: Simulator | None = None,
    ) -> None:
        self._config = config
        self.simulator = (
            simulator if simulator is not None else Simulator(simulator_config_for(config))
        )
        self._on_deliver = on_deliver_sm
        self._on_state = on_state
        self._link: SmppConnector | None = None

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def up(self) -> bool:
        return self._link is not None and self._link.up

    @property
    def window(self) -> int:
        return self._config.window

    @property
    def last_error(self) -> str | None:
        return None if self._link is None else self._link.last_error

    @property
    def link(self) -> SmppConnector | None:
        return self._link

    async def start(self) -> None:
        await self.simulator.start()
        cfg = self._config
        self._link = SmppConnector.from_config(
            SmppConnectorConfig(
                name=cfg.name,
                host=cfg.host,
                port=self.simulator.port,
                system_id=cfg.system_id,
                password=cfg.password,
                window=cfg.window,
                throughput=cfg.throughput,
                enquire_link_interval=30.0,
            ),
            on_deliver_sm=self._on_deliver,
            on_state=self._on_state,
        )
        await self._link.start()

    async def wait_up(self) -> None:
        """Wait until the ESME is bound to the simulator (bound it with ``asyncio.timeout``)."""
        assert self._link is not None, "start() first"
        await self._link.client.wait_bound()

    async def submit_many(self, pdus: Sequence[SubmitSm]) -> list[SubmitSmResp | MarconiError]:
        if self._link is None:
            return [TransportError("the simulator is not started") for _ in pdus]
        return await self._link.submit_many(pdus)

    async def aclose(self) -> None:
        if self._link is not None:
            await self._link.aclose()
        await self.simulator.aclose()
