"""The small byte-stream interface the SMPP shells run on, and its TCP (and TLS) implementation.

The client and the server never touch sockets: they read and write an :class:`AsyncStream`, and get
one from a :class:`Connector` (client side) or from a listener (server side). Tests swap in the
in-memory streams of :mod:`marconi.transport.memory` and run without a socket.

Writes are buffered and coalesced: every :meth:`AsyncStream.write` made during one turn of the event
loop goes out in a single ``transport.write`` at the start of the next, so a burst of PDUs costs one
system call, not one each. :meth:`AsyncStream.drain` is the flow control: it waits while the kernel
and transport buffers are above their high-water mark.
"""

from __future__ import annotations

import asyncio
import socket
import ssl as _ssl
from collections.abc import Callable
from typing import Protocol, cast

from marconi.errors import ConnectError, TransportError

__all__ = [
    "AsyncStream",
    "Connector",
    "TcpConnector",
    "TcpListener",
    "TcpStream",
    "open_tcp_stream",
    "start_tcp_listener",
]

# Received bytes kept before the socket stops being read (the reader is behind).
READ_HIGH_WATER: int = 1 << 20


class AsyncStream(Protocol):
    """A bidirectional byte stream (TCP, TLS, or in memory)."""

    async def read(self) -> bytes:
        """Whatever has arrived (waiting until something has); ``b""`` at end of stream."""
        ...

    def write(self, data: bytes) -> None:
        """Queue ``data``; it is sent within one turn of the event loop. Never blocks.

        Raises :class:`~marconi.errors.TransportError` once the stream is closed.
        """
        ...

    async def drain(self) -> None:
        """Wait until the peer has taken enough of what was written (flow control)."""
        ...

    def flush(self) -> None:
        """Send what is queued now rather than at the next turn of the loop."""
        ...

    def close(self) -> None:
        """Send what is queued, then close; returns at once."""
        ...

    def abort(self) -> None:
        """Close now, dropping whatever is queued."""
        ...

    async def aclose(self) -> None:
        """Send what is queued, close, and wait (briefly) until the stream is closed."""
        ...

    @property
    def closed(self) -> bool:
        """True once the stream is closed in both directions or aborted."""
        ...

    def get_extra_info(self, name: str, default: object = None) -> object:
        """Transport details: ``peername``, ``sockname``, ``ssl_object``, ``peercert``…"""
        ...


class Connector(Protocol):
    """Opens client streams; the SMPP client is given one."""

    async def connect(
        self,
        host: str,
        port: int,
        *,
        ssl: _ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        connect_timeout: float | None = None,
    ) -> AsyncStream: ...


class TcpStream(asyncio.Protocol):
    """An :class:`AsyncStream` over an asyncio transport (TCP, or TLS over TCP)."""

    def __init__(self, *, close_timeout: float = 5.0) -> None:
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._close_timeout = close_timeout
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._reading_paused = False
        self._eof = False
        self._read_waiter: asyncio.Future[None] | None = None
        self._out: list[bytes] = []
        self._flush_scheduled = False
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._closing = False
        self._lost: asyncio.Future[None] = self._loop.create_future()
        self._error: BaseException | None = None

    # asyncio.Protocol callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered > READ_HIGH_WATER and not self._reading_paused:
            self._reading_paused = True
            assert self._transport is not None
            self._transport.pause_reading()
        self._wake_reader()

    def eof_received(self) -> bool | None:
        self._eof = True
        self._wake_reader()
        # Returning a false value closes our side too: SMPP has no half-closed sessions.
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self._error = exc
        self._out.clear()
        self._wake_reader()
        self._wake_drainer()
        if not self._lost.done():
            self._lost.set_result(None)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._wake_drainer()

    # AsyncStream

    async def read(self) -> bytes:
        while not self._chunks:
            if self._eof:
                return b""
            waiter = self._loop.create_future()
            self._read_waiter = waiter
            try:
                await waiter
            finally:
                self._read_waiter = None
        chunks = self._chunks
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self._buffered = 0
        if self._reading_paused and self._transport is not None and not self._eof:
            self._reading_paused = False
            self._transport.resume_reading()
        return data

    def write(self, data: bytes) -> None:
        if self._closing or self._lost.done():
            raise TransportError("the stream is closed")
        self._out.append(data)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def flush(self) -> None:
        self._flush()

    def _flush(self) -> None:
        self._flush_scheduled = False
        out = self._out
        if not out or self._transport is None or self._lost.done():
            out.clear()
            return
        data = out[0] if len(out) == 1 else b"".join(out)
        out.clear()
        self._transport.write(data)

    async def drain(self) -> None:
        while self._write_paused and not self._lost.done():
            waiter = self._loop.create_future()
            self._drain_waiter = waiter
            try:
                await waiter
            finally:
                self._drain_waiter = None
        if self._lost.done() and self._error is not None:
            raise TransportError(f"connection lost: {self._error}") from self._error

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._flush()
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        self._closing = True
        self._out.clear()
        if self._transport is not None:
            self._transport.abort()

    async def aclose(self) -> None:
        self.close()
        try:
            await asyncio.wait_for(asyncio.shield(self._lost), self._close_timeout)
        except TimeoutError:
            self.abort()

    @property
    def closed(self) -> bool:
        return self._lost.done()

    def get_extra_info(self, name: str, default: object = None) -> object:
        if self._transport is None:
            return default
        return self._transport.get_extra_info(name, default)

    def _wake_reader(self) -> None:
        waiter = self._read_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake_drainer(self) -> None:
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


