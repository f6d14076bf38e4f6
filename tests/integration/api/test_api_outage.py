"""A real PostgreSQL outage, made by cutting a loopback TCP proxy between the store and the server:
writes and readiness answer 503 ``database_unavailable`` while it lasts, and the service recovers
by itself once the database is back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import cast

import httpx
import pytest
import uvicorn
from tests.integration.api.conftest import PG_URL, empty_schema, require_postgres

from marconi.api import ApiOptions, create_app
from marconi.config import load_settings
from marconi.services import build_services
from marconi.store import open_store
from marconi.store.protocols import Store

TO = "+14155550100"


class CuttableProxy:
    """Forwards loopback connections to PostgreSQL until cut; while cut, refuses them."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.cut = False
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            sink.close()
            self._writers.discard(sink)

    def down(self) -> None:
        self.cut = True
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def up(self) -> None:
        self.cut = False

    async def aclose(self) -> None:
        self.down()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@pytest.fixture
async def proxy(pg_schema: str | None) -> AsyncIterator[tuple[CuttableProxy, str, str]]:
    await require_postgres()
    if pg_schema is None:
        pytest.fail(f"PostgreSQL at {PG_URL} could not be migrated")
    await empty_schema(pg_schema)
    port = int(PG_URL.rsplit(":", 1)[1].split("/", 1)[0])
    cuttable = CuttableProxy(port)
    local = await cuttable.start()
    url = PG_URL.replace(f":{port}/", f":{local}/")
    try:
        yield cuttable, url, pg_schema
    finally:
        await cuttable.aclose()


async def test_an_outage_is_503_and_the_service_recovers_by_itself(
    proxy: tuple[CuttableProxy, str, str],
) -> None:
    cuttable, url, schema = proxy
    store = await open_store(url, schema=schema)
    services = build_services(cast(Store, store))
    admin = await services.accounts.admin_account()
    key = await services.keys.create_key(admin.id)
    app = create_app(
        load_settings(environ={}, overrides={"database_url": url}),
        services,
        options=ApiOptions(rate_limit=None),
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical", lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn has no event for it
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    client = httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", auth=(key.key.id, key.secret), timeout=30
    )
    try:
        assert (await client.post("/v1/messages", json={"to": TO, "body": "1"})).status_code == 201

        cuttable.down()
        for i in range(5):
            response = await client.post("/v1/messages", json={"to": TO, "body": f"down {i}"})
            assert response.status_code == 503, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["code"] == "database_unavailable"
        burst = await asyncio.gather(
            *(client.post("/v1/messages", json={"to": TO, "body": "load"}) for _ in range(50))
        )
        assert {r.status_code for r in burst} == {503}
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["code"] == "database_unavailable"
        await asyncio.sleep(1.1)  # past the key cache: authenticating needs the database too
        unauthenticated = await client.get("/v1/messages")
        assert unauthenticated.status_code == 503

        cuttable.up()
        deadline = time.monotonic() + 15
        while True:
            response = await client.post("/v1/messages", json={"to": TO, "body": "back"})
            if response.status_code == 201 or time.monotonic() > deadline:
                break
            assert response.status_code == 503
            await asyncio.sleep(0.2)
        assert response.status_code == 201
        assert (await client.get("/readyz")).status_code == 200
        burst = await asyncio.gather(
            *(client.post("/v1/messages", json={"to": TO, "body": "again"}) for _ in range(50))
        )
        assert {r.status_code for r in burst} == {201}
        page = (await client.get("/v1/messages", params={"limit": 100})).json()
        bodies = sorted(m["body"] for m in page["items"])
        assert bodies == sorted(["1", "back"] + ["again"] * 50)  # nothing from the outage
    finally:
        await client.aclose()
        server.should_exit = True
        await serving
        await services.aclose()
        await store.aclose()
