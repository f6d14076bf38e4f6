"""In-memory streams and a connector over them: the SMPP client and server without sockets.

Shipped with the package so that applications can test against :class:`SmppServer` or with
:class:`SmppClient` in memory too::

    network = MemoryConnector(server.serve_stream)   # each connect() runs a server session
    client = SmppClient(host="smsc", port=2775, ..., connector=network)
"""

from __future__ import annotations

import asyncio
import ssl as _ssl
from collections.abc import Awaitable, Callable

from marconi.errors import ConnectError, TransportError
from marconi.transport.stream import AsyncStream

__all__ = ["MemoryConnector", "MemoryStream", "memory_stream_pair"]


class MemoryStream:
    """One end of an in-memory stream pair; what one end writes, the other reads."""

    def __init__(self, *, high_water: int = 1 << 16, name: str = "memory") -> None:
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._eof = False
        self._closed = False
        self._read_waiter: asyncio.Future[None] | None = None
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._high_water = high_water
        self._peer: MemoryStream | None = None
        self._name = name
        self.written = 0

    # What the peer does to us

    def _feed(self, data: bytes) -> None:
        if self._closed:
            return
        self._chunks.append(data)
        self._buffered += len(data)
        self._wake_reader()

    def _feed_eof(self) -> None:
        self._eof = True
        self._wake_reader()

    def _wake_reader(self) -> None:
        waiter = self._read_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake_drainers(self) -> None:
        waiters, self._drain_waiters = self._drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    # AsyncStream

    async def read(self) -> bytes:
        while not self._chunks:
            if self._eof or self._closed:
                return b""
            waiter = asyncio.get_running_loop().create_future()
            self._read_waiter = waiter
            try:
                await waiter
            finally:
                self._read_waiter = None
        chunks = self._chunks
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self._buffered = 0
        if self._peer is not None:
            self._peer._wake_drainers()
        return data

    def write(self, data: bytes) -> None:
        if self._closed:
            raise TransportError("the stream is closed")
        if self._peer is not None and data:
            self.written += len(data)
            self._peer._feed(data)

    def flush(self) -> None:
        """Writes are delivered at once; nothing to do."""

    async def drain(self) -> None:
        peer = self._peer
        while peer is not None and not self._closed and not peer._closed:
            if peer._buffered <= self._high_water:
                return
            waiter = asyncio.get_running_loop().create_future()
            self._drain_waiters.append(waiter)
            await waiter
        if self._closed:
            raise TransportError("the stream is closed")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._chunks.clear()
        self._wake_reader()
        self._wake_drainers()
        peer = self._peer
        if peer is not None:
            peer._feed_eof()
            peer._wake_drainers()

    def abort(self) -> None:
        self.close()

    async def aclose(self) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def get_extra_info(self, name: str, default: object = None) -> object:
        if name == "peername":
            return (self._peer._name if self._peer is not None else self._name, 0)
        if name == "sockname":
            return (self._name, 0)
        return default


def memory_stream_pair(
    *, high_water: int = 1 << 16, names: tuple[str, str] = ("client", "server")
) -> tuple[MemoryStream, MemoryStream]:
    """Two connected streams."""
    left = MemoryStream(high_water=high_water, name=names[0])
    right = MemoryStream(high_water=high_water, name=names[1])
    left._peer = right
    right._peer = left
    return left, right


class MemoryConnector:
    """A :class:`~marconi.transport.stream.Connector` whose connections are in-memory pairs.

    Each successful ``connect()`` hands the other end to ``on_connect`` (run as a task: typically
    ``server.serve_stream``), or, without it, puts it on :attr:`accepted` for the test to drive.
    ``refuse`` makes the next that many attempts fail with :class:`ConnectError`.
    """

    def __init__(
        self,
        on_connect: Callable[[MemoryStream], Awaitable[None]] | None = None,
        *,
        refuse: int = 0,
    ) -> None:
        self._on_connect = on_connect
        self.refuse = refuse
        self.attempts = 0
        self.streams: list[MemoryStream] = []
        self.accepted: asyncio.Queue[MemoryStream] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()

    async def connect(
        self,
        host: str,
        port: int,
        *,
        ssl: _ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        connect_timeout: float | None = None,
    ) -> AsyncStream:
        self.attempts += 1
        await asyncio.sleep(0)
        if self.refuse > 0:
            self.refuse -= 1
            raise ConnectError(f"connection to {host}:{port} refused")
        client, server = memory_stream_pair()
        self.streams.append(client)
        if self._on_connect is None:
            self.accepted.put_nowait(server)
        else:
            task = asyncio.get_running_loop().create_task(self._serve(server, self._on_connect))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return client

    @staticmethod
    async def _serve(
        stream: MemoryStream, on_connect: Callable[[MemoryStream], Awaitable[None]]
    ) -> None:
        try:
            await on_connect(stream)
        finally:
            stream.close()

    async def aclose(self) -> None:
        """Cancel the server sides still running."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
