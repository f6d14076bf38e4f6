from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from marconi.smpp import CommandStatus, SubmitSm, SubmitSmResp
from marconi.transport.backoff import Backoff
from marconi.transport.client import SmppClient
from marconi.transport.memory import MemoryConnector
from marconi.transport.server import BaseHandler, Bind, SmppServer, SmppSession

FAST_BACKOFF = Backoff(initial=0.01, maximum=0.05, jitter=0.0)


class FakeSmsc(BaseHandler):
    """Accepts the password "secret", answers submits with sequential ids, records everything."""

    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.submits: list[SubmitSm] = []
        self.bound: list[SmppSession] = []
        self.closed: list[tuple[SmppSession, str]] = []
        self.unbinds: list[SmppSession] = []
        self.statuses: list[int] = []  # answered, in order, before falling back to ESME_ROK
        self.gate: asyncio.Event | None = None  # when set up, submits wait for it

    async def authenticate(self, session: SmppSession, bind: Bind) -> int:
        if bind.password != "secret":
            return CommandStatus.ESME_RINVPASWD
        return CommandStatus.ESME_ROK

    async def session_bound(self, session: SmppSession) -> None:
        self.bound.append(session)

    async def handle_submit_sm(self, session: SmppSession, pdu: SubmitSm) -> SubmitSmResp | int:
        self.submits.append(pdu)
        if self.gate is not None:
            await self.gate.wait()
        if self.statuses:
            status = self.statuses.pop(0)
            if status:
                return status
        return SubmitSmResp(message_id=f"M{next(self.ids)}")

    async def handle_unbind(self, session: SmppSession) -> None:
        self.unbinds.append(session)

    async def session_closed(self, session: SmppSession, reason: str) -> None:
        self.closed.append((session, reason))


def submit_pdu(i: int = 0, **kwargs: Any) -> SubmitSm:
    return SubmitSm(
        source_addr="Marconi",
        destination_addr=f"4915{i:08d}",
        short_message=b"hello %d" % i,
        **kwargs,
    )


class Rig:
    """An SmppServer reached through in-memory streams, and clients bound to it."""

    def __init__(self, **server_kwargs: Any) -> None:
        self.smsc = FakeSmsc()
        self.server = SmppServer(handler=self.smsc, **server_kwargs)
        self.network = MemoryConnector(self.server.serve_stream)
        self.clients: list[SmppClient] = []

    def client(self, **kwargs: Any) -> SmppClient:
        kwargs.setdefault("system_id", "acme")
        kwargs.setdefault("password", "secret")
        kwargs.setdefault("backoff", FAST_BACKOFF)
        client = SmppClient(host="smsc.test", port=2775, connector=self.network, **kwargs)
        self.clients.append(client)
        return client

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()
        await self.server.aclose()
        await self.network.aclose()


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    rig = Rig()
    yield rig
    await rig.aclose()


async def eventually(predicate: Callable[[], bool], within: float = 2.0) -> None:
    """Poll ``predicate`` until it holds; state changes here have no event to wait on."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.001)
