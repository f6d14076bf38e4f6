"""Our client and our server over loopback TCP (and TLS)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator

import pytest
from tests.integration.transport.certs import TlsFiles
from tests.unit.transport.conftest import eventually

from marconi.errors import ConnectError, TransportError
from marconi.smpp import (
    CommandStatus,
    DeliverSm,
    EsmClass,
    SubmitSm,
    SubmitSmResp,
    Tag,
    Tlvs,
)
from marconi.transport import (
    Backoff,
    BaseHandler,
    Bind,
    BindType,
    SmppClient,
    SmppServer,
    SmppSession,
    client_ssl_context,
    server_ssl_context,
)

FAST = Backoff(initial=0.01, maximum=0.05, jitter=0.0)


class Smsc(BaseHandler):
    """Sequential message ids; a receipt for every submit that asks for one."""

    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.submitted = 0
        self.gate: asyncio.Event | None = None

    async def authenticate(self, session: SmppSession, bind: Bind) -> int:
        return 0 if bind.password == "secret" else CommandStatus.ESME_RINVPASWD

    async def handle_submit_sm(self, session: SmppSession, pdu: SubmitSm) -> SubmitSmResp:
        self.submitted += 1
        if self.gate is not None:
            await self.gate.wait()
        message_id = f"{next(self.ids):x}"
        if pdu.registered_delivery & 1:
            receiver = session.server.receiver_for(session.system_id or "")
            if receiver is not None:
                receiver.deliver_nowait(
                    DeliverSm(
                        source_addr=pdu.destination_addr,
                        destination_addr=pdu.source_addr,
                        esm_class=EsmClass.SMSC_DELIVERY_RECEIPT,
                        short_message=b"id:" + message_id.encode() + b" stat:DELIVRD err:000",
                        tlvs=Tlvs({Tag.RECEIPTED_MESSAGE_ID: message_id, Tag.MESSAGE_STATE: 2}),
                    )
                )
        return SubmitSmResp(message_id=message_id)


@pytest.fixture
async def smsc_server() -> AsyncIterator[SmppServer]:
    server = SmppServer(handler=Smsc(), port=0, unbind_timeout=0.5)
    await server.start()
    yield server
    await server.aclose()


def make_client(server: SmppServer, **kwargs: object) -> SmppClient:
    return SmppClient(
        host="127.0.0.1",
        port=server.port,
        system_id="acme",
        password="secret",
        backoff=FAST,
        **kwargs,  # type: ignore[arg-type]
    )


def submit(i: int, registered_delivery: int = 0) -> SubmitSm:
    return SubmitSm(
        source_addr="Marconi",
        destination_addr=f"4915{i:08d}",
        short_message=b"hello %d" % i,
        registered_delivery=registered_delivery,
    )


@pytest.mark.parametrize("bind_type", list(BindType))
async def test_each_bind_type(smsc_server: SmppServer, bind_type: BindType) -> None:
    async with make_client(smsc_server, bind_type=bind_type) as client:
        assert [s.bind_type for s in smsc_server.bound_sessions("acme")] == [bind_type]
        if bind_type is BindType.RECEIVER:
            with pytest.raises(Exception, match="cannot send submit_sm"):
                await client.submit(submit(1))
        else:
            assert (await client.submit(submit(1))).message_id == "1"


async def test_receipts_come_back_on_a_transceiver(smsc_server: SmppServer) -> None:
    receipts: dict[str, DeliverSm] = {}

    async def on_deliver_sm(pdu: DeliverSm) -> int:
        message_id = pdu.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID)
        assert message_id is not None
        receipts[message_id] = pdu
        return 0

    async with make_client(smsc_server, on_deliver_sm=on_deliver_sm, window=16) as client:
        results = await client.submit_many([submit(i, 1) for i in range(500)])
        ids = {r.message_id for r in results if isinstance(r, SubmitSmResp)}
        assert len(ids) == 500
        await eventually(lambda: len(receipts) >= 500, within=5)
        assert set(receipts) == ids


async def test_receipts_go_to_a_separate_receiver_bind(smsc_server: SmppServer) -> None:
    got: list[str] = []

    async def on_deliver_sm(pdu: DeliverSm) -> int:
        got.append(pdu.tlvs.get_str(Tag.RECEIPTED_MESSAGE_ID) or "")
        return 0

    async with (
        make_client(smsc_server, bind_type=BindType.TRANSMITTER) as transmitter,
        make_client(smsc_server, bind_type=BindType.RECEIVER, on_deliver_sm=on_deliver_sm),
    ):
        resp = await transmitter.submit(submit(7, 1))
        await eventually(lambda: bool(got), within=5)
        assert got == [resp.message_id]


async def test_window_of_n_outstanding_with_a_slow_server(smsc_server: SmppServer) -> None:
    handler = smsc_server.handler
    assert isinstance(handler, Smsc)
    handler.gate = asyncio.Event()
    async with make_client(smsc_server, window=8) as client:
        tasks = [asyncio.create_task(client.submit(submit(i))) for i in range(20)]
        await eventually(lambda: handler.submitted >= 1 and client.outstanding >= 8, within=5)
        await asyncio.sleep(0.05)
        assert client.outstanding == 8
        assert handler.submitted == 1  # the server handles one at a time, the rest are queued
        handler.gate.set()
        assert len({r.message_id for r in await asyncio.gather(*tasks)}) == 20


async def test_throughput_is_honoured_over_tcp(smsc_server: SmppServer) -> None:
    async with make_client(smsc_server, throughput=200) as client:
        start = time.monotonic()
        await client.submit_many([submit(i) for i in range(41)])
        elapsed = time.monotonic() - start
    assert 0.19 <= elapsed < 0.8


async def test_server_drop_fails_in_flight_and_the_client_rebinds(
    smsc_server: SmppServer,
) -> None:
    handler = smsc_server.handler
    assert isinstance(handler, Smsc)
    handler.gate = asyncio.Event()
    binds: list[str] = []
    client = make_client(smsc_server, window=10, on_bound=lambda c: binds.append("bound"))
    await client.connect()
    tasks = [asyncio.create_task(client.submit(submit(i))) for i in range(15)]
    await eventually(lambda: client.outstanding >= 10, within=5)
    smsc_server.bound_sessions("acme")[0].stream.abort()
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)
    assert all(isinstance(r, TransportError) for r in results)
    handler.gate.set()
    await asyncio.wait_for(client.wait_bound(), 5)
    assert binds == ["bound", "bound"]
    assert (await client.submit(submit(99))).message_id
    await client.aclose()


async def test_graceful_unbind(smsc_server: SmppServer) -> None:
    client = make_client(smsc_server)
    await client.connect()
    assert len(smsc_server.sessions) == 1
    await client.aclose()
    await eventually(lambda: not smsc_server.sessions, within=5)
    assert smsc_server.sessions == []


async def test_connection_refused_is_a_connect_error() -> None:
    server = SmppServer(port=0)
    await server.start()
    port = server.port
    await server.aclose()
    client = SmppClient(host="127.0.0.1", port=port, system_id="a", password="b", reconnect=False)
    with pytest.raises(ConnectError):
        await client.connect()


async def test_tls_bind_and_submit(tls_files: TlsFiles) -> None:
    server = SmppServer(
        handler=Smsc(),
        port=0,
        ssl=server_ssl_context(certfile=tls_files.cert, keyfile=tls_files.key),
    )
    await server.start()
    try:
        async with SmppClient(
            host="127.0.0.1",
            port=server.port,
            system_id="acme",
            password="secret",
            ssl=client_ssl_context(cafile=tls_files.ca_cert),
        ) as client:
            assert (await client.submit(submit(1))).message_id == "1"
            [session] = server.bound_sessions("acme")
            assert session.stream.get_extra_info("ssl_object") is not None
    finally:
        await server.aclose()


async def test_throttled_answers_are_retried_over_tcp() -> None:
    class Throttling(Smsc):
        def __init__(self) -> None:
            super().__init__()
            self.refusals = 2

        async def handle_submit_sm(self, session: SmppSession, pdu: SubmitSm) -> SubmitSmResp:
            if self.refusals:
                self.refusals -= 1
                return SubmitSmResp(command_status=CommandStatus.ESME_RTHROTTLED)
            return await super().handle_submit_sm(session, pdu)

    server = SmppServer(handler=Throttling(), port=0, unbind_timeout=0.5)
    await server.start()
    try:
        pause = Backoff(initial=0.05, maximum=0.05, jitter=0.0)
        async with make_client(server, throttle_backoff=pause) as client:
            start = time.monotonic()
            assert (await client.submit(submit(1))).message_id == "1"
            assert time.monotonic() - start >= 0.1
    finally:
        await server.aclose()


async def test_keepalive_over_tcp_keeps_both_ends_bound() -> None:
    server = SmppServer(handler=Smsc(), port=0, enquire_link_interval=0.05, unbind_timeout=0.5)
    await server.start()
    try:
        async with make_client(server, enquire_link_interval=0.05, response_timeout=0.5) as client:
            session = smsc_session(server)
            await asyncio.sleep(0.4)  # idle: only enquire_link crosses the wire
            assert session.enquire_links >= 3
            assert client.bound
            assert session.bound
            assert (await client.submit(submit(2))).message_id == "1"
    finally:
        await server.aclose()


def smsc_session(server: SmppServer) -> SmppSession:
    [session] = server.bound_sessions("acme")
    return session
