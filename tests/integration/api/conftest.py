"""A real API server per test: uvicorn on an ephemeral loopback port, over SQLite and PostgreSQL.

PostgreSQL is the local server on 127.0.0.1:5432 (database ``test``), or
``MARCONI_TEST_DATABASE_URL``; each test gets a schema of its own, dropped afterwards. Where the
server cannot be reached the PostgreSQL half is skipped, except under CI=true, where it fails.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import asyncpg
import httpx
import pytest
import uvicorn
from tests.conftest import IN_CI

from marconi.api import ApiOptions, create_app
from marconi.config import load_settings
from marconi.errors import StoreError
from marconi.services import NewKey, Services, build_services
from marconi.store import open_store, run_migrations
from marconi.store.protocols import Store
from marconi.store.sql import SqlStore

PG_URL = os.environ.get("MARCONI_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


class FlakyStore:
    """The real store, until ``down`` is set: then every call fails as an outage would."""

    def __init__(self, inner: SqlStore) -> None:
        self.inner = inner
        self.down = False

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if not callable(attribute):
            return attribute

        async def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                raise StoreError("the database failed the write: ConnectionRefusedError")
            return await attribute(*args, **kwargs)

        return call


@dataclass
class Api:
    url: str
    services: Services
    store: FlakyStore
    admin_key: NewKey
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def client(self, key: NewKey | None = None, **kwargs: Any) -> httpx.AsyncClient:
        """An HTTP client, signed in with ``key`` (the admin's by default) as HTTP Basic."""
        key = key or self.admin_key
        client = httpx.AsyncClient(
            base_url=self.url, auth=(key.key.id, key.secret), timeout=10, **kwargs
        )
        self.clients.append(client)
        return client

    def anonymous(self) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=self.url, timeout=10)
        self.clients.append(client)
        return client


StartApi = Callable[..., Awaitable[Api]]


async def require_postgres() -> None:
    try:
        conn = await asyncpg.connect(PG_URL, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        message = f"PostgreSQL at {PG_URL} cannot be reached ({type(exc).__name__}: {exc})"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    await conn.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test starts from a copy (migrating costs more)."""
    path = tmp_path_factory.mktemp("template") / "marconi.db"
    asyncio.run(run_migrations(f"sqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str | None]:
    """One migrated schema for the session (None when PostgreSQL is unreachable); each test
    empties its tables first."""
    schema = f"t_{secrets.token_hex(6)}"
    try:
        asyncio.run(run_migrations(PG_URL, schema=schema))
    except Exception:  # reported by require_postgres in the test that needs it
        yield None
        return
    yield schema

    async def drop() -> None:
        conn = await asyncpg.connect(PG_URL)
        try:
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        finally:
            await conn.close()

    asyncio.run(drop())


async def empty_schema(schema: str) -> None:
    conn = await asyncpg.connect(PG_URL)
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename <> "
            "'alembic_version'",
            schema,
        )
        # DELETE is much cheaper than TRUNCATE for a few rows; foreign keys are not checked
        # while replication_role is replica, so the order does not matter.
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            for row in tables:
                await conn.execute(f'DELETE FROM "{schema}"."{row[0]}"')
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def start_api(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
    pg_schema: str | None,
) -> AsyncIterator[StartApi]:
    schema: str | None = None
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("api") / "marconi.db"
        shutil.copyfile(sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        await require_postgres()
        if pg_schema is None:
            pytest.fail(f"PostgreSQL at {PG_URL} could not be migrated")
        url = PG_URL
        schema = pg_schema
        await empty_schema(schema)
    stores: list[SqlStore] = []
    running: list[tuple[uvicorn.Server, asyncio.Task[None], Api]] = []

    async def start(options: ApiOptions | None = None) -> Api:
        store = await open_store(url, schema=schema)
        stores.append(store)
        flaky = FlakyStore(store)
        services = build_services(cast(Store, flaky))
        admin = await services.accounts.admin_account()
        key = await services.keys.create_key(admin.id, name="test")
        settings = load_settings(environ={}, overrides={"database_url": url})
        app = create_app(settings, services, options=options or ApiOptions(rate_limit=None))
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", ws="none"
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        api = Api(url=f"http://127.0.0.1:{port}", services=services, store=flaky, admin_key=key)
        running.append((server, task, api))
        return api

    try:
        yield start
    finally:
        for server, task, api in running:
            for client in api.clients:
                await client.aclose()
            server.should_exit = True
            await task
            await api.services.aclose()
        for store in stores:
            await store.aclose()


@pytest.fixture
async def api(start_api: StartApi) -> Api:
    return await start_api()
