"""Run the Alembic migrations that ship inside the package."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from marconi.store.engine import Dialect, async_url, create_engines, dialect_of

__all__ = ["MIGRATIONS", "alembic_config", "head_revision", "run_migrations", "schema_revision"]

MIGRATIONS: Final = Path(__file__).parent / "migrations"
# Any constant will do: nodes starting together migrate one at a time.
_LOCK_KEY: Final = 0x4D41524B


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def run_migrations(
    database_url: str, *, schema: str | None = None, revision: str = "head"
) -> None:
    """Bring the database to ``revision`` (the newest by default); safe to call on every start."""
    url = async_url(database_url)
    writer, reader = create_engines(url, schema=schema, pool_size=1)
    try:
        async with writer.begin() as conn:
            if dialect_of(url) is Dialect.POSTGRESQL:
                if schema is not None:
                    await conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
            await conn.run_sync(_upgrade, revision)
    finally:
        await writer.dispose()
        await reader.dispose()


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def schema_revision(conn: AsyncConnection) -> str | None:
    """The revision the database is at, None when it was never migrated."""
    return await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