async def open_tcp_stream(
    host: str,
    port: int,
    *,
    ssl: _ssl.SSLContext | None = None,
    server_hostname: str | None = None,
    connect_timeout: float | None = None,
) -> TcpStream:
    """Connect to ``host:port`` (with TLS when ``ssl`` is given); :class:`ConnectError` if not."""
    loop = asyncio.get_running_loop()
    if ssl is not None and server_hostname is None:
        server_hostname = host
    try:
        async with asyncio.timeout(connect_timeout):
            _, protocol = await loop.create_connection(
                TcpStream,
                host,
                port,
                ssl=ssl,
                server_hostname=server_hostname if ssl is not None else None,
            )
    except TimeoutError as exc:
        raise ConnectError(
            f"connecting to {host}:{port} timed out after {connect_timeout} s"
        ) from exc
    except (OSError, _ssl.SSLError) as exc:
        raise ConnectError(f"cannot connect to {host}:{port}: {exc}") from exc
    return protocol


class TcpConnector:
    """The real network: :func:`open_tcp_stream` behind the :class:`Connector` interface."""

    async def connect(
        self,
        host: str,
        port: int,
        *,
        ssl: _ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        connect_timeout: float | None = None,
    ) -> AsyncStream:
        return await open_tcp_stream(
            host, port, ssl=ssl, server_hostname=server_hostname, connect_timeout=connect_timeout
        )


class TcpListener:
    """A listening socket that hands each accepted connection, as a stream, to a callback."""

    def __init__(self, server: asyncio.Server) -> None:
        self._server = server

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        return tuple(self._server.sockets)

    @property
    def port(self) -> int:
        """The port actually bound (useful after listening on port 0)."""
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def close(self) -> None:
        """Stop accepting; connections already accepted are left alone."""
        self._server.close()

    async def aclose(self) -> None:
        self._server.close()
        # wait_closed() also waits for accepted connections, which are not ours to wait for.
        await asyncio.sleep(0)


async def start_tcp_listener(
    on_connect: Callable[[TcpStream], None],
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    ssl: _ssl.SSLContext | None = None,
    backlog: int = 256,
    ssl_handshake_timeout: float | None = None,
) -> TcpListener:
    """Listen on ``host:port``; ``on_connect`` is called with each new stream, from the loop."""
    loop = asyncio.get_running_loop()

    def factory() -> TcpStream:
        return _AcceptedStream(on_connect)

    server = await loop.create_server(
        factory,
        host,
        port,
        ssl=ssl,
        backlog=backlog,
        reuse_address=True,
        ssl_handshake_timeout=ssl_handshake_timeout if ssl is not None else None,
    )
    return TcpListener(server)


class _AcceptedStream(TcpStream):
    def __init__(self, on_connect: Callable[[TcpStream], None]) -> None:
        super().__init__()
        self._on_connect = on_connect

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._on_connect(self)
