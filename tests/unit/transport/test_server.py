from __future__ import annotations

import asyncio
import dataclasses
import struct
from collections.abc import AsyncIterator

import pytest
from tests.unit.transport.conftest import FakeSmsc, eventually

from marconi.errors import TransportError
from marconi.smpp import (
    BindReceiver,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    CommandStatus,
    Decoder,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    Pdu,
    Response,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnbindResp,
    encode,
)
from marconi.transport.memory import MemoryStream, memory_stream_pair
from marconi.transport.server import BaseHandler, SmppServer, SmppSession


class RawEsme:
    """Speaks to the server with hand-made bytes."""

    def __init__(self, server: SmppServer) -> None:
        self.stream, server_end = memory_stream_pair()
        self.task = asyncio.create_task(server.serve_stream(server_end))
        self.decoder = Decoder()
        self.seq = 0

    def send(self, pdu: Pdu) -> int:
        if pdu.sequence_number == 0:
            self.seq += 1
            pdu = dataclasses.replace(pdu, sequence_number=self.seq)
        self.stream.write(encode(pdu))
        return pdu.sequence_number

    async def receive(self) -> Pdu | None:
        """The next PDU, or None at end of stream."""
        while True:
            pdu = self.decoder.next_pdu()
            if pdu is not None:
                return pdu
            data = await asyncio.wait_for(self.stream.read(), 2)
            if not data:
                return None
            self.decoder.feed(data)

    async def bind(self, system_id: str = "acme", password: str = "secret") -> Response:
        self.send(BindTransceiver(system_id=system_id, password=password))
        resp = await self.receive()
        assert isinstance(resp, BindTransceiverResp)
        return resp


@pytest.fixture
async def server() -> AsyncIterator[SmppServer]:
    server = SmppServer(
        handler=FakeSmsc(), bind_timeout=0.2, enquire_link_interval=None, unbind_timeout=0.05
    )
    yield server
    await server.aclose()


def smsc(server: SmppServer) -> FakeSmsc:
    assert isinstance(server.handler, FakeSmsc)
    return server.handler


async def test_bind_then_submit(server: SmppServer) -> None:
    esme = RawEsme(server)
    resp = await esme.bind()
    assert resp.command_status == 0
    assert resp.system_id == "marconi"  # type: ignore[attr-defined]
    seq = esme.send(SubmitSm(source_addr="a", destination_addr="b"))
    answer = await esme.receive()
    assert isinstance(answer, SubmitSmResp)
    assert (answer.sequence_number, answer.message_id) == (seq, "M1")


async def test_refused_bind_leaves_the_session_open_for_another(server: SmppServer) -> None:
    esme = RawEsme(server)
    assert (await esme.bind(password="nope")).command_status == CommandStatus.ESME_RINVPASWD
    assert server.bound_sessions() == []
    assert (await esme.bind()).command_status == 0
    assert len(server.bound_sessions("acme")) == 1


async def test_submit_before_bind_is_refused(server: SmppServer) -> None:
    esme = RawEsme(server)
    esme.send(SubmitSm(source_addr="a", destination_addr="b"))
    answer = await esme.receive()
    assert isinstance(answer, SubmitSmResp)
    assert answer.command_status == CommandStatus.ESME_RINVBNDSTS
    assert smsc(server).submits == []


async def test_no_bind_in_time_closes_the_session(server: SmppServer) -> None:
    esme = RawEsme(server)
    assert await esme.receive() is None
    await asyncio.wait_for(esme.task, 1)
    assert smsc(server).closed[0][1] == "no bind in time"


async def test_enquire_link_and_unbind_are_answered(server: SmppServer) -> None:
    esme = RawEsme(server)
    await esme.bind()
    seq = esme.send(EnquireLink())
    answer = await esme.receive()
    assert isinstance(answer, EnquireLinkResp)
    assert answer.sequence_number == seq
    esme.send(Unbind())
    assert isinstance(await esme.receive(), UnbindResp)
    assert await esme.receive() is None
    await asyncio.wait_for(esme.task, 1)
    assert len(smsc(server).unbinds) == 1
    assert server.sessions == []


