"""The migrations build exactly the schema the code describes, on both databases."""

from __future__ import annotations

import asyncio
import secrets

import asyncpg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from tests.integration.store.conftest import PG_URL, T0, require_postgres
from tests.integration.store.factory import new_message

from marconi.errors import StoreError
from marconi.store import open_store, run_migrations
from marconi.store.engine import async_url, create_engines
from marconi.store.schema import metadata
from marconi.store.sql import SqlStore

# Alembic cannot compare indexes on expressions (priority DESC); checked by name instead.
EXPRESSION_INDEXES = {"ix_messages_queue"}


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return [
        d
        for d in compare_metadata(context, metadata)
        if not (
            isinstance(d, tuple) and d[0].endswith("_index") and d[1].name in EXPRESSION_INDEXES
        )
    ]


def _index_names(connection: Connection) -> set[str]:
    return {i["name"] for i in sa.inspect(connection).get_indexes("messages") if i["name"]}


async def test_migrated_schema_matches_the_metadata(store: SqlStore) -> None:
    async with store._read_engine.connect() as conn:
        diff = await conn.run_sync(_diff)
        indexes = await conn.run_sync(_index_names)
    assert diff == []
    assert indexes >= EXPRESSION_INDEXES


async def test_migrations_are_repeatable(tmp_path: pytest.TempPathFactory) -> None:
    url = f"sqlite:///{tmp_path}/m.db"
    await run_migrations(url)
    await run_migrations(url)  # a second start finds nothing to do
    store = await open_store(url, migrate=False)
    await store.aclose()


async def test_an_unmigrated_postgresql_is_refused_with_a_hint() -> None:
    await require_postgres()
    schema = f"t_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(PG_URL)
    await conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        with pytest.raises(StoreError, match="marconi migrate"):
            await open_store(PG_URL, schema=schema)
    finally:
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()


async def test_sqlite_runs_in_wal_mode(tmp_path: pytest.TempPathFactory) -> None:
    url = f"sqlite:///{tmp_path}/w.db"
    await run_migrations(url)
    writer, reader = create_engines(async_url(url), synchronous="full")
    try:
        async with writer.connect() as conn:
            mode = await conn.exec_driver_sql("PRAGMA journal_mode")
            assert mode.scalar() == "wal"
            sync = await conn.exec_driver_sql("PRAGMA synchronous")
            assert sync.scalar() == 2  # FULL
            fk = await conn.exec_driver_sql("PRAGMA foreign_keys")
            assert fk.scalar() == 1
    finally:
        await writer.dispose()
        await reader.dispose()


def _wal_restarts(path: str) -> int:
    """The checkpoint sequence number of a WAL file's header: how often it was started over."""
    with open(path, "rb") as wal:
        header = wal.read(32)
    return int.from_bytes(header[12:16], "big")


async def test_the_store_checkpoints_the_wal_itself(tmp_path: pytest.TempPathFactory) -> None:
    path = f"{tmp_path}/c.db"
    store = await open_store(f"sqlite:///{path}")
    try:
        account = await store.create_account(name="a", now=T0)

        async def write_some() -> None:
            for _ in range(5):
                await store.insert_messages([new_message(account.id) for _ in range(200)], now=T0)

        await write_some()
        assert await asyncio.to_thread(_wal_restarts, f"{path}-wal") == 0
        await asyncio.sleep(1.2)  # the checkpointer runs every half second
        await write_some()
        # The writer never checkpoints (wal_autocheckpoint=0), so only the store's own
        # checkpoints let it start the WAL over, which the WAL header counts.
        assert await asyncio.to_thread(_wal_restarts, f"{path}-wal") >= 1
    finally:
        await store.aclose()
