from __future__ import annotations

import asyncio

from tests.unit.transport.conftest import FAST_BACKOFF, eventually

from marconi.smpp import (
    BindTransceiver,
    BindTransceiverResp,
    EnquireLink,
    Pdu,
    Role,
    SmppConnection,
)
from marconi.transport.client import SmppClient
from marconi.transport.memory import MemoryConnector, MemoryStream


class RawSmsc:
    """The SMSC end driven by hand: binds whoever asks, then answers only while ``alive``."""

    def __init__(self, stream: MemoryStream) -> None:
        self.stream = stream
        self.conn = SmppConnection(role=Role.SMSC, enquire_link_interval=None)
        self.received: list[Pdu] = []
        self.alive = True
        self.task = asyncio.create_task(self.run())

    async def run(self) -> None:
        while data := await self.stream.read():
            if not self.alive:
                continue  # a hung peer: reads, never answers
            self.conn.receive_data(data)
            for event in self.conn.events():
                if isinstance(event, Pdu):
                    self.received.append(event)
                if isinstance(event, BindTransceiver):
                    resp = BindTransceiverResp(sequence_number=event.sequence_number)
                    self.stream.write(self.conn.send(resp))
            if out := self.conn.data_to_send():
                self.stream.write(out)


def keepalive_client(network: MemoryConnector) -> SmppClient:
    return SmppClient(
        host="smsc.test",
        port=2775,
        system_id="acme",
        password="secret",
        enquire_link_interval=0.03,
        response_timeout=0.1,
        backoff=FAST_BACKOFF,
        connector=network,
        reconnect=False,
    )


async def test_idle_link_sends_enquire_link_and_stays_bound() -> None:
    network = MemoryConnector()
    client = keepalive_client(network)
    connecting = asyncio.create_task(client.connect())
    smsc = RawSmsc(await network.accepted.get())
    await connecting
    await asyncio.sleep(0.25)
    probes = [p for p in smsc.received if isinstance(p, EnquireLink)]
    assert len(probes) >= 3
    assert client.bound
    await client.aclose()
    await asyncio.wait_for(smsc.task, 1)


async def test_unanswered_enquire_link_drops_the_link() -> None:
    network = MemoryConnector()
    down: list[SmppClient] = []
    client = keepalive_client(network)
    client.on_unbound = down.append
    connecting = asyncio.create_task(client.connect())
    smsc = RawSmsc(await network.accepted.get())
    await connecting
    smsc.alive = False
    await eventually(lambda: down == [client], within=1.0)
    assert not client.bound
    await client.aclose()
    await asyncio.wait_for(smsc.task, 1)
