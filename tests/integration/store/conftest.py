"""The ``store`` fixture: every contract test runs once on SQLite and once on PostgreSQL.

PostgreSQL is the local server on 127.0.0.1:5432 (database ``test``, trust auth), or
``MARCONI_TEST_DATABASE_URL``. Each test gets a schema of its own, dropped afterwards. Where the
server cannot be reached the PostgreSQL half is skipped, except under CI=true, where it fails.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from tests.conftest import IN_CI

from marconi.store import open_store, run_migrations
from marconi.store.sql import SqlStore

PG_URL = os.environ.get("MARCONI_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

OpenStore = Callable[..., Awaitable[SqlStore]]


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
        await require_postgres()
        url = PG_URL
        schema = f"t_{secrets.token_hex(6)}"
        await run_migrations(url, schema=schema)

    async def open_one(**options: Any) -> SqlStore:
        store = await open_store(url, schema=schema, **options)
        opened.append(store)
        return store

    try:
        yield open_one
    finally:
        for store in opened:
            await store.aclose()
        if schema is not None:
            conn = await asyncpg.connect(PG_URL)
            try:
                await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
            finally:
                await conn.close()


@pytest.fixture
async def store(open_stores: OpenStore) -> SqlStore:
    return await open_stores()
