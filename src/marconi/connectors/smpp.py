"""An SMPP 3.4 link to a carrier's SMSC: one :class:`~marconi.transport.SmppClient`, kept bound."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from marconi.config import BindType as ConfigBindType
from marconi.config import SmppConnectorConfig
from marconi.connectors.base import InboundHook, StateHook
from marconi.errors import MarconiError
from marconi.smpp import CommandStatus, DeliverSm, SubmitSm, SubmitSmResp
from marconi.transport import BindType, SmppClient, client_ssl_context
from marconi.transport.stream import Connector as StreamConnector

__all__ = ["SmppConnector", "client_for"]

_BIND_TYPES = {
    ConfigBindType.TRANSMITTER: BindType.TRANSMITTER,
    ConfigBindType.RECEIVER: BindType.RECEIVER,
    ConfigBindType.TRANSCEIVER: BindType.TRANSCEIVER,
}


class SmppConnector:
    """A configured SMPP link. Call :meth:`start`; ``up`` follows the bind."""

    def __init__(
        self,
        *,
        name: str,
        client: SmppClient,
        on_deliver_sm: InboundHook | None = None,
        on_state: StateHook | None = None,
    ) -> None:
        self._name = name
        self._client = client
        self._on_deliver = on_deliver_sm
        self._on_state = on_state
        client.on_deliver_sm = self._deliver
        client.on_bound = self._bound
        client.on_unbound = self._unbound

    @classmethod
    def from_config(
        cls,
        config: SmppConnectorConfig,
        *,
        on_deliver_sm: InboundHook | None = None,
        on_state: StateHook | None = None,
        stream_connector: StreamConnector | None = None,
    ) -> SmppConnector:
        return cls(
            name=config.name,
            client=client_for(config, stream_connector=stream_connector),
            on_deliver_sm=on_deliver_sm,
            on_state=on_state,
        )

    @property
    def name(self) -> str:
        return self._name

    @property
    def client(self) -> SmppClient:
        return self._client

    @property
    def up(self) -> bool:
        return self._client.bound

    @property
    def window(self) -> int:
        return self._client.window

    @property
    def last_error(self) -> str | None:
        error = self._client.last_error
        return None if error is None else str(error)

    async def start(self) -> None:
        self._client.start()

    async def submit_many(self, pdus: Sequence[SubmitSm]) -> list[SubmitSmResp | MarconiError]:
        return await self._client.submit_many(pdus)

    async def aclose(self) -> None:
        await self._client.aclose()

    def _deliver(self, pdu: DeliverSm) -> int | asyncio.Future[int]:
        hook = self._on_deliver
        if hook is None:
            return CommandStatus.ESME_ROK
        result = hook(self._name, pdu)
        if isinstance(result, int | asyncio.Future):
            return result
        return asyncio.ensure_future(result)

    def _bound(self, _client: SmppClient) -> None:
        if self._on_state is not None:
            self._on_state(self._name, True)

    def _unbound(self, _client: SmppClient) -> None:
        if self._on_state is not None:
            self._on_state(self._name, False)


def client_for(
    config: SmppConnectorConfig, *, stream_connector: StreamConnector | None = None
) -> SmppClient:
    ssl = client_ssl_context(verify=config.tls_verify) if config.tls else None
    return SmppClient(
        host=config.host,
        port=config.port,
        system_id=config.system_id,
        password=config.password,
        system_type=config.system_type,
        bind_type=_BIND_TYPES[config.bind_type],
        addr_ton=config.addr_ton,
        addr_npi=config.addr_npi,
        address_range=config.address_range,
        window=config.window,
        throughput=config.throughput,
        ssl=ssl,
        enquire_link_interval=config.enquire_link_interval,
        connector=stream_connector,
        name=config.name,
    )