async def test_unknown_command_gets_generic_nack(server: SmppServer) -> None:
    esme = RawEsme(server)
    await esme.bind()
    esme.stream.write(struct.pack(">IIII", 16, 0x00000999, 0, 77))
    answer = await esme.receive()
    assert isinstance(answer, GenericNack)
    assert (answer.sequence_number, answer.command_status) == (77, CommandStatus.ESME_RINVCMDID)
    esme.send(SubmitSm(source_addr="a", destination_addr="b"))
    assert isinstance(await esme.receive(), SubmitSmResp)


async def test_broken_frame_closes_only_that_session(server: SmppServer) -> None:
    good, bad = RawEsme(server), RawEsme(server)
    await good.bind()
    await bad.bind(system_id="other")
    bad.stream.write(struct.pack(">IIII", 5, 4, 0, 1))  # command_length below the header
    answer = await bad.receive()
    assert isinstance(answer, GenericNack)
    assert answer.command_status == CommandStatus.ESME_RINVCMDLEN
    assert await bad.receive() is None
    good.send(SubmitSm(source_addr="a", destination_addr="b"))
    assert isinstance(await good.receive(), SubmitSmResp)


async def test_a_hook_that_raises_answers_system_error() -> None:
    class Broken(BaseHandler):
        async def handle_submit_sm(self, session: SmppSession, pdu: SubmitSm) -> int:
            raise RuntimeError("bug")

    server = SmppServer(handler=Broken(), enquire_link_interval=None, unbind_timeout=0.05)
    esme = RawEsme(server)
    await esme.bind()
    esme.send(SubmitSm(source_addr="a", destination_addr="b"))
    answer = await esme.receive()
    assert isinstance(answer, SubmitSmResp)
    assert answer.command_status == CommandStatus.ESME_RSYSERR
    esme.send(SubmitSm(source_addr="a", destination_addr="b"))
    assert (await esme.receive()).command_status == CommandStatus.ESME_RSYSERR  # type: ignore[union-attr]
    await server.aclose()


async def test_max_sessions_refuses_extra_connections() -> None:
    server = SmppServer(
        handler=FakeSmsc(), max_sessions=1, enquire_link_interval=None, unbind_timeout=0.05
    )
    first = RawEsme(server)
    await first.bind()
    second = RawEsme(server)
    assert await second.receive() is None
    assert server.sessions_refused == 1
    await server.aclose()


async def test_receive_window_throttles_a_flooding_esme() -> None:
    handler = FakeSmsc()
    handler.gate = asyncio.Event()
    server = SmppServer(
        handler=handler, receive_window=2, enquire_link_interval=None, unbind_timeout=0.05
    )
    esme = RawEsme(server)
    await esme.bind()
    for _ in range(3):
        esme.send(SubmitSm(source_addr="a", destination_addr="b"))
    answer = await esme.receive()
    assert isinstance(answer, SubmitSmResp)
    assert answer.command_status == CommandStatus.ESME_RTHROTTLED
    assert answer.sequence_number == 4
    handler.gate.set()
    assert [(await esme.receive()).command_status for _ in range(2)] == [0, 0]  # type: ignore[union-attr]
    await server.aclose()


async def test_registry_routes_to_receivers_round_robin(server: SmppServer) -> None:
    transmitter, receiver_a, receiver_b = RawEsme(server), RawEsme(server), RawEsme(server)
    transmitter.send(BindTransmitter(system_id="acme", password="secret"))
    receiver_a.send(BindReceiver(system_id="acme", password="secret"))
    receiver_b.send(BindTransceiver(system_id="acme", password="secret"))
    for esme in (transmitter, receiver_a, receiver_b):
        assert (await esme.receive()).command_status == 0  # type: ignore[union-attr]
    assert len(server.bound_sessions("acme")) == 3
    chosen = {server.receiver_for("acme") for _ in range(4)}
    assert len(chosen) == 2
    assert all(s is not None and s.can_receive for s in chosen)
    assert server.receiver_for("nobody") is None


async def test_deliver_to_a_raw_esme_and_aclose_unbinds_it(server: SmppServer) -> None:
    esme = RawEsme(server)
    await esme.bind()
    session = server.receiver_for("acme")
    assert session is not None
    delivery = asyncio.create_task(
        session.deliver(DeliverSm(source_addr="1", destination_addr="2"))
    )
    incoming = await esme.receive()
    assert isinstance(incoming, DeliverSm)
    esme.stream.write(encode(_resp(incoming)))
    assert (await delivery).command_status == 0
    closing = asyncio.create_task(server.aclose())
    unbind = await esme.receive()
    assert isinstance(unbind, Unbind)
    esme.stream.write(encode(UnbindResp(sequence_number=unbind.sequence_number)))
    await asyncio.wait_for(closing, 2)
    await eventually(lambda: esme.task.done())


