"""Random and mutated bytes sent to the server over TCP never stop it serving others."""

from __future__ import annotations

import asyncio
import logging
import random
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marconi.smpp import (
    BindTransceiver,
    CommandStatus,
    Decoder,
    DeliverSm,
    EnquireLink,
    GenericNack,
    Pdu,
    SubmitSm,
    SubmitSmResp,
    encode,
)
from marconi.transport import BaseHandler, SmppClient, SmppServer, SmppSession, open_tcp_stream

VALID = [
    encode(BindTransceiver(sequence_number=1, system_id="fuzz", password="x")),
    encode(SubmitSm(sequence_number=2, source_addr="a", destination_addr="b", short_message=b"hi")),
    encode(EnquireLink(sequence_number=3)),
    encode(DeliverSm(sequence_number=4, source_addr="c", destination_addr="d")),
    struct.pack(">IIII", 16, 0x80000004, 0, 9),  # a response nobody asked for
]


class Handler(BaseHandler):
    async def handle_submit_sm(self, session: SmppSession, pdu: SubmitSm) -> SubmitSmResp:
        return SubmitSmResp(message_id="1")


def mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        choice = rng.random()
        if choice < 0.5 and buf:
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        elif choice < 0.7 and buf:
            del buf[rng.randrange(len(buf)) :]
        else:
            buf[rng.randrange(len(buf) + 1) : 0] = bytes(rng.randrange(256) for _ in range(4))
    return bytes(buf)


async def exchange(port: int, payload: bytes) -> list[Pdu]:
    """Send ``payload``, then read what comes back until the server closes or goes quiet."""
    stream = await open_tcp_stream("127.0.0.1", port, connect_timeout=5)
    decoder = Decoder()
    answers: list[Pdu] = []
    stream.write(payload)
    try:
        while True:
            try:
                data = await asyncio.wait_for(stream.read(), 0.05)
            except TimeoutError:
                break
            if not data:
                break
            decoder.feed(data)
            while True:
                try:
                    pdu = decoder.next_pdu()
                except Exception:
                    pdu = None
                    break
                if pdu is None:
                    break
                answers.append(pdu)
    finally:
        stream.abort()
    return answers


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    prefix=st.lists(st.sampled_from(VALID), max_size=3),
    garbage=st.binary(max_size=300),
    seed=st.integers(0, 2**32),
)
def test_server_survives_garbage(prefix: list[bytes], garbage: bytes, seed: int) -> None:
    asyncio.run(_survive(prefix, garbage, seed))


class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def _survive(prefix: list[bytes], garbage: bytes, seed: int) -> None:
    errors = ErrorLog()
    logging.getLogger("marconi").addHandler(errors)
    try:
        await _exercise(prefix, garbage, seed)
    finally:
        logging.getLogger("marconi").removeHandler(errors)
    assert [r.getMessage() for r in errors.records] == []


async def _exercise(prefix: list[bytes], garbage: bytes, seed: int) -> None:
    rng = random.Random(seed)
    server = SmppServer(handler=Handler(), port=0, unbind_timeout=0.05, bind_timeout=1.0)
    await server.start()
    try:
        async with SmppClient(
            host="127.0.0.1", port=server.port, system_id="good", password="pw", reconnect=False
        ) as good:
            payload = b"".join(prefix) + mutate(b"".join(VALID), rng) + garbage
            answers = await exchange(server.port, payload)
            for answer in answers:
                if isinstance(answer, GenericNack):
                    assert answer.command_status in (
                        CommandStatus.ESME_RINVCMDID,
                        CommandStatus.ESME_RINVCMDLEN,
                    )
            # the bound session next door never noticed
            assert (await good.submit(SubmitSm(source_addr="a", destination_addr="b"))).ok
            assert good.bound
    finally:
        await server.aclose()
