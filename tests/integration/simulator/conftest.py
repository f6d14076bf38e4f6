"""Helpers for driving the simulator over loopback TCP: our client, and a raw socket peer."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Final

import pytest

from marconi.simulator import Simulator, SimulatorConfig
from marconi.simulator.latency import FixedLatency
from marconi.simulator.rule import DeliveryRules
from marconi.smpp import (
    BindTransceiver,
    CommandStatus,
    Decoder,
    DeliverSm,
    Pdu,
    Request,
    Response,
    encode,
    response_to,
)
from marconi.transport import Backoff, BindType, SmppClient

FAST_RULES: Final = DeliveryRules(latency=FixedLatency(0.01))


def config(**kw: object) -> SimulatorConfig:
    """A simulator on an ephemeral loopback port, seeded, with quick receipts."""
    values: dict[str, object] = {"port": 0, "seed": 7, "rules": FAST_RULES}
    values.update(kw)
    return SimulatorConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
async def smsc() -> AsyncIterator[Simulator]:
    async with Simulator(config()) as sim:
        yield sim


class Inbox:
    """What a client received as deliver_sm, with a way to wait for it."""

    def __init__(self) -> None:
        self.pdus: list[DeliverSm] = []
        self._changed = asyncio.Event()
        self.status = 0

    async def __call__(self, pdu: DeliverSm) -> int:
        self.pdus.append(pdu)
        self._changed.set()
        return self.status

    async def wait_for(self, count: int, within: float = 5.0) -> list[DeliverSm]:
        async with asyncio.timeout(within):
            while len(self.pdus) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.pdus


def client(
    sim: Simulator,
    inbox: Callable[[DeliverSm], Awaitable[int]] | None = None,
    *,
    system_id: str = "acme",
    password: str = "secret",
    bind_type: BindType = BindType.TRANSCEIVER,
    **kw: object,
) -> SmppClient:
    return SmppClient(
        host="127.0.0.1",
        port=sim.port,
        system_id=system_id,
        password=password,
        bind_type=bind_type,
        on_deliver_sm=inbox,
        reconnect=False,
        backoff=Backoff(initial=0.01, maximum=0.05, jitter=0.0),
        response_timeout=5.0,
        unbind_timeout=0.5,
        **kw,  # type: ignore[arg-type]
    )


async def eventually(check: Callable[[], bool], within: float = 5.0) -> None:
    """Poll ``check`` until it holds; the simulator's counters have no event to wait on."""
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


_HEADER: Final = struct.Struct(">IIII")


class RawPeer:
    """A bare TCP peer: writes PDUs with chosen sequence numbers, reads whatever comes back."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.decoder = Decoder()
        self.auto_answer = True

    @classmethod
    async def connect(cls, port: int) -> RawPeer:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    def send(self, pdu: Pdu, sequence_number: int) -> None:
        self.writer.write(encode(pdu, sequence_number))

    async def read(self, within: float = 2.0) -> Pdu | None:
        """The next PDU, or ``None`` at end of stream; TimeoutError when nothing comes."""
        async with asyncio.timeout(within):
            while True:
                pdu = self.decoder.next_pdu()
                if pdu is not None:
                    if self.auto_answer and isinstance(pdu, DeliverSm):
                        self.send(response_to(pdu), pdu.sequence_number)
                    return pdu
                data = await self.reader.read(65536)
                if not data:
                    return None
                self.decoder.feed(data)

    async def request(self, pdu: Request, sequence_number: int) -> Response:
        self.send(pdu, sequence_number)
        while True:
            got = await self.read()
            assert got is not None, "connection closed before the response"
            if isinstance(got, Response) and got.sequence_number == sequence_number:
                return got

    async def bind(self, system_id: str = "raw", password: str = "pw") -> Response:
        resp = await self.request(BindTransceiver(system_id=system_id, password=password), 1)
        assert resp.command_status == CommandStatus.ESME_ROK
        return resp

    async def closed(self, within: float = 2.0) -> bool:
        """Whether the peer closes the connection (reading and dropping PDUs until then)."""
        try:
            while True:
                if await self.read(within) is None:
                    self.close()
                    return True
        except ConnectionError:
            self.close()
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()
