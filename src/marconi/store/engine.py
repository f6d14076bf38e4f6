"""Database URLs and engines, with the connection settings each dialect needs."""

from __future__ import annotations

import enum
import re
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from marconi.errors import ConfigError

__all__ = ["Dialect", "async_url", "create_engines", "dialect_of", "sqlite_path"]

_SCHEMA_NAME: Final = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class Dialect(enum.StrEnum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


def async_url(database_url: str) -> URL:
    """``sqlite:///…`` → ``sqlite+aiosqlite``, ``postgresql://`` (or ``postgres://``) → asyncpg."""
    try:
        url = sa.make_url(database_url)
    except sa.exc.ArgumentError:
        raise ConfigError(f"database_url {database_url!r} is not a database URL") from None
    backend = url.drivername.split("+", 1)[0]
    if backend == "sqlite":
        if url.database in (None, "", ":memory:"):
            raise ConfigError(
                "database_url must name a SQLite file; in-memory databases are not shared"
            )
        return url.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+asyncpg")
    raise ConfigError(f"database_url must be sqlite:/// or postgresql://, got {backend}://")


def dialect_of(url: URL) -> Dialect:
    return Dialect.SQLITE if url.drivername.startswith("sqlite") else Dialect.POSTGRESQL


def sqlite_path(url: URL) -> Path:
    assert url.database is not None
    return Path(url.database)


def create_engines(
    url: URL,
    *,
    synchronous: str = "normal",
    schema: str | None = None,
    pool_size: int = 8,
) -> tuple[AsyncEngine, AsyncEngine]:
    """The engine writes go through and the engine reads use (the same one on PostgreSQL).

    SQLite gets exactly one writer connection, so writes never wait on SQLite's lock, and a pool
    of readers, which see committed data without blocking the writer (WAL).
    """
    if dialect_of(url) is Dialect.SQLITE:
        if synchronous not in ("normal", "full"):
            raise ConfigError(f"sqlite synchronous must be normal or full, got {synchronous!r}")
        sqlite_path(url).parent.mkdir(parents=True, exist_ok=True)
        # Every use ends in an explicit commit or rollback: no reset needed on return.
        writer = create_async_engine(url, pool_size=1, max_overflow=0, pool_reset_on_return=None)
        # The writer never checkpoints: a commit that has to copy the WAL back into the
        # database (and sync it) would stall every caller of its batch. SqlStore checkpoints
        # from a thread of its own instead.
        _sqlite_setup(
            writer,
            synchronous=synchronous,
            begin="BEGIN IMMEDIATE",
            pragmas=("PRAGMA wal_autocheckpoint=0",),
        )
        reader = create_async_engine(url, pool_size=pool_size, max_overflow=0)
        _sqlite_setup(reader, synchronous=synchronous, begin="BEGIN")
        return writer, reader
    # Statements are prepared once per connection and run with lists of ids of every size;
    # PostgreSQL's generic plans for them go wrong on tables that grew since the last ANALYZE
    # (sequential scans per row). Planning each execution costs far less than that.
    server_settings = {"plan_cache_mode": "force_custom_plan"}
    if schema is not None:
        if not _SCHEMA_NAME.match(schema):
            raise ConfigError(f"schema name {schema!r} must be lower-case letters, digits and _")
        server_settings["search_path"] = schema
    connect_args: dict[str, Any] = {"server_settings": server_settings}
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=10,
        connect_args=connect_args,
    )
    return engine, engine


def _sqlite_setup(
    engine: AsyncEngine, *, synchronous: str, begin: str, pragmas: tuple[str, ...] = ()
) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take transactions into our own hands (see the "begin" hook) instead of pysqlite's.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            f"PRAGMA synchronous={synchronous.upper()}",
            "PRAGMA busy_timeout=10000",
            "PRAGMA foreign_keys=ON",
            "PRAGMA temp_store=MEMORY",
            "PRAGMA cache_size=-65536",
            *pragmas,
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql(begin)