def _resp(pdu: DeliverSm) -> Response:
    return DeliverSmResp(sequence_number=pdu.sequence_number)


class RecordingWaiter:
    """A Waiter that is not a future: records what the link resolved it with, and when."""

    def __init__(self) -> None:
        self.outcomes: list[Response | BaseException] = []

    def done(self) -> bool:
        return bool(self.outcomes)

    def set_result(self, result: Response, /) -> None:
        self.outcomes.append(result)

    def set_exception(self, exception: BaseException, /) -> None:
        self.outcomes.append(exception)


async def test_deliver_into_resolves_a_plain_waiter_as_the_response_is_read(
    server: SmppServer,
) -> None:
    esme = RawEsme(server)
    await esme.bind()
    session = server.receiver_for("acme")
    assert session is not None
    answered, refused, cut_off = RecordingWaiter(), RecordingWaiter(), RecordingWaiter()
    for waiter in (answered, refused, cut_off):
        session.deliver_into(DeliverSm(source_addr="1", destination_addr="2"), waiter)
    first, second, third = [await esme.receive() for _ in range(3)]
    assert isinstance(first, DeliverSm)
    assert isinstance(second, DeliverSm)
    assert isinstance(third, DeliverSm)
    esme.stream.write(encode(_resp(first)))
    esme.stream.write(
        encode(
            DeliverSmResp(
                sequence_number=second.sequence_number,
                command_status=CommandStatus.ESME_RX_T_APPN,
            )
        )
    )
    await eventually(lambda: refused.done())
    assert [type(o) for o in answered.outcomes] == [DeliverSmResp]
    assert [o.command_status for o in refused.outcomes] == [CommandStatus.ESME_RX_T_APPN]  # type: ignore[union-attr]
    assert not cut_off.done()
    esme.stream.close()  # the third never gets an answer: the connection ends first
    await eventually(lambda: cut_off.done())
    assert len(cut_off.outcomes) == 1
    assert isinstance(cut_off.outcomes[0], TransportError)
    late = RecordingWaiter()
    session.deliver_into(DeliverSm(source_addr="1", destination_addr="2"), late)
    assert len(late.outcomes) == 1
    assert isinstance(late.outcomes[0], TransportError)


async def test_a_long_batch_is_answered_in_growing_flushes() -> None:
    server = SmppServer(
        handler=FakeSmsc(), enquire_link_interval=None, unbind_timeout=0.05, flush_every=4
    )
    esme = RawEsme(server)
    await esme.bind()
    flushes: list[int] = []
    session = server.sessions[0]
    stream = session.stream
    assert isinstance(stream, MemoryStream)
    stream.flush = lambda: flushes.append(len(smsc(server).submits))  # type: ignore[method-assign]
    esme.stream.write(
        b"".join(
            encode(SubmitSm(sequence_number=i, source_addr="a", destination_addr="b"))
            for i in range(10, 50)
        )
    )
    answers = [await esme.receive() for _ in range(40)]
    assert all(isinstance(a, SubmitSmResp) and a.command_status == 0 for a in answers)
    assert flushes == [4, 8, 16, 32]
    await server.aclose()


@pytest.mark.parametrize(
    "kwargs",
    [{"window": 0}, {"receive_window": 0}, {"bind_timeout": 0.0}, {"enquire_link_interval": -1.0}],
)
def test_constructor_checks_its_arguments(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        SmppServer(**kwargs)  # type: ignore[arg-type]


async def test_a_hook_that_never_returns_does_not_hold_up_aclose() -> None:
    handler = FakeSmsc()
    handler.gate = asyncio.Event()  # never set
    server = SmppServer(handler=handler, enquire_link_interval=None, unbind_timeout=0.05)
    esme = RawEsme(server)
    await esme.bind()
    esme.send(SubmitSm(source_addr="a", destination_addr="b"))
    await eventually(lambda: len(handler.submits) == 1)
    await asyncio.wait_for(server.aclose(), 2)
    await asyncio.wait_for(esme.task, 1)
    assert server.sessions == []
