"""What the end-to-end tests run on: the whole service in-process (real uvicorn on loopback,
real SMPP to the simulator, the real webhook worker) and a tiny HTTP receiver for webhooks."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvicorn

from marconi.config import Settings, load_settings
from marconi.runtime import Runtime

Answer = Callable[["Hook"], tuple[int, str, bytes]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class Hook:
    """One webhook request as received."""

    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class WebhookReceiver:
    """An HTTP/1.1 server with keep-alive on loopback that records every request and answers
    with ``answer(hook)`` (204 by default)."""

    answer: Answer | None = None
    hooks: list[Hook] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                _method, path, _version = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                hook = Hook(path=path, headers=headers, body=body)
                status, content_type, answer = (
                    (204, "text/plain", b"") if self.answer is None else self.answer(hook)
                )
                writer.write(
                    f"HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\n"
                    f"content-length: {len(answer)}\r\n\r\n".encode()
                    + answer
                )
                await writer.drain()
                async with self._arrived:
                    self.hooks.append(hook)
                    self._arrived.notify_all()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def wait_for(self, predicate: Callable[[Hook], bool], within: float = 5.0) -> Hook:
        async with asyncio.timeout(within), self._arrived:
            while True:
                for hook in self.hooks:
                    if predicate(hook):
                        return hook
                await self._arrived.wait()


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield


@dataclass
class Service:
    runtime: Runtime
    url: str
    client: httpx.AsyncClient

    @property
    def simulator(self) -> Any:
        connector = self.runtime.connectors["simulator"]
        return connector.simulator  # type: ignore[union-attr]

    async def wait_status(self, message_id: str, status: str, within: float = 5.0) -> Any:
        async with asyncio.timeout(within):
            while True:
                got = (await self.client.get(f"/v1/messages/{message_id}")).json()
                if got["status"] == status:
                    return got
                await asyncio.sleep(0.02)


def settings_for(tmp: Path, toml: str | None = None) -> Settings:
    config = None
    if toml is not None:
        config = tmp / "marconi.toml"
        config.write_text(toml)
    return load_settings(
        config_file=config,
        environ={},
        overrides={"data_dir": str(tmp / "data"), "port": free_port()},
    )


@contextlib.asynccontextmanager
async def running(
    settings: Settings, *, auth: httpx.Auth | tuple[str, str] | None = None
) -> AsyncIterator[Service]:
    """The service on ``settings``, with a client authenticated as the admin's first key (or as
    ``auth``, for a store whose admin was made earlier)."""
    runtime = await Runtime.build(settings)
    await runtime.start()
    server = _Server(
        uvicorn.Config(
            runtime.app,
            host=settings.host,
            port=settings.port,
            lifespan="off",
            log_level="warning",
            loop="none",
        )
    )
    task = asyncio.create_task(server.serve())
    url = f"http://{settings.host}:{settings.port}"
    try:
        async with asyncio.timeout(5):
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no event
                await asyncio.sleep(0.01)
            await runtime.wait_links()
        if auth is None:
            boot = runtime.bootstrap
            assert boot is not None
            assert boot.key is not None
            auth = (boot.key.key.id, boot.key.secret)
        async with httpx.AsyncClient(base_url=url, auth=auth, timeout=10) as client:
            yield Service(runtime=runtime, url=url, client=client)
    finally:
        server.should_exit = True
        await task
        await runtime.aclose()
