"""A PostgreSQL outage: calls fail fast with StoreError, and the store recovers by itself.

The store talks to PostgreSQL through a TCP relay on loopback that the test can cut (dropping
every connection and refusing new ones) and restore on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import asyncpg
import pytest
from tests.integration.store.conftest import PG_URL, T0, require_postgres
from tests.integration.store.factory import new_message

from marconi.errors import StoreError
from marconi.store import open_store, run_migrations
from marconi.store.sql import SqlStore


class Relay:
    """Forwards loopback TCP to PostgreSQL until cut."""

    def __init__(self, target_port: int) -> None:
        self._target_port = target_port
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        await self._server.wait_closed()
        self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._target_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}


@pytest.fixture
async def relayed_store() -> AsyncIterator[tuple[Relay, SqlStore]]:
    await require_postgres()
    parts = urlsplit(PG_URL)
    relay = Relay(parts.port or 5432)
    await relay.start()
    schema = f"t_{secrets.token_hex(6)}"
    await run_migrations(PG_URL, schema=schema)
    url = PG_URL.replace(parts.netloc, f"{parts.username}@127.0.0.1:{relay.port}")
    store = await open_store(url, schema=schema)
    try:
        yield relay, store
    finally:
        await store.aclose()
        with contextlib.suppress(Exception):
            await relay.cut()
        conn = await asyncpg.connect(PG_URL)
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()


async def test_outage_fails_fast_then_recovers(relayed_store: tuple[Relay, SqlStore]) -> None:
    relay, store = relayed_store
    account = await store.create_account(name="acme", now=T0)
    before = await store.insert_message(new_message(account.id), now=T0)

    await relay.cut()
    loop = asyncio.get_running_loop()
    started = loop.time()
    results = await asyncio.gather(
        *(store.insert_message(new_message(account.id), now=T0) for _ in range(20)),
        store.get_message(account.id, before.id),
        return_exceptions=True,
    )
    assert all(isinstance(r, StoreError) for r in results), results
    assert loop.time() - started < 5  # clear errors quickly, no hanging requests

    await relay.start()  # the database is back, on the same address
    recovered = None
    for _ in range(50):
        try:
            recovered = await store.insert_message(new_message(account.id), now=T0)
            break
        except StoreError:
            await asyncio.sleep(0.1)
    assert recovered is not None
    assert await store.get_message(account.id, recovered.id) == recovered
    page = await store.list_messages(account.id, limit=100)
    assert {m.id for m in page.items} == {before.id, recovered.id}  # nothing half-written
