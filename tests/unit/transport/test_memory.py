from __future__ import annotations

import asyncio

import pytest

from marconi.errors import ConnectError, TransportError
from marconi.transport.memory import MemoryConnector, MemoryStream, memory_stream_pair


async def test_what_one_end_writes_the_other_reads() -> None:
    left, right = memory_stream_pair()
    left.write(b"abc")
    left.write(b"def")
    assert await right.read() == b"abcdef"
    right.write(b"x")
    assert await left.read() == b"x"


async def test_read_waits_for_data() -> None:
    left, right = memory_stream_pair()
    reader = asyncio.create_task(right.read())
    await asyncio.sleep(0)
    assert not reader.done()
    left.write(b"late")
    assert await reader == b"late"


async def test_close_gives_eof_to_the_peer_and_refuses_writes() -> None:
    left, right = memory_stream_pair()
    left.write(b"last words")
    left.close()
    assert left.closed
    assert await right.read() == b"last words"
    assert await right.read() == b""
    with pytest.raises(TransportError):
        left.write(b"more")


async def test_drain_waits_until_the_peer_reads() -> None:
    left, right = memory_stream_pair(high_water=4)
    left.write(b"0123456789")
    drain = asyncio.create_task(left.drain())
    await asyncio.sleep(0)
    assert not drain.done()
    assert await right.read() == b"0123456789"
    await asyncio.wait_for(drain, 1)


async def test_drain_returns_when_the_peer_goes_away() -> None:
    left, right = memory_stream_pair(high_water=1)
    left.write(b"xx")
    drain = asyncio.create_task(left.drain())
    await asyncio.sleep(0)
    right.close()
    await asyncio.wait_for(drain, 1)


async def test_connector_refuses_then_connects_and_serves() -> None:
    served: list[bytes] = []

    async def echo(stream: MemoryStream) -> None:
        data = await stream.read()
        served.append(data)
        stream.write(data.upper())

    connector = MemoryConnector(echo, refuse=2)
    for _ in range(2):
        with pytest.raises(ConnectError):
            await connector.connect("smsc", 2775)
    stream = await connector.connect("smsc", 2775)
    stream.write(b"hello")
    assert await stream.read() == b"HELLO"
    assert await stream.read() == b""  # the server side closes when its handler returns
    assert served == [b"hello"]
    assert connector.attempts == 3
    await connector.aclose()


async def test_connector_without_handler_queues_server_ends() -> None:
    connector = MemoryConnector()
    client = await connector.connect("smsc", 2775)
    server = connector.accepted.get_nowait()
    server.write(b"hi")
    assert await client.read() == b"hi"
    assert server.get_extra_info("peername") == ("client", 0)
