"""The ``store`` fixture: every contract test runs once on SQLite and once on PostgreSQL.

PostgreSQL is the local server on 127.0.0.1:5432 (database ``test``, trust auth), or
``MARCONI_TEST_DATABASE_URL``. Each run migrates a schema of its own (so runs never meet), each
test starts with its tables empty, and the schema is dropped at the end. Where the server cannot
be reached the PostgreSQL half is skipped, except under CI=true, where it fails.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncpg
import pytest
from tests.conftest import IN_CI

from marconi.store import open_store, run_migrations
from marconi.store.schema import metadata
from marconi.store.sql import SqlStore

PG_URL = os.environ.get("MARCONI_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

OpenStore = Callable[..., Awaitable[SqlStore]]
R = TypeVar("R")


async def _pg_reachable() -> str | None:
    try:
        conn = await asyncpg.connect(PG_URL, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


async def require_postgres() -> None:
    problem = await _pg_reachable()
    if problem is None:
        return
    message = f"PostgreSQL at {PG_URL} cannot be reached ({problem})"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    """One migrated schema for the whole run; each test empties it first."""
    problem = _in_thread(_pg_reachable)
    if problem is not None:
        message = f"PostgreSQL at {PG_URL} cannot be reached ({problem})"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    schema = f"t_{secrets.token_hex(6)}"
    _in_thread(lambda: run_migrations(PG_URL, schema=schema))
    yield schema
    _in_thread(lambda: _execute(f'DROP SCHEMA "{schema}" CASCADE'))


def _in_thread(make: Callable[[], Coroutine[Any, Any, R]]) -> R:
    """Run a coroutine to the end on a loop of its own, also from inside a running loop."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


async def _execute(sql: str) -> None:
    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def open_stores(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[OpenStore]:
    """Opens stores over one fresh database; the first call migrates it."""
    opened: list[SqlStore] = []
    schema: str | None = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'marconi.db'}"
    else:
        url = PG_URL
        schema = request.getfixturevalue("pg_schema")
        tables = ", ".join(f'"{schema}"."{t.name}"' for t in metadata.sorted_tables)
        await _execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")

    async def open_one(**options: Any) -> SqlStore:
        store = await open_store(url, schema=schema, **options)
        opened.append(store)
        return store

    try:
        yield open_one
    finally:
        for store in opened:
            await store.aclose()


@pytest.fixture
async def store(open_stores: OpenStore) -> SqlStore:
    return await open_stores()
