from __future__ import annotations

import asyncio

import pytest

from marconi.errors import ConnectError, TransportError
from marconi.transport.stream import TcpListener, TcpStream, open_tcp_stream, start_tcp_listener


async def echo_listener() -> tuple[TcpListener, list[TcpStream], set[asyncio.Task[None]]]:
    accepted: list[TcpStream] = []
    tasks: set[asyncio.Task[None]] = set()

    async def echo(stream: TcpStream) -> None:
        while data := await stream.read():
            stream.write(data)
        stream.close()

    def on_connect(stream: TcpStream) -> None:
        accepted.append(stream)
        tasks.add(asyncio.create_task(echo(stream)))

    listener = await start_tcp_listener(on_connect, host="127.0.0.1", port=0)
    return listener, accepted, tasks


async def test_echo_round_trip_and_coalesced_writes() -> None:
    listener, accepted, tasks = await echo_listener()
    assert isinstance(listener.port, int)
    stream = await open_tcp_stream("127.0.0.1", listener.port, connect_timeout=5)
    for i in range(100):
        stream.write(b"%03d" % i)
    expected = b"".join(b"%03d" % i for i in range(100))
    received = b""
    while len(received) < len(expected):
        received += await asyncio.wait_for(stream.read(), 5)
    assert received == expected
    assert stream.get_extra_info("peername")[1] == listener.port  # type: ignore[index]
    await stream.aclose()
    assert stream.closed
    with pytest.raises(TransportError):
        stream.write(b"after close")
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert len(accepted) == 1
    await listener.aclose()


async def test_peer_close_reads_as_eof() -> None:
    listener, accepted, tasks = await echo_listener()
    stream = await open_tcp_stream("127.0.0.1", listener.port, connect_timeout=5)
    await asyncio.sleep(0.05)
    accepted[0].abort()
    assert await asyncio.wait_for(stream.read(), 5) == b""
    await stream.aclose()
    await asyncio.gather(*tasks, return_exceptions=True)
    await listener.aclose()


async def test_large_write_is_flow_controlled() -> None:
    listener, _, tasks = await echo_listener()
    stream = await open_tcp_stream("127.0.0.1", listener.port, connect_timeout=5)
    block = b"x" * 65536
    total = 64 * len(block)

    async def consume() -> int:
        seen = 0
        while seen < total:
            data = await stream.read()
            assert data
            seen += len(data)
        return seen

    consumer = asyncio.create_task(consume())
    for _ in range(64):
        stream.write(block)
        await stream.drain()
    assert await asyncio.wait_for(consumer, 10) == total
    await stream.aclose()
    await asyncio.gather(*tasks, return_exceptions=True)
    await listener.aclose()


async def test_refused_connection_is_a_connect_error() -> None:
    listener, _, _ = await echo_listener()
    port = listener.port
    await listener.aclose()
    await asyncio.sleep(0.01)
    with pytest.raises(ConnectError, match="cannot connect"):
        await open_tcp_stream("127.0.0.1", port, connect_timeout=5)
